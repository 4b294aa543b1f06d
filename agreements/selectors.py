"""Reads of the register. Views and other apps read through these, never through ad-hoc querysets."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from django.core.cache import cache
from django.db.models import Count, Prefetch, Q, QuerySet
from django.db.models.functions import Length, Substr
from django.utils import timezone
from guardian.shortcuts import get_objects_for_user

from agreements import rule_inputs, rules
from agreements.dates import format_date
from agreements.models import (
    LINKABLE_CATEGORIES,
    Agreement,
    Amendment,
    Dataset,
    Document,
    Linkage,
    Organisation,
    Party,
    Purpose,
    agreement_field,
)
from audit.models import AuditEvent

PARTNER_PERMISSION = "agreements.act_for_organisation"

# ---------------------------------------------------------------------------------------------------------
# What the rules find about the whole register, kept until one of their inputs changes

Found = TypeVar("Found")
# A day: findings are per day, and a day's entry is not read the next.
FINDINGS_SECONDS = 24 * 60 * 60


def kept_until_inputs_change(name: str, on: dt.date, find: Callable[[], Found]) -> Found:
    """What `find` returns, found once for the day and the version of the rules' inputs (agreements.rule_inputs),
    and kept in the cache until either changes: the dashboard asks the rules about the whole register on every
    view, but the answers change only when an agreement, partner, linkage or the like is written. `name` says what
    is found, with whatever else the answer depends on. One entry per name and day, holding the version it was
    found at. The cache is each process's own (Django's default), emptied when the process restarts, so findings
    never outlive the code that found them. Inside a transaction nothing is kept (see rule_inputs.version)."""
    version = rule_inputs.version()
    if version is None:
        return find()
    key = f"agreements:findings:{name}:{on.isoformat()}"
    kept = cache.get(key)
    if kept is not None and kept[0] == version:
        return cast(Found, kept[1])
    found = find()
    cache.set(key, (version, found), FINDINGS_SECONDS)
    return found


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
    """Active people who could approve the agreement: every approver the four-eyes rule lets approve it."""
    from django.contrib.auth import get_user_model

    from agreements import workflow

    permission = workflow.STEPS[workflow.APPROVE].permission or ""
    users = get_user_model().objects.with_perm(
        permission, is_active=True, include_superusers=False, backend="django.contrib.auth.backends.ModelBackend"
    )
    # workflow.four_eyes_refusal decides (it also refuses anyone who changed it since its last approval).
    return [user for user in users.order_by("username") if not workflow.four_eyes_refusal(user, agreement)]


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


def _sub_licences_live(on: dt.date) -> QuerySet[Agreement]:
    """Active, public sub-licences in their dates on the day."""
    return (
        Agreement.objects.filter(kind=Agreement.Kind.SUB_LICENCE, status=Agreement.Status.ACTIVE, is_public=True)
        .filter(start_date__lte=on)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=on))
    )


def _with_rule_relations(queryset: QuerySet[Agreement]) -> QuerySet[Agreement]:
    """What the chain and assurance rules read in Python, prefetched."""
    return queryset.select_related("parent").prefetch_related(
        Prefetch("parties", queryset=Party.objects.select_related("organisation")), "datasets", "parent__datasets"
    )


def sub_licences_failing(*, on: dt.date | None = None) -> QuerySet[Agreement]:
    """Active, public sub-licences that break a chain or assurance rule on the day (today unless given), selected
    by the database from the rules' own conditions (rules.sub_licence_breaks) in one query, whatever the number of
    sub-licences. In the order of their references (SL/25/2 before SL/25/10, as sub_licence_sort_key)."""
    on = on or timezone.localdate()
    return _sub_licences_live(on).filter(rules.sub_licence_breaks(on)).order_by(*REFERENCE_ORDER)


# The order of sub_licence_sort_key in SQL, for references like SL/25/2: the year, then the shorter number first.
REFERENCE_ORDER = (Substr("reference", 1, 6), Length("reference"), "reference")


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


def _dropped(agreement: Agreement, on: dt.date) -> DroppedSubLicence | None:
    violations = _violations(agreement, on)
    if not violations:
        return None
    rule = "chain" if violations.chain else "assurance"
    return DroppedSubLicence(
        agreement=agreement,
        reference=agreement.reference,
        rule=rule,
        public_reason=rules.PUBLIC_DROP_REASONS[rule],
        messages=violations.messages,
    )


def sub_licences_dropped(
    *, on: dt.date | None = None, among: QuerySet[Agreement] | None = None
) -> list[DroppedSubLicence]:
    """Active, public sub-licences that sub_licences_publishable leaves out on the day, and why (of those `among`,
    when given: slice it to show the first few). The database picks them (sub_licences_failing); the rules say
    why, for those only."""
    on = on or timezone.localdate()
    failing = among if among is not None else sub_licences_failing(on=on)
    dropped = (_dropped(agreement, on) for agreement in _with_rule_relations(failing))
    return sorted((d for d in dropped if d is not None), key=lambda d: d.agreement.sub_licence_sort_key)


def sub_licences_publishable(*, on: dt.date | None = None) -> QuerySet[Agreement]:
    """The rows of the Sub Licence Release Register: sub-licences that are active and public on the day, whose
    chain to the parent agreement holds and whose partner's assurance is current (see agreements.rules). One query
    picks them, however many there are; their parties and purposes are prefetched."""
    on = on or timezone.localdate()
    failing = sub_licences_failing(on=on).order_by().values("pk")
    return (
        _sub_licences_live(on)
        .exclude(pk__in=failing)
        .prefetch_related(Prefetch("parties", queryset=Party.objects.select_related("organisation")), "purposes")
    )


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


# The fields of a candidate agreement that a linkage's checklist reads (rules.linkage_checklist).
CHECKLIST_FIELDS = ("kind", "reference", "title", "status", "start_date", "end_date")


def linkage_checklists(*, linkages: Iterable[Linkage], on: dt.date | None = None) -> list[rules.Checklist]:
    """The checklist of each linkage on the day (today unless given), in a constant number of queries whatever the
    number of linkages or agreements: only an agreement with a party on every side of a requirement can meet it
    (rules.may_sign), so the agreements are looked for through each requirement's side with the fewest (the ICB's
    side is party to thousands), then loaded once for all the linkages. Purposes and datasets are read from the
    linkages' prefetched relations when present (see linkage_states)."""
    on = on or timezone.localdate()
    linkages = list(linkages)
    organisations = {
        org_id for linkage in linkages for org_id in (linkage.icb_id, linkage.provider_id, linkage.processor_id)
    }
    # Queried from the organisations' side, kinds checked here: asked with the agreement's kind too, SQLite looks
    # every agreement of those kinds up against every organisation in the list.
    parties = Party.objects.filter(organisation_id__in=organisations).order_by()
    counts = dict(parties.values("organisation_id").annotate(n=Count("pk")).values_list("organisation_id", "n"))
    chosen: dict[tuple[int, str], set[int]] = {}
    for linkage in linkages:
        for requirement in rules.LINKAGE_AGREEMENTS:
            sides = rules.side_organisations(requirement, linkage)
            chosen[linkage.pk, requirement.code] = min(sides, key=lambda side: sum(counts.get(o, 0) for o in side))
    agreements_of: dict[int, set[int]] = {}
    kinds: dict[int, str] = {}
    for agreement_id, kind, organisation_id in parties.filter(
        organisation_id__in=set().union(*chosen.values())
    ).values_list("agreement_id", "agreement__kind", "organisation_id"):
        if kind in LINKAGE_AGREEMENT_KINDS:
            agreements_of.setdefault(organisation_id, set()).add(agreement_id)
            kinds[agreement_id] = kind
    # Who signed each agreement in which role, of the linkages' organisations (the only ones the rules ask about).
    signatories: dict[int, set[tuple[int, str]]] = {}
    parties_of: dict[int, set[int]] = {}
    for agreement_id, organisation_id, role in parties.filter(agreement_id__in=kinds).values_list(
        "agreement_id", "organisation_id", "role"
    ):
        signatories.setdefault(agreement_id, set()).add((organisation_id, role))
        parties_of.setdefault(agreement_id, set()).add(organisation_id)
    wanted: dict[int, set[int]] = {}
    for linkage in linkages:
        wanted[linkage.pk] = set()
        for requirement in rules.LINKAGE_AGREEMENTS:
            side = chosen[linkage.pk, requirement.code]
            wanted[linkage.pk] |= {
                agreement_id
                for org_id in side
                for agreement_id in agreements_of.get(org_id, ())
                if kinds[agreement_id] == requirement.kind
                and rules.may_sign(requirement, linkage, parties_of[agreement_id])
            }
    all_wanted = set().union(*wanted.values()) if wanted else set()
    # Of each candidate, what the checklist reads besides its signatories: its dates, status and name.
    candidates = Agreement.objects.filter(pk__in=all_wanted).only(*CHECKLIST_FIELDS).order_by("pk")
    agreements = {agreement.pk: agreement for agreement in candidates}
    return [
        rules.linkage_checklist(
            linkage,
            on=on,
            candidates=[agreements[pk] for pk in sorted(wanted[linkage.pk])],
            purposes=linkage.purposes.all(),
            datasets=linkage.datasets.all(),
            signatories=signatories,
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


_LIVE_SUB_LICENCE = [Agreement.Status.DRAFT, Agreement.Status.IN_REVIEW, Agreement.Status.ACTIVE]


def partners_needing_assurance(*, within_days: int = 60, on: dt.date | None = None) -> QuerySet[Organisation]:
    """Sub-licensees of live sub-licences (draft, in review or active) whose assurance is missing, or lapses
    within the days given, in one query: those whose assurance fails today or on the last of those days (the
    rules' conditions, asked of the database). Assurance that holds on both days holds between them: each DSPT
    year and ICO registration counts over one unbroken stretch of days."""
    on = on or timezone.localdate()
    horizon = on + dt.timedelta(days=within_days)
    parties = Party.objects.filter(
        role=Party.Role.SUB_LICENSEE,
        agreement__kind=Agreement.Kind.SUB_LICENCE,
        agreement__status__in=_LIVE_SUB_LICENCE,
    )
    return Organisation.objects.filter(pk__in=parties.values("organisation_id")).filter(
        rules.assurance_fails(on) | rules.assurance_fails(horizon)
    )


def partners_assurance_attention(
    *, within_days: int = 60, on: dt.date | None = None, first: int | None = None
) -> list[PartnerAssurance]:
    """partners_needing_assurance, each with the day it lapses (rules.assurance_lapses_on), what fails and its
    live sub-licences, soonest first (only the first few when `first` is given). Two queries."""
    on = on or timezone.localdate()
    horizon = on + dt.timedelta(days=within_days)
    # What the rules read, and what the dashboard and the reminders show of a partner.
    shown = (*rules.ASSURANCE_FIELDS, "ods_code", "updated_at")
    attention = []
    for organisation in partners_needing_assurance(within_days=within_days, on=on).only(*shown).order_by():
        lapses_on = rules.assurance_lapses_on(organisation, on=on)
        if lapses_on and lapses_on <= horizon:
            attention.append((organisation, lapses_on))
    attention = sorted(attention, key=lambda item: (item[1], item[0].name))[:first]
    sub_licences: dict[int, list[Agreement]] = {}
    # Found from the partners' side, then narrowed here: asked with the agreement's kind and status too, SQLite
    # looks every sub-licence up against every partner in the list.
    chosen = [organisation.pk for organisation, _ in attention]
    for party in Party.objects.filter(organisation_id__in=chosen, role=Party.Role.SUB_LICENSEE).select_related(
        "agreement"
    ):
        if party.agreement.kind == Agreement.Kind.SUB_LICENCE and party.agreement.status in _LIVE_SUB_LICENCE:
            sub_licences.setdefault(party.organisation_id, []).append(party.agreement)
    return [
        PartnerAssurance(
            organisation=organisation,
            lapses_on=lapses_on,
            violations=rules.partner_assurance_violations(organisation, on=on),
            sub_licences=sorted(sub_licences.get(organisation.pk, []), key=lambda a: a.sub_licence_sort_key),
        )
        for organisation, lapses_on in attention
    ]


# ---------------------------------------------------------------------------------------------------------
# Amendments to approved agreements


def amendment_open(*, agreement: Agreement) -> Amendment | None:
    """The agreement's amendment in progress (draft, submitted or returned), if any: there is at most one."""
    return (
        Amendment.objects.filter(agreement=agreement, status__in=Amendment.OPEN_STATUSES)
        .select_related("author", "partner")
        .first()
    )


def amendments_for_agreement(*, agreement: Agreement) -> QuerySet[Amendment]:
    return Amendment.objects.filter(agreement=agreement).select_related("author", "decided_by")


def amendments_awaiting_review() -> QuerySet[Amendment]:
    return (
        Amendment.objects.filter(status=Amendment.Status.SUBMITTED)
        .select_related("agreement", "author")
        .order_by("updated_at")
    )


def _with_results(queryset: QuerySet[Any], items: list[Any]) -> QuerySet[Any]:
    """A queryset that answers with `items` without asking the database, as prefetch_related leaves one."""
    queryset._result_cache = items
    setattr(queryset, "_prefetch_done", True)  # noqa: B010  (private to Django's QuerySet; not in the stubs)
    return queryset


def _never_saved(*args: Any, **kwargs: Any) -> None:
    raise RuntimeError("A proposed version is never saved: approve the amendment instead")


def amendment_proposed_version(*, amendment: Amendment) -> Agreement:
    """The agreement as the amendment proposes it, never saved: it carries the live agreement's id, so the rules
    and the registers read it (parties, datasets and purposes, the parent with its datasets) as they read the live
    one, without a line of their own for amendments."""
    live = amendment.agreement
    proposed = Agreement.objects.get(pk=live.pk)
    base = amendment.base or {}
    base_fields = base.get("fields", {})
    for name, value in amendment.fields.items():
        if name in base_fields and base_fields[name] == value:
            # Not changed by the amendment: the live value, whatever it is now (a trivial field may have changed).
            continue
        field = agreement_field(name)
        setattr(proposed, field.attname, field.to_python(value))
    if proposed.parent_id:
        proposed.parent = Agreement.objects.prefetch_related("datasets").filter(pk=proposed.parent_id).first()

    def changed(relation: str) -> bool:
        return relation not in base or base[relation] != getattr(amendment, relation)

    if changed("parties"):
        organisations = Organisation.objects.in_bulk([org_id for org_id, _ in amendment.parties])
        parties = [
            Party(agreement=proposed, organisation=organisations[org_id], role=role)
            for org_id, role in amendment.parties
            if org_id in organisations
        ]
    else:
        parties = list(Party.objects.filter(agreement_id=live.pk).select_related("organisation"))
    datasets = Dataset.objects.filter(pk__in=amendment.datasets) if changed("datasets") else live.datasets.all()
    purposes = Purpose.objects.filter(pk__in=amendment.purposes) if changed("purposes") else live.purposes.all()
    proposed._prefetched_objects_cache = {  # type: ignore[attr-defined]
        "parties": _with_results(Party.objects.none(), parties),
        "datasets": _with_results(Dataset.objects.none(), list(datasets.select_related("provider"))),
        "purposes": _with_results(Purpose.objects.none(), list(purposes)),
    }
    setattr(proposed, "save", _never_saved)  # noqa: B010  (an instance attribute, so mypy allows it)
    return proposed


def violations_of(*, agreement: Agreement, on: dt.date | None = None) -> SubLicenceViolations:
    """The chain and assurance rules on an agreement already loaded with its relations, such as a proposed
    version; an agreement that is not a sub-licence has none."""
    if agreement.kind != Agreement.Kind.SUB_LICENCE:
        return SubLicenceViolations(chain=[], assurance=[])
    return _violations(agreement, on or timezone.localdate())


def publication_blockers(*, agreement: Agreement, on: dt.date | None = None) -> list[str]:
    """Why the agreement is not in a register's edition on the day, as plain sentences for the IG team; empty
    when it is (or would be, for a proposed version). The same conditions as sub_licences_publishable and
    information_sharing_publishable, read from one agreement already loaded with its relations."""
    on = on or timezone.localdate()
    reasons = []
    if agreement.status != Agreement.Status.ACTIVE:
        reasons.append(f"it is {agreement.get_status_display().lower()}, not approved")
    if not agreement.is_public:
        reasons.append("it is not shown on the public registers")
    if agreement.start_date > on:
        reasons.append(f"it starts on {format_date(agreement.start_date)}")
    if agreement.end_date and agreement.end_date < on:
        reasons.append(f"it ended on {format_date(agreement.end_date)}")
    reasons += violations_of(agreement=agreement, on=on).messages
    return reasons


# ---------------------------------------------------------------------------------------------------------
# Ready for review: the same rules that block approval, shown before anyone submits


@dataclass(frozen=True)
class ReadinessItem:
    """One line of the checklist. `fix` names what to change ("edit", "document", "organisation", "linkages"),
    `fix_id` the record when it is not the agreement; staff pages turn them into links. Every item that fails
    refuses submission and approval (services.agreement_submit, agreement_approve, amendment_submit,
    amendment_approve): the checklist is the rule, shown early."""

    code: str
    title: str
    ok: bool
    message: str
    fix: str
    fix_id: int | None = None
    # Each broken rule on its own, when the message joins several.
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class Readiness:
    items: list[ReadinessItem]

    @property
    def blocking(self) -> list[ReadinessItem]:
        return [item for item in self.items if not item.ok]

    @property
    def messages(self) -> list[str]:
        return [problem for item in self.blocking for problem in (item.problems or (item.message,))]


def documents_of(*, agreement: Agreement, amendment: Amendment | None = None) -> QuerySet[Document]:
    """The documents of the agreement, or of its version that the amendment proposes: the live agreement's, plus
    those the amendment adds (attached to the agreement only when it is approved)."""
    if amendment is None or not agreement.pk:
        return Document.objects.filter(agreement_id=agreement.pk) if agreement.pk else Document.objects.none()
    return Document.objects.filter(Q(agreement_id=agreement.pk) | Q(amendment=amendment, agreement__isnull=True))


def documents_of_agreement_and_amendments(*, agreement: Agreement) -> QuerySet[Document]:
    """The agreement's documents and those its amendments added (attached or not): what may be downloaded by
    whoever may see the agreement."""
    return Document.objects.filter(Q(agreement=agreement) | Q(amendment__agreement=agreement))


def agreement_readiness(
    *, agreement: Agreement, on: dt.date | None = None, amendment: Amendment | None = None
) -> Readiness:
    """Whether the agreement (or the version of it that `amendment` proposes) is ready for review and approval,
    item by item. The rule items come from the same functions (agreements.rules, through _violations) that
    publication applies. Every failing item refuses submission and approval."""
    on = on or timezone.localdate()
    items = []
    if agreement.end_date and agreement.end_date < on:
        ended = (
            f"It ended on {format_date(agreement.end_date)}: an agreement that has already ended cannot be "
            "submitted or approved. Correct the end date, or terminate it"
        )
        items.append(ReadinessItem("dates", "Dates", False, ended, "edit"))
    else:
        verb = "Starts" if agreement.start_date > on else "Started"
        until = f", until {format_date(agreement.end_date)}" if agreement.end_date else ", with no end date"
        items.append(
            ReadinessItem("dates", "Dates", True, f"{verb} on {format_date(agreement.start_date)}{until}", "edit")
        )
    if agreement.kind == Agreement.Kind.SUB_LICENCE:
        violations = _violations(agreement, on)
        parent = agreement.parent
        chain_ok = f"Its parent {parent.reference} covers its dates, level of data and datasets" if parent else ""
        items.append(
            ReadinessItem(
                "parent",
                "Parent agreement present and covering it",
                not violations.chain,
                "; ".join(v.message for v in violations.chain) or chain_ok,
                "edit",
                problems=tuple(v.message for v in violations.chain),
            )
        )
        partners = rules.sub_licensees(agreement)
        failing = [p for p in partners if rules.partner_assurance_violations(p, on=on)]
        items.append(
            ReadinessItem(
                "assurance",
                "Partner assurance (DSPT and ICO registration)",
                not violations.assurance,
                "; ".join(v.message for v in violations.assurance)
                or f"{', '.join(p.name for p in partners)}: DSPT and ICO registration current",
                "organisation" if failing else "edit",
                failing[0].pk if failing else None,
                problems=tuple(v.message for v in violations.assurance),
            )
        )
    signed = documents_of(agreement=agreement, amendment=amendment).filter(kind=Document.Kind.SIGNED_COPY).exists()
    items.append(
        ReadinessItem(
            "signed_copy",
            "Signed copy uploaded",
            signed,
            "A signed copy is uploaded"
            if signed
            else "No signed copy is uploaded: an agreement is reviewed and approved only with its signed copy (PDF)",
            "document",
        )
    )
    categories = {d.category for d in agreement.datasets.all()} & set(LINKABLE_CATEGORIES)
    if categories:
        party_ids = {party.organisation_id for party in agreement.parties.all()}
        for category in sorted(categories):
            label = Dataset.Category(category).label
            linkage = (
                Linkage.objects.filter(category=category, provider_id__in=party_ids)
                .exclude(status=Linkage.Status.CLOSED)
                .first()
            )
            items.append(
                ReadinessItem(
                    f"linkage_{category}",
                    f"Linkage of {label.lower()} data",
                    linkage is not None,
                    f"Recorded as the linkage {linkage.title} ({linkage.get_status_display().lower()})"
                    if linkage
                    else f"No linkage of {label.lower()} data is recorded: NHS England allows linking it to health "
                    "data only under a recorded linkage with its three local agreements",
                    "linkages",
                    linkage.pk if linkage else None,
                )
            )
    return Readiness(items=items)


def agreements_without_signed_copy() -> QuerySet[Agreement]:
    """Active agreements with no signed copy uploaded."""
    signed = Document.objects.filter(kind=Document.Kind.SIGNED_COPY).values("agreement_id")
    return Agreement.objects.filter(status=Agreement.Status.ACTIVE).exclude(pk__in=signed).order_by("reference")


def agreements_approved_not_started(*, kinds: Sequence[str], on: dt.date | None = None) -> QuerySet[Agreement]:
    """Approved, public agreements of these kinds that start after the day: no edition lists them yet."""
    on = on or timezone.localdate()
    return Agreement.objects.filter(
        kind__in=kinds, status=Agreement.Status.ACTIVE, is_public=True, start_date__gt=on
    ).order_by("start_date", "reference")


def agreement_leaving_reason(*, agreement: Agreement, on: dt.date | None = None) -> str:
    """Why an agreement a published edition lists is not in the next one, in plain English for the IG team."""
    on = on or timezone.localdate()
    if agreement.status in {Agreement.Status.TERMINATED, Agreement.Status.SUPERSEDED, Agreement.Status.EXPIRED}:
        return f"it is {agreement.get_status_display().lower()}"
    blockers = publication_blockers(agreement=agreement, on=on)
    if agreement.kind == Agreement.Kind.SUB_LICENCE:
        found = violations_of(agreement=agreement, on=on)
        if found.chain:
            return "failed chain: " + "; ".join(v.message for v in found.chain)
        if found.assurance:
            return "assurance lapsed: " + "; ".join(v.message for v in found.assurance)
    return "; ".join(blockers) or "it is no longer selected for this register"


def supersede_candidates(*, agreement: Agreement) -> QuerySet[Agreement]:
    """The agreements that could replace this one: of the same kind, approved (active, or approved and waiting to
    start), and not the agreement itself."""
    return (
        Agreement.objects.filter(kind=agreement.kind, status=Agreement.Status.ACTIVE)
        .exclude(pk=agreement.pk)
        .order_by("reference")
    )


def sub_licence_parent_candidates(*, on: dt.date | None = None) -> QuerySet[Agreement]:
    """The agreements a new sub-licence could validly sit under: active, not ended, allowing sub-licensing, and not
    themselves sub-licences (agreements.rules.sub_licence_chain_violations checks the rest against the dates)."""
    on = on or timezone.localdate()
    return (
        Agreement.objects.filter(status=Agreement.Status.ACTIVE, permits_sub_licensing=True)
        .exclude(kind=Agreement.Kind.SUB_LICENCE)
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=on))
        .order_by("reference")
    )


@dataclass(frozen=True)
class LinkageEffect:
    linkage: Linkage
    now: rules.Checklist
    proposed: rules.Checklist

    @property
    def sentence(self) -> str:
        if self.now.permitted and not self.proposed.permitted:
            problems = "; ".join(item.message for item in self.proposed.failures)
            return f"The linkage {self.linkage.title} would stop being permitted: {problems}"
        if not self.now.permitted and self.proposed.permitted:
            return f"The linkage {self.linkage.title} would become permitted"
        state = "permitted" if self.proposed.permitted else "not permitted"
        return f"The linkage {self.linkage.title} stays {state}"


def linkage_effects(*, proposed: Agreement, on: dt.date | None = None) -> list[LinkageEffect]:
    """The linkages of non-health data whose three local agreements include this kind of agreement between its
    organisations, checked (agreements.rules.linkage_checklist) with the live agreement and with the proposed
    version in its place."""
    if proposed.kind not in LINKAGE_AGREEMENT_KINDS:
        return []
    on = on or timezone.localdate()
    organisations = {party.organisation_id for party in proposed.parties.all()} | set(
        Party.objects.filter(agreement_id=proposed.pk).values_list("organisation_id", flat=True)
    )
    linkages = (
        linkage_list()
        .filter(Q(icb__in=organisations) | Q(provider__in=organisations) | Q(processor__in=organisations))
        .exclude(status=Linkage.Status.CLOSED)
    )
    effects = []
    for linkage in linkages:
        ids = [linkage.icb_id, linkage.provider_id, linkage.processor_id]
        candidates = list(
            Agreement.objects.filter(kind__in=LINKAGE_AGREEMENT_KINDS, parties__organisation__in=ids)
            .exclude(pk=proposed.pk)
            .distinct()
            .prefetch_related("parties")
        )
        purposes = list(linkage.purposes.all())
        datasets = list(Dataset.objects.filter(linkages=linkage).select_related("provider"))
        live = list(Agreement.objects.prefetch_related("parties").filter(pk=proposed.pk))
        now, then = (
            rules.linkage_checklist(
                linkage, on=on, candidates=[*candidates, *version], purposes=purposes, datasets=datasets
            )
            for version in (live, [proposed])
        )
        effects.append(LinkageEffect(linkage, now, then))
    return effects
