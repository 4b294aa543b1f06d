"""Reads of the register. Views and other apps read through these, never through ad-hoc querysets."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from guardian.shortcuts import get_objects_for_user

from agreements.models import Agreement, AuditEvent, Organisation, Party

PARTNER_PERMISSION = "agreements.act_for_organisation"


def organisations_for_partner(*, user: Any) -> QuerySet[Organisation]:
    """Organisations the user is a partner contact for (object permission, directly or through a group)."""
    return get_objects_for_user(user, PARTNER_PERMISSION, klass=Organisation, accept_global_perms=False)


def agreement_list(*, user: Any) -> QuerySet[Agreement]:
    """Agreements the user may see: all of them for the IG team and auditors (the global view permission);
    for a partner contact, only those on which one of their organisations is a party. A constant number of
    queries, whatever the number of rows."""
    queryset = Agreement.objects.all()
    if not user.is_authenticated:
        return queryset.none()
    if user.is_superuser or user.has_perm("agreements.view_agreement"):
        return queryset
    organisations = organisations_for_partner(user=user)
    return queryset.filter(parties__organisation__in=organisations).distinct()


def agreement_with_relations(queryset: QuerySet[Agreement]) -> QuerySet[Agreement]:
    return queryset.select_related("parent", "owner").prefetch_related(
        Prefetch("parties", queryset=Party.objects.select_related("organisation")),
        "datasets",
        "purposes",
    )


def agreements_ending(*, within_days: int, today: dt.date | None = None) -> QuerySet[Agreement]:
    today = today or timezone.localdate()
    return Agreement.objects.filter(
        status=Agreement.Status.ACTIVE,
        end_date__gte=today,
        end_date__lte=today + dt.timedelta(days=within_days),
    ).order_by("end_date")


def agreements_review_overdue(*, today: dt.date | None = None) -> QuerySet[Agreement]:
    today = today or timezone.localdate()
    return Agreement.objects.filter(status=Agreement.Status.ACTIVE, review_date__lt=today).order_by("review_date")


def sub_licences_publishable(*, on: dt.date | None = None) -> QuerySet[Agreement]:
    """Sub-licences that are active and public on the day: the rows of the Sub Licence Release Register."""
    on = on or timezone.localdate()
    return (
        Agreement.objects.filter(kind=Agreement.Kind.SUB_LICENCE, status=Agreement.Status.ACTIVE, is_public=True)
        .filter(start_date__lte=on)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=on))
        .prefetch_related(Prefetch("parties", queryset=Party.objects.select_related("organisation")))
    )


def audit_events_for_agreement(*, agreement: Agreement) -> QuerySet[AuditEvent]:
    return agreement.audit_events.select_related("actor")
