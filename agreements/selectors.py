"""Reads of the register. Views and other apps read through these, never through ad-hoc querysets."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from guardian.shortcuts import get_objects_for_user

from agreements import rules
from agreements.models import Agreement, Dataset, Linkage, Organisation, Party
from audit.models import AuditEvent

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


def approvers_besides(*, agreement: Agreement) -> list[Any]:
    """Active people who could approve the agreement: every approver but its last editor (four eyes)."""
    from django.contrib.auth import get_user_model

    from agreements import workflow

    permission = workflow.STEPS[workflow.APPROVE].permission or ""
    users = get_user_model().objects.with_perm(
        permission, is_active=True, include_superusers=False, backend="django.contrib.auth.backends.ModelBackend"
    )
    if agreement.last_edited_by_id is not None:
        users = users.exclude(pk=agreement.last_edited_by_id)
    return list(users.order_by("username"))


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


def _sub_licences_in_force(on: dt.date) -> QuerySet[Agreement]:
    """Active, public sub-licences in their dates, with what the chain and assurance rules read."""
    return (
        Agreement.objects.filter(kind=Agreement.Kind.SUB_LICENCE, status=Agreement.Status.ACTIVE, is_public=True)
        .filter(start_date__lte=on)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=on))
        .select_related("parent")
        .prefetch_related(
            Prefetch("parties", queryset=Party.objects.select_related("organisation")),
            "datasets",
            "parent__datasets",
            # Read by the register's public entries (publishing.registers.public_entry).
            "purposes",
        )
    )


@dataclass(frozen=True)
class SubLicenceViolations:
    chain: list[rules.Violation]
    assurance: list[rules.Violation]

    @property
    def messages(self) -> list[str]:
        return [violation.message for violation in [*self.chain, *self.assurance]]

    def __bool__(self) -> bool:
        return bool(self.chain or self.assurance)


def _violations(sub_licence: Agreement, on: dt.date) -> SubLicenceViolations:
    parent_datasets = sub_licence.parent.datasets.all() if sub_licence.parent else []
    return SubLicenceViolations(
        chain=rules.sub_licence_chain_violations(
            sub_licence, datasets=sub_licence.datasets.all(), parent_datasets=parent_datasets
        ),
        assurance=rules.sub_licence_assurance_violations(sub_licence, on=on),
    )


def sub_licence_violations(*, sub_licence: Agreement, on: dt.date | None = None) -> SubLicenceViolations:
    """Every chain and partner-assurance rule the sub-licence breaks on the day (today unless given)."""
    on = on or timezone.localdate()
    sub_licence = (
        Agreement.objects.select_related("parent")
        .prefetch_related(
            Prefetch("parties", queryset=Party.objects.select_related("organisation")),
            "datasets",
            "parent__datasets",
        )
        .get(pk=sub_licence.pk)
    )
    return _violations(sub_licence, on)


@dataclass(frozen=True)
class DroppedSubLicence:
    """A sub-licence that is active and public but may not be published. `public_reason` is safe for the public
    register's "what changed"; `messages` are for the IG team only."""

    agreement: Agreement
    reference: str
    rule: str
    public_reason: str
    messages: list[str]


def sub_licences_dropped(*, on: dt.date | None = None) -> list[DroppedSubLicence]:
    """Active, public sub-licences that sub_licences_publishable leaves out on the day, and why."""
    on = on or timezone.localdate()
    dropped = []
    for agreement in _sub_licences_in_force(on):
        violations = _violations(agreement, on)
        if violations:
            rule = "chain" if violations.chain else "assurance"
            dropped.append(
                DroppedSubLicence(
                    agreement=agreement,
                    reference=agreement.reference,
                    rule=rule,
                    public_reason=rules.PUBLIC_DROP_REASONS[rule],
                    messages=violations.messages,
                )
            )
    return sorted(dropped, key=lambda d: d.agreement.sub_licence_sort_key)


def sub_licences_publishable(*, on: dt.date | None = None) -> QuerySet[Agreement]:
    """The rows of the Sub Licence Release Register: sub-licences that are active and public on the day, whose
    chain to the parent agreement holds and whose partner's assurance is current (see agreements.rules)."""
    on = on or timezone.localdate()
    dropped = [d.agreement.pk for d in sub_licences_dropped(on=on)]
    return _sub_licences_in_force(on).exclude(pk__in=dropped)


# The kinds of agreement the Information Sharing Register ("Organisations we share data with") lists.
INFORMATION_SHARING_KINDS = [Agreement.Kind.ISA, Agreement.Kind.DSA, Agreement.Kind.STATUTORY_RETURN]


def information_sharing_publishable(*, on: dt.date | None = None) -> QuerySet[Agreement]:
    """The rows of the Information Sharing Register: information sharing agreements, data sharing agreements and
    statutory returns that are active, public and in their dates on the day. Parties (with their organisations)
    and purposes are prefetched, so the register reads them in a constant number of queries."""
    on = on or timezone.localdate()
    return (
        Agreement.objects.filter(kind__in=INFORMATION_SHARING_KINDS, status=Agreement.Status.ACTIVE, is_public=True)
        .filter(start_date__lte=on)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=on))
        .prefetch_related(Prefetch("parties", queryset=Party.objects.select_related("organisation")), "purposes")
        .order_by("reference")
    )


def audit_events_by_actor(*, user: Any) -> QuerySet[AuditEvent]:
    """A person's own changes, newest first, with the record each one was about."""
    return AuditEvent.objects.filter(actor=user).select_related("subject_type").prefetch_related("subject")


def audit_events_for_agreement(*, agreement: Agreement) -> QuerySet[AuditEvent]:
    return agreement.audit_events.select_related("actor")


# ---------------------------------------------------------------------------------------------------------
# Linkages of non-health data

LINKAGE_AGREEMENT_KINDS = [requirement.kind for requirement in rules.LINKAGE_AGREEMENTS]


def linkage_list() -> QuerySet[Linkage]:
    return Linkage.objects.select_related("icb", "provider", "processor")


def _with_rule_inputs(linkages: QuerySet[Linkage]) -> QuerySet[Linkage]:
    return linkages.prefetch_related(
        "purposes", Prefetch("datasets", queryset=Dataset.objects.select_related("provider"))
    )


def linkage_checklists(*, linkages: Iterable[Linkage], on: dt.date | None = None) -> list[rules.Checklist]:
    """The checklist of each linkage on the day (today unless given), in a constant number of queries whatever the
    number of linkages or agreements: the agreements that could meet a requirement (rules.may_sign) are found from
    one read of the parties, then loaded once for all the linkages. Purposes and datasets are read from the
    linkages' prefetched relations when present (see linkage_states)."""
    on = on or timezone.localdate()
    linkages = list(linkages)
    organisations = {
        org_id for linkage in linkages for org_id in (linkage.icb_id, linkage.provider_id, linkage.processor_id)
    }
    parties_of: dict[int, tuple[str, set[int]]] = {}
    agreements_of: dict[int, set[int]] = {}
    for agreement_id, kind, organisation_id in (
        Party.objects.filter(agreement__kind__in=LINKAGE_AGREEMENT_KINDS, organisation_id__in=organisations)
        .order_by()
        .values_list("agreement_id", "agreement__kind", "organisation_id")
    ):
        parties_of.setdefault(agreement_id, (kind, set()))[1].add(organisation_id)
        agreements_of.setdefault(organisation_id, set()).add(agreement_id)
    wanted: dict[int, set[int]] = {}
    for linkage in linkages:
        wanted[linkage.pk] = set()
        for requirement in rules.LINKAGE_AGREEMENTS:
            # Only agreements with a party on each side can qualify: look through the smallest side's.
            sides = rules.side_organisations(requirement, linkage)
            smallest = min(
                (set().union(*(agreements_of.get(org_id, set()) for org_id in side)) for side in sides), key=len
            )
            wanted[linkage.pk] |= {
                agreement_id
                for agreement_id in smallest
                if parties_of[agreement_id][0] == requirement.kind
                and rules.may_sign(requirement, linkage, parties_of[agreement_id][1])
            }
    all_wanted = set().union(*wanted.values()) if wanted else set()
    agreements = {
        agreement.pk: agreement
        for agreement in Agreement.objects.filter(pk__in=all_wanted).prefetch_related("parties").order_by("pk")
    }
    return [
        rules.linkage_checklist(
            linkage,
            on=on,
            candidates=[agreements[pk] for pk in sorted(wanted[linkage.pk])],
            purposes=linkage.purposes.all(),
            datasets=linkage.datasets.all(),
        )
        for linkage in linkages
    ]


def linkage_checklist(*, linkage: Linkage, on: dt.date | None = None) -> rules.Checklist:
    """Whether the linkage is permitted on the day (today unless given), requirement by requirement."""
    loaded = _with_rule_inputs(linkage_list()).get(pk=linkage.pk)
    return linkage_checklists(linkages=[loaded], on=on)[0]


@dataclass(frozen=True)
class LinkageState:
    linkage: Linkage
    checklist: rules.Checklist


def linkage_states(*, linkages: QuerySet[Linkage] | None = None, on: dt.date | None = None) -> list[LinkageState]:
    """Linkages (all unless given) with their checklists on the day, in a constant number of queries."""
    chosen = list(_with_rule_inputs(linkages if linkages is not None else linkage_list()))
    return [
        LinkageState(linkage, checklist)
        for linkage, checklist in zip(chosen, linkage_checklists(linkages=chosen, on=on), strict=True)
    ]


def _not_permitted(states: Iterable[LinkageState]) -> list[LinkageState]:
    return [
        state
        for state in states
        if state.linkage.status == Linkage.Status.NOT_PERMITTED
        or (state.linkage.status == Linkage.Status.ACTIVE and not state.checklist.permitted)
    ]


def _lapsing(states: Iterable[LinkageState], *, within_days: int, on: dt.date) -> list[LinkageState]:
    lapsing = []
    for state in states:
        until = state.checklist.permitted_until
        if state.linkage.status != Linkage.Status.ACTIVE or not state.checklist.permitted or until is None:
            continue
        if until <= on + dt.timedelta(days=within_days):
            lapsing.append(state)
    return sorted(lapsing, key=lambda s: (s.checklist.permitted_until, s.linkage.title))


def _open_linkages() -> QuerySet[Linkage]:
    return linkage_list().filter(status__in=[Linkage.Status.ACTIVE, Linkage.Status.NOT_PERMITTED])


def linkages_not_permitted(*, on: dt.date | None = None) -> list[LinkageState]:
    """Linkages marked not permitted, and active ones that stopped being permitted today but have not yet been
    marked (the daily check runs at night), so the dashboard never lags behind an agreement ending."""
    return _not_permitted(linkage_states(linkages=_open_linkages(), on=on))


def linkages_lapsing(*, within_days: int, on: dt.date | None = None) -> list[LinkageState]:
    """Active linkages, permitted today, that stop being permitted within the days given (an agreement ends)."""
    on = on or timezone.localdate()
    states = linkage_states(linkages=linkage_list().filter(status=Linkage.Status.ACTIVE), on=on)
    return _lapsing(states, within_days=within_days, on=on)


def linkages_attention(*, within_days: int, on: dt.date | None = None) -> tuple[list[LinkageState], list[LinkageState]]:
    """linkages_not_permitted and linkages_lapsing together, from one evaluation of the open linkages."""
    on = on or timezone.localdate()
    states = linkage_states(linkages=_open_linkages(), on=on)
    return _not_permitted(states), _lapsing(states, within_days=within_days, on=on)


@dataclass(frozen=True)
class PartnerAssurance:
    organisation: Organisation
    lapses_on: dt.date
    violations: list[rules.Violation]
    sub_licences: list[Agreement]

    @property
    def lapsed(self) -> bool:
        return bool(self.violations)


def partners_assurance_attention(*, within_days: int = 60, on: dt.date | None = None) -> list[PartnerAssurance]:
    """Sub-licensees of live sub-licences (draft, in review or active) whose assurance is missing, or lapses
    within the days given. Two queries: the partners, judged by the rules, then the sub-licences of those that
    need attention only."""
    on = on or timezone.localdate()
    live = [Agreement.Status.DRAFT, Agreement.Status.IN_REVIEW, Agreement.Status.ACTIVE]
    parties = Party.objects.filter(
        role=Party.Role.SUB_LICENSEE, agreement__kind=Agreement.Kind.SUB_LICENCE, agreement__status__in=live
    )
    horizon = on + dt.timedelta(days=within_days)
    attention: dict[int, tuple[Organisation, dt.date]] = {}
    # What the rules read, and what the dashboard and the reminders show of a partner.
    shown = (*rules.ASSURANCE_FIELDS, "ods_code", "updated_at")
    partners = Organisation.objects.filter(pk__in=parties.values("organisation_id")).only(*shown)
    for organisation in partners.order_by():
        lapses_on = rules.assurance_lapses_on(organisation, on=on)
        if lapses_on and lapses_on <= horizon:
            attention[organisation.pk] = (organisation, lapses_on)
    sub_licences: dict[int, list[Agreement]] = {}
    for party in parties.filter(organisation_id__in=attention).select_related("agreement").order_by():
        sub_licences.setdefault(party.organisation_id, []).append(party.agreement)
    return sorted(
        (
            PartnerAssurance(
                organisation=organisation,
                lapses_on=lapses_on,
                violations=rules.partner_assurance_violations(organisation, on=on),
                sub_licences=sorted(sub_licences.get(organisation.pk, []), key=lambda a: a.sub_licence_sort_key),
            )
            for organisation, lapses_on in attention.values()
        ),
        key=lambda p: (p.lapses_on, p.organisation.name),
    )
