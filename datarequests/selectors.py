"""Reads of the data-request log: who may see which request, the clocks, the dashboard's list, and the
requests an agreement serves. A constant number of queries per list, whatever its length."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from agreements import selectors as agreement_selectors
from agreements.models import Agreement, Organisation
from datarequests import clocks, workflow
from datarequests.models import DataRequest, ResponseTargets

VIEW_ALL = "datarequests.view_datarequest"
# A target due within this many working days is "nearing".
NEARING_WORKING_DAYS = 3


def sees_every_request(user: Any) -> bool:
    return user.is_authenticated and (user.is_superuser or user.has_perm(VIEW_ALL))


def request_list(
    *,
    user: Any,
    status: str = "",
    organisation: Organisation | None = None,
    search: str = "",
) -> QuerySet[DataRequest]:
    """The requests the user may see: all for the IG team and auditors; for a partner contact, those made by
    one of their organisations. Nothing for anyone else, and nothing is ever public."""
    queryset = DataRequest.objects.select_related("responder", "handler").prefetch_related("requesters")
    if not user.is_authenticated:
        return queryset.none()
    if not sees_every_request(user):
        partner_of = agreement_selectors.organisations_for_partner(user=user)
        queryset = queryset.filter(requesters__in=partner_of).distinct()
    if status:
        queryset = queryset.filter(status=status)
    if organisation is not None:
        queryset = queryset.filter(requesters=organisation).distinct()
    if search.strip():
        term = search.strip()
        queryset = queryset.filter(title__icontains=term) | queryset.filter(reference__iexact=term)
    return queryset


def request_with_relations(queryset: QuerySet[DataRequest]) -> QuerySet[DataRequest]:
    return queryset.select_related("responder", "handler", "raised_at").prefetch_related(
        "requesters", "events", "discussed_at", "line_items__agreements", "line_items__decisions"
    )


def _targets(organisation_ids: set[int]) -> dict[int, ResponseTargets]:
    return {t.organisation_id: t for t in ResponseTargets.objects.filter(organisation_id__in=organisation_ids)}


def request_clock(request: DataRequest, *, today: dt.date | None = None) -> clocks.Clock:
    targets = _targets({request.responder_id}).get(request.responder_id) or ResponseTargets()
    return clocks.request_clock(
        request,
        today=today or timezone.localdate(),
        acknowledge_days=targets.acknowledge_days,
        decide_days=targets.decide_days,
    )


@dataclass(frozen=True)
class Attention:
    request: DataRequest
    target: clocks.Target
    past: bool


def requests_needing_attention(*, user: Any | None, today: dt.date | None = None) -> list[Attention]:
    """Open requests (not waiting on the requester) whose acknowledgement or decision target is due within
    NEARING_WORKING_DAYS working days or already past, most urgent first: those the user may see, or every one for
    the system (user None: the reminder e-mails)."""
    today = today or timezone.localdate()
    visible = DataRequest.objects.all() if user is None else request_list(user=user)
    running = visible.filter(
        status__in=workflow.OPEN_STATUSES - workflow.PAUSED_STATUSES - {"decided", "agreement_pending"}
    )
    running = running.prefetch_related("events")
    requests = list(running)
    targets = _targets({r.responder_id for r in requests})
    result = []
    for request in requests:
        own = targets.get(request.responder_id) or ResponseTargets()
        clock = clocks.request_clock(
            request,
            today=today,
            events=list(request.events.all()),
            acknowledge_days=own.acknowledge_days,
            decide_days=own.decide_days,
        )
        pending = [t for t in (clock.acknowledge, clock.decide) if t.met_on is None]
        for target in pending:
            if target.remaining <= NEARING_WORKING_DAYS:
                result.append(Attention(request, target, past=target.missed))
                break
    return sorted(result, key=lambda a: (a.target.remaining, a.request.received_on))


def requests_serving(*, agreement: Agreement, user: Any) -> QuerySet[DataRequest]:
    """The requests (that the user may see) with a line item fulfilled under this agreement."""
    return request_list(user=user).filter(line_items__agreements=agreement).distinct()


def request_or_none(*, user: Any, pk: int) -> DataRequest | None:
    return request_with_relations(request_list(user=user)).filter(pk=pk).first()


def line_items_with_decisions(request: DataRequest) -> list[Any]:
    from datarequests.models import Decision

    return list(
        request.line_items.prefetch_related(
            "agreements",
            Prefetch("decisions", queryset=Decision.objects.select_related("proposed_by", "approved_by")),
        )
    )
