"""The rules an IG team must be able to prove, as pure functions of records already loaded and a date.

- Linkage of non-health data (NHS England, "Supported non-health data linkages"): three local agreements in force
  between the right organisations in the right roles, and only the purposes permitted for the category.
- The sub-licence chain: a sub-licence can only re-share what its parent NHS England agreement allows.
- Partner assurance: a sub-licensee needs a current DSPT of Standards Met or Exceeded and a current ICO registration.

Nothing here queries or writes: selectors load the records (with their relations prefetched), services and
selectors decide what to do with the results. Every result carries a plain message that can be shown to the IG
team as it is. None of these messages is for the public: see PUBLIC_DROP_REASONS.

The chain and assurance rules are each written once, as a condition (a Django Q: CHAIN_CONDITIONS,
assurance_conditions). The functions below answer them for a record in memory (agreements.conditions.holds), which
is what an amendment's unsaved proposed version needs; selectors hand the same conditions to the database
(sub_licence_breaks) to pick, out of thousands, the sub-licences that break one, without loading them all.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from functools import reduce

from django.db.models import Exists, F, OuterRef, Q

from agreements.conditions import across, holds
from agreements.dates import format_date
from agreements.models import Agreement, DataLevel, Dataset, Linkage, Organisation, Party, PermittedPurpose

Role = Party.Role


@dataclass(frozen=True)
class Violation:
    code: str
    message: str


# ---------------------------------------------------------------------------------------------------------
# Partner assurance: DSPT and ICO registration

ASSURED_DSPT = {Organisation.DsptStatus.MET, Organisation.DsptStatus.EXCEEDED}
# DSPT assessment years run April to March. Organisations submit the new year's assessment by 30 June, so until
# then last year's Standards Met or Exceeded still counts: without this grace, the quarterly publication at 06:00
# on 1 April would drop every partner.
DSPT_GRACE_ENDS = (6, 30)


def dspt_year(on: dt.date) -> str:
    """The DSPT assessment year a date falls in: 2025-26 from 1 April 2025 to 31 March 2026."""
    start = on.year if on.month >= 4 else on.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def dspt_years_accepted(on: dt.date) -> tuple[str, ...]:
    """The current year, and last year too while the grace period after 1 April runs."""
    current = dspt_year(on)
    if (on.month, on.day) <= DSPT_GRACE_ENDS and on.month >= 4:
        return (current, dspt_year(dt.date(on.year - 1, 6, 1)))
    return (current,)


# The organisation's fields the assurance rules read (selectors load only these when judging many partners).
ASSURANCE_FIELDS = (
    "name",
    "dspt_status",
    "dspt_assessment_year",
    "ico_registration_number",
    "ico_registration_expires",
)


def assurance_conditions(on: dt.date) -> dict[str, Q]:
    """Each assurance rule, as the condition on an organisation that breaks it on the day."""
    return dict(_assurance_conditions(on))


@functools.lru_cache(maxsize=64)
def _assurance_conditions(on: dt.date) -> dict[str, Q]:
    # Built once per day asked: the dashboard asks each partner needing attention about the same few days.
    assured = Q(dspt_status__in=sorted(ASSURED_DSPT))
    return {
        "dspt_not_met": ~assured,
        "dspt_no_year": assured & Q(dspt_assessment_year=""),
        "dspt_out_of_date": assured
        & ~Q(dspt_assessment_year="")
        & ~Q(dspt_assessment_year__in=dspt_years_accepted(on)),
        "ico_missing": Q(ico_registration_number=""),
        "ico_expired": ~Q(ico_registration_number="") & Q(ico_registration_expires__lt=on),
    }


def assurance_fails(on: dt.date) -> Q:
    """An organisation whose assurance breaks any rule on the day (for Organisation querysets)."""
    return reduce(Q.__or__, assurance_conditions(on).values())


def partner_assurance_violations(organisation: Organisation, *, on: dt.date) -> list[Violation]:
    name = organisation.name
    broken = {code for code, condition in _assurance_conditions(on).items() if holds(condition, organisation)}
    violations = []
    if "dspt_not_met" in broken:
        status = organisation.get_dspt_status_display()
        for_year = f" for {organisation.dspt_assessment_year}" if organisation.dspt_assessment_year else ""
        violations.append(
            Violation(
                "dspt_not_met",
                f"{name}'s DSPT status{for_year} is {status}: it must be Standards Met or Standards Exceeded",
            )
        )
    if "dspt_no_year" in broken:
        violations.append(Violation("dspt_no_year", f"{name}'s DSPT status has no assessment year on record"))
    if "dspt_out_of_date" in broken:
        violations.append(
            Violation(
                "dspt_out_of_date",
                f"{name}'s DSPT status on record is for {organisation.dspt_assessment_year}: "
                f"a {dspt_year(on)} assessment of Standards Met or Standards Exceeded is needed",
            )
        )
    if "ico_missing" in broken:
        violations.append(Violation("ico_missing", f"{name} has no ICO registration number on record"))
    if "ico_expired" in broken:
        violations.append(
            Violation(
                "ico_expired",
                f"{name}'s ICO registration {organisation.ico_registration_number} expired on "
                f"{format_date(organisation.ico_registration_expires)}",
            )
        )
    return violations


def _assurance_turning_points(organisation: Organisation, on: dt.date) -> list[dt.date]:
    """The days from `on` on which the organisation's assurance can change with nothing recorded: a new DSPT
    year (1 April), the end of its grace period (the day after 30 June), the day after its ICO registration
    expires. Within three years every DSPT status on record has lapsed."""
    days = {on}
    for year in range(on.year, on.year + 3):
        days |= {dt.date(year, 4, 1), dt.date(year, *DSPT_GRACE_ENDS) + dt.timedelta(days=1)}
    if organisation.ico_registration_expires:
        days.add(organisation.ico_registration_expires + dt.timedelta(days=1))
    return sorted(day for day in days if day >= on)


def assurance_lapses_on(organisation: Organisation, *, on: dt.date) -> dt.date | None:
    """The first day the organisation's assurance fails: `on` itself if it fails already, None if nothing on
    record makes it lapse. Found by asking the rules themselves on each day it could change."""
    for day in _assurance_turning_points(organisation, on):
        if any(holds(condition, organisation) for condition in _assurance_conditions(day).values()):
            return day
    return None


# ---------------------------------------------------------------------------------------------------------
# The sub-licence chain


def _levels_less_identifiable(level: str) -> list[str]:
    return list(DataLevel.values)[DataLevel.rank(level) + 1 :]


# Each chain rule, as the condition on a sub-licence that breaks it. With no parent only "no_parent" holds: the
# others need a parent to compare with.
CHAIN_CONDITIONS: dict[str, Q] = {
    "no_parent": Q(parent__isnull=True),
    "parent_not_active": Q(parent__isnull=False) & ~Q(parent__status=Agreement.Status.ACTIVE),
    "parent_forbids": Q(parent__permits_sub_licensing=False),
    "starts_before_parent": Q(start_date__lt=F("parent__start_date")),
    "ends_after_parent": Q(parent__end_date__isnull=False)
    & (Q(end_date__isnull=True) | Q(end_date__gt=F("parent__end_date"))),
    # Pseudonymised data under a parent that allows only anonymised data, and so on (DataLevel's order).
    "more_identifiable": reduce(
        Q.__or__,
        (
            Q(data_level=level, parent__data_level__in=_levels_less_identifiable(level))
            for level in list(DataLevel.values)[:-1]
        ),
    ),
}


def _datasets_not_covered() -> Q:
    """The one chain rule about sets, so not a CHAIN_CONDITIONS entry (agreements.conditions reads one record):
    a dataset of the sub-licence that its parent does not list. sub_licence_chain_violations says the same of
    the datasets in memory; tests/agreements/test_conditions.py checks that the two agree."""
    through = Agreement.datasets.through
    held_by_parent = through.objects.filter(
        agreement_id=OuterRef("agreement__parent_id"), dataset_id=OuterRef("dataset_id")
    )
    uncovered = through.objects.filter(agreement__parent__isnull=False).filter(~Exists(held_by_parent))
    return Q(pk__in=uncovered.values("agreement_id"))


def _chain(code: str, sub_licence: Agreement) -> bool:
    return holds(CHAIN_CONDITIONS[code], sub_licence)


def _covers(sub_licence: Agreement, parent: Agreement) -> list[Violation]:
    violations = []
    on_start, on_end = sub_licence.start_date, sub_licence.end_date
    if _chain("starts_before_parent", sub_licence):
        violations.append(
            Violation(
                "starts_before_parent",
                f"The sub-licence starts on {format_date(on_start)}, before its parent {parent.reference} starts "
                f"on {format_date(parent.start_date)}",
            )
        )
    if _chain("ends_after_parent", sub_licence) and on_end is None:
        violations.append(
            Violation(
                "ends_after_parent",
                f"The sub-licence has no end date, but its parent {parent.reference} ends on "
                f"{format_date(parent.end_date)}",
            )
        )
    elif _chain("ends_after_parent", sub_licence):
        violations.append(
            Violation(
                "ends_after_parent",
                f"The sub-licence ends on {format_date(on_end)}, after its parent {parent.reference} ends on "
                f"{format_date(parent.end_date)}",
            )
        )
    return violations


def sub_licence_chain_violations(
    sub_licence: Agreement, *, datasets: Iterable[Dataset], parent_datasets: Iterable[Dataset]
) -> list[Violation]:
    """What breaks the chain from the sub-licence to its parent NHS England agreement. The datasets are passed
    in so that callers can use what they prefetched."""
    parent = sub_licence.parent
    if parent is None:
        return [
            Violation(
                "no_parent",
                "The sub-licence has no parent agreement: record the NHS England agreement (DARS-NIC-…) whose data "
                "it re-shares",
            )
        ]
    violations = []
    if _chain("parent_not_active", sub_licence):
        violations.append(
            Violation(
                "parent_not_active",
                f"The parent agreement {parent.reference} is {parent.get_status_display().lower()}: it must be active",
            )
        )
    if _chain("parent_forbids", sub_licence):
        violations.append(
            Violation("parent_forbids", f"The parent agreement {parent.reference} does not permit sub-licensing")
        )
    violations += _covers(sub_licence, parent)
    if _chain("more_identifiable", sub_licence):
        violations.append(
            Violation(
                "more_identifiable",
                f"The sub-licence shares {DataLevel(sub_licence.data_level).label} data, which is more "
                f"identifiable than the {DataLevel(parent.data_level).label} data its parent {parent.reference} "
                "allows",
            )
        )
    covered = {dataset.pk for dataset in parent_datasets}
    uncovered = sorted(dataset.name for dataset in datasets if dataset.pk not in covered)
    if uncovered:
        violations.append(
            Violation(
                "datasets_not_covered",
                f"The parent agreement {parent.reference} does not cover these datasets: {', '.join(uncovered)}",
            )
        )
    return violations


def sub_licensees(sub_licence: Agreement) -> list[Organisation]:
    return [party.organisation for party in sub_licence.parties.all() if party.role == Role.SUB_LICENSEE]


def sub_licence_assurance_violations(sub_licence: Agreement, *, on: dt.date) -> list[Violation]:
    partners = sub_licensees(sub_licence)
    if not partners:
        return [Violation("no_partner", "The sub-licence names no sub-licensee")]
    return [violation for partner in partners for violation in partner_assurance_violations(partner, on=on)]


def chain_breaks() -> Q:
    """A sub-licence that breaks any chain rule (for Agreement querysets)."""
    return reduce(Q.__or__, CHAIN_CONDITIONS.values()) | _datasets_not_covered()


def assurance_breaks(on: dt.date) -> Q:
    """A sub-licence that names no sub-licensee, or one whose assurance breaks a rule on the day."""
    # Each set found once (not row by row): the database matches the sub-licences against it.
    sub_licensees = Party.objects.filter(role=Role.SUB_LICENSEE)
    failing = sub_licensees.filter(across("organisation", assurance_fails(on)))
    return ~Q(pk__in=sub_licensees.values("agreement_id")) | Q(pk__in=failing.values("agreement_id"))


def sub_licence_breaks(on: dt.date) -> Q:
    """A sub-licence that breaks a chain or assurance rule on the day: what the Sub Licence Release Register
    leaves out. The same conditions as sub_licence_chain_violations and sub_licence_assurance_violations."""
    return chain_breaks() | assurance_breaks(on)


# What the public may be told about a sub-licence that dropped out of the register. These say which rule, never
# which organisation, status or date: those are the IG team's internal details.
PUBLIC_DROP_REASONS = {
    "chain": "no longer meets the conditions for sub-licensing",
    "assurance": "the partner's data security assurance is not current",
}


# ---------------------------------------------------------------------------------------------------------
# Linkage of non-health data


@dataclass(frozen=True)
class _Side:
    """Which of the linkage's organisations may sign, and in which roles."""

    who: tuple[str, ...]
    roles: frozenset[str]
    described_as: str


@dataclass(frozen=True)
class AgreementRequirement:
    code: str
    kind: str
    name: str
    sides: tuple[_Side, ...]


_CONTROLLER_ROLES = frozenset({Role.CONTROLLER, Role.JOINT_CONTROLLER})

# From NHS England's guidance: "The following local agreements must be in place before linkage to these data sets
# can occur". The roles are how the register records each agreement's parties. The commercial contract may be let
# by the ICB or by the provider; the guidance only says it is "with the data processor".
LINKAGE_AGREEMENTS = (
    AgreementRequirement(
        "dpa",
        Agreement.Kind.DPA,
        "data processing agreement",
        (
            _Side(("provider",), _CONTROLLER_ROLES, "as controller"),
            _Side(("processor",), frozenset({Role.PROCESSOR}), "as processor"),
        ),
    ),
    AgreementRequirement(
        "dsa",
        Agreement.Kind.DSA,
        "data sharing agreement",
        (
            _Side(("icb",), _CONTROLLER_ROLES | {Role.RECIPIENT}, "as controller or recipient"),
            _Side(("provider",), _CONTROLLER_ROLES | {Role.PROVIDER}, "as controller or provider"),
        ),
    ),
    AgreementRequirement(
        "contract",
        Agreement.Kind.PROCESSOR_CONTRACT,
        "commercial contract",
        (
            _Side(("processor",), frozenset({Role.PROCESSOR}), "as processor"),
            _Side(("icb", "provider"), _CONTROLLER_ROLES, "as controller"),
        ),
    ),
)


@dataclass(frozen=True)
class ChecklistItem:
    code: str
    requirement: str
    ok: bool
    message: str
    agreement: Agreement | None = None
    ends_on: dt.date | None = None


@dataclass(frozen=True)
class Checklist:
    on: dt.date
    items: tuple[ChecklistItem, ...] = field(default_factory=tuple)

    @property
    def permitted(self) -> bool:
        return all(item.ok for item in self.items)

    @property
    def failures(self) -> list[ChecklistItem]:
        return [item for item in self.items if not item.ok]

    @property
    def permitted_until(self) -> dt.date | None:
        """The last day the linkage stays permitted on what is recorded now, None if no agreement ends."""
        ends = [item.ends_on for item in self.items if item.ok and item.ends_on]
        return min(ends) if ends and self.permitted else None


def _in_force(agreement: Agreement, on: dt.date) -> bool:
    return (
        agreement.status == Agreement.Status.ACTIVE
        and agreement.start_date <= on
        and (agreement.end_date is None or agreement.end_date >= on)
    )


def side_organisations(requirement: AgreementRequirement, linkage: Linkage) -> list[set[int]]:
    """For each side of the requirement, the ids of the linkage's organisations that may sign on it."""
    return [{getattr(linkage, f"{who}_id") for who in side.who} for side in requirement.sides]


def may_sign(requirement: AgreementRequirement, linkage: Linkage, organisation_ids: Iterable[int]) -> bool:
    """Whether an agreement of the requirement's kind whose parties are these organisations could meet it: an
    organisation of the linkage on every side, whatever the roles. Selectors use it to load only the agreements
    that matter; _signs, which calls it, decides."""
    present = set(organisation_ids)
    return all(side & present for side in side_organisations(requirement, linkage))


def _signs(
    agreement: Agreement, requirement: AgreementRequirement, linkage: Linkage, held: Set[tuple[int, str]] | None
) -> bool:
    if held is None:
        held = {(party.organisation_id, party.role) for party in agreement.parties.all()}
    if not may_sign(requirement, linkage, (organisation_id for organisation_id, _ in held)):
        return False
    for side in requirement.sides:
        ids = {getattr(linkage, f"{who}_id") for who in side.who}
        if not any((org_id, role) in held for org_id in ids for role in side.roles):
            return False
    return True


def _side_text(side: _Side, linkage: Linkage) -> str:
    names = " or ".join(getattr(linkage, who).name for who in side.who)
    return f"{names} ({side.described_as})"


def _end_text(agreement: Agreement) -> str:
    return f"ends {format_date(agreement.end_date)}" if agreement.end_date else "no end date"


def _agreement_item(
    requirement: AgreementRequirement,
    linkage: Linkage,
    candidates: Sequence[Agreement],
    on: dt.date,
    signatories: Mapping[int, Set[tuple[int, str]]] | None,
) -> ChecklistItem:
    between = " and ".join(_side_text(side, linkage) for side in requirement.sides)
    title = f"A {requirement.name} between {between}"
    signed = [
        a
        for a in candidates
        if a.kind == requirement.kind
        and _signs(a, requirement, linkage, None if signatories is None else signatories[a.pk])
    ]
    in_force = [a for a in signed if _in_force(a, on)]
    if in_force:
        # The one lasting longest: that is the one the linkage relies on.
        best = max(in_force, key=lambda a: (a.end_date is None, a.end_date or on, a.reference))
        return ChecklistItem(
            requirement.code,
            title,
            True,
            f"{best.reference}: {best.title} ({_end_text(best)})",
            agreement=best,
            ends_on=best.end_date,
        )
    on_text = format_date(on)
    if not signed:
        return ChecklistItem(requirement.code, title, False, f"Missing: no {requirement.name} between them is recorded")
    # Say why the nearest candidate does not count, so the IG team knows what to fix.
    near = max(signed, key=lambda a: (a.end_date is None, a.end_date or on, a.reference))
    if near.status != Agreement.Status.ACTIVE:
        why = f"{near.reference} is {near.get_status_display().lower()}; it must be approved and active"
    elif near.start_date > on:
        why = f"{near.reference} only starts on {format_date(near.start_date)}"
    else:
        why = f"{near.reference} ended on {format_date(near.end_date)}" if near.end_date else near.reference
    return ChecklistItem(
        requirement.code, title, False, f"Missing: no {requirement.name} between them is in force on {on_text} ({why})"
    )


def linkage_checklist(
    linkage: Linkage,
    *,
    on: dt.date,
    candidates: Sequence[Agreement],
    purposes: Iterable[PermittedPurpose],
    datasets: Iterable[Dataset],
    signatories: Mapping[int, Set[tuple[int, str]]] | None = None,
) -> Checklist:
    """Whether the linkage is permitted on the day, requirement by requirement.

    `candidates` are the agreements to which any of the linkage's organisations is a party, with their parties
    loaded, or with `signatories`: for each candidate, the (organisation id, role) of its parties among the
    linkage's organisations (the only parties the rules ask about); the rules pick the ones that satisfy each
    requirement.
    """
    items = [_agreement_item(requirement, linkage, candidates, on, signatories) for requirement in LINKAGE_AGREEMENTS]
    category = linkage.get_category_display()
    purposes = list(purposes)
    wrong = [p for p in purposes if p.category != linkage.category]
    purpose_title = f"The purposes are among those NHS England permits for {category} data"
    if not purposes:
        items.append(ChecklistItem("purposes", purpose_title, False, "Missing: no purpose is chosen"))
    elif wrong:
        listed = "; ".join(str(p) for p in wrong)
        items.append(ChecklistItem("purposes", purpose_title, False, f"Not permitted for {category} data: {listed}"))
    else:
        count = f"{len(purposes)} purpose{'s' if len(purposes) != 1 else ''}"
        items.append(ChecklistItem("purposes", purpose_title, True, f"{count} chosen, all permitted"))

    datasets = list(datasets)
    dataset_title = f"The datasets are {category} data held by {linkage.provider.name}"
    problems = [f"{d.name} is {d.get_category_display()} data" for d in datasets if d.category != linkage.category]
    problems += [
        f"{d.name} is held by {d.provider.name}"
        for d in datasets
        if d.provider_id and d.provider_id != linkage.provider_id and d.provider is not None
    ]
    if not datasets:
        items.append(ChecklistItem("datasets", dataset_title, False, "Missing: no dataset is chosen"))
    elif problems:
        items.append(ChecklistItem("datasets", dataset_title, False, "; ".join(problems)))
    else:
        items.append(ChecklistItem("datasets", dataset_title, True, ", ".join(sorted(d.name for d in datasets))))
    return Checklist(on=on, items=tuple(items))
