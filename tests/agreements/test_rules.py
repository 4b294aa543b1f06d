"""Rule tables for agreements.rules: every rule with a case that passes and a case that fails."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import time_machine

from agreements import rules, selectors
from agreements.models import (
    LINKABLE_CATEGORIES,
    Agreement,
    DataLevel,
    Dataset,
    Linkage,
    Organisation,
    Party,
    PermittedPurpose,
)
from tests.factories import (
    AgreementFactory,
    DatasetFactory,
    LinkageFactory,
    OrganisationFactory,
    ParentAgreementFactory,
    PartyFactory,
    SubLicenceFactory,
)

pytestmark = pytest.mark.django_db

Role = Party.Role
Kind = Agreement.Kind
ON = dt.date(2025, 10, 22)


# --- DSPT assessment years ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("on", "year", "accepted"),
    [
        (dt.date(2025, 3, 31), "2024-25", ("2024-25",)),
        (dt.date(2025, 4, 1), "2025-26", ("2025-26", "2024-25")),
        (dt.date(2025, 6, 30), "2025-26", ("2025-26", "2024-25")),
        (dt.date(2025, 7, 1), "2025-26", ("2025-26",)),
        (dt.date(2026, 1, 15), "2025-26", ("2025-26",)),
        (dt.date(2099, 12, 31), "2099-00", ("2099-00",)),
    ],
)
def test_dspt_year_runs_april_to_march_with_grace_to_30_june(on, year, accepted) -> None:
    assert rules.dspt_year(on) == year
    assert rules.dspt_years_accepted(on) == accepted


# --- Partner assurance -------------------------------------------------------------------------------------

DSPT = Organisation.DsptStatus


@pytest.mark.parametrize(
    ("on", "fields", "codes"),
    [
        pytest.param(ON, {}, [], id="met-current-year-passes"),
        pytest.param(ON, {"dspt_status": DSPT.EXCEEDED}, [], id="exceeded-passes"),
        pytest.param(ON, {"dspt_status": DSPT.APPROACHING}, ["dspt_not_met"], id="approaching-fails"),
        pytest.param(ON, {"dspt_status": DSPT.NOT_MET}, ["dspt_not_met"], id="not-met-fails"),
        pytest.param(ON, {"dspt_status": DSPT.NOT_PUBLISHED}, ["dspt_not_met"], id="not-published-fails"),
        pytest.param(ON, {"dspt_assessment_year": ""}, ["dspt_no_year"], id="no-year-fails"),
        pytest.param(ON, {"dspt_assessment_year": "2024-25"}, ["dspt_out_of_date"], id="last-year-fails-in-october"),
        pytest.param(dt.date(2025, 4, 1), {"dspt_assessment_year": "2024-25"}, [], id="last-year-passes-1-april"),
        pytest.param(dt.date(2025, 6, 30), {"dspt_assessment_year": "2024-25"}, [], id="last-year-passes-30-june"),
        pytest.param(
            dt.date(2025, 7, 1), {"dspt_assessment_year": "2024-25"}, ["dspt_out_of_date"], id="grace-ends-1-july"
        ),
        pytest.param(
            dt.date(2025, 4, 1), {"dspt_assessment_year": "2023-24"}, ["dspt_out_of_date"], id="two-years-old-fails"
        ),
        pytest.param(ON, {"ico_registration_number": ""}, ["ico_missing"], id="no-ico-number-fails"),
        pytest.param(ON, {"ico_registration_expires": ON}, [], id="ico-expiring-today-passes"),
        pytest.param(ON, {"ico_registration_expires": ON - dt.timedelta(days=1)}, ["ico_expired"], id="ico-expired"),
        pytest.param(
            ON,
            {"dspt_status": DSPT.NOT_MET, "ico_registration_number": ""},
            ["dspt_not_met", "ico_missing"],
            id="both-fail-each-with-its-message",
        ),
    ],
)
def test_partner_assurance(on, fields, codes) -> None:
    defaults = {"dspt_status": DSPT.MET, "dspt_assessment_year": "2025-26", "ico_registration_number": "Z7141059"}
    partner = OrganisationFactory.build(name="Leicester City Council", **{**defaults, **fields})
    violations = rules.partner_assurance_violations(partner, on=on)
    assert [v.code for v in violations] == codes
    assert len({v.message for v in violations}) == len(codes)
    assert all(v.message.startswith("Leicester City Council") for v in violations)


def test_assurance_messages_are_plain() -> None:
    partner = OrganisationFactory.build(
        name="Leicester City Council",
        dspt_status=DSPT.MET,
        dspt_assessment_year="2024-25",
        ico_registration_number="Z7141059",
        ico_registration_expires=dt.date(2025, 9, 30),
    )
    assert [v.message for v in rules.partner_assurance_violations(partner, on=ON)] == [
        "Leicester City Council's DSPT status on record is for 2024-25: a 2025-26 assessment of Standards Met or "
        "Standards Exceeded is needed",
        "Leicester City Council's ICO registration Z7141059 expired on 30 September 2025",
    ]


@pytest.mark.parametrize(
    ("fields", "lapses_on"),
    [
        ({"ico_registration_expires": dt.date(2026, 1, 10)}, dt.date(2026, 1, 11)),
        # A 2025-26 status counts until the grace period of 2026-27 ends on 30 June 2026 (see the "grace-ends-1-july"
        # case above): the day it lapses is 1 July 2026.
        ({}, dt.date(2026, 7, 1)),
        ({"dspt_status": DSPT.NOT_MET}, ON),
        ({"dspt_assessment_year": "2024-25"}, ON),
        ({"dspt_assessment_year": "2026-27"}, ON),
    ],
)
def test_assurance_lapses_on(fields, lapses_on) -> None:
    defaults = {"dspt_status": DSPT.MET, "dspt_assessment_year": "2025-26", "ico_registration_number": "Z7141059"}
    partner = OrganisationFactory.build(**{**defaults, **fields})
    assert rules.assurance_lapses_on(partner, on=ON) == lapses_on
    # The day it gives is the first day the assurance rules fail.
    assert rules.partner_assurance_violations(partner, on=lapses_on)
    if lapses_on > ON:
        assert not rules.partner_assurance_violations(partner, on=lapses_on - dt.timedelta(days=1))


# --- The sub-licence chain ---------------------------------------------------------------------------------


@pytest.fixture
def chain():
    sus, gp, other = DatasetFactory(name="SUS+"), DatasetFactory(name="GP data"), DatasetFactory(name="Housing")
    parent = ParentAgreementFactory(
        reference="DARS-NIC-655409-Q1L8R",
        start_date=dt.date(2024, 4, 1),
        end_date=dt.date(2028, 3, 31),
        data_level=DataLevel.PSEUDONYMISED,
    )
    parent.datasets.set([sus, gp])
    sub_licence = SubLicenceFactory(
        parent=parent, start_date=ON, end_date=dt.date(2028, 3, 31), data_level=DataLevel.PSEUDONYMISED
    )
    sub_licence.datasets.set([sus])
    return {"parent": parent, "sub_licence": sub_licence, "other": other, "gp": gp}


def _chain_codes(sub_licence: Agreement) -> list[str]:
    sub_licence = Agreement.objects.get(pk=sub_licence.pk)
    parent_datasets = sub_licence.parent.datasets.all() if sub_licence.parent else []
    violations = rules.sub_licence_chain_violations(
        sub_licence, datasets=sub_licence.datasets.all(), parent_datasets=parent_datasets
    )
    return [v.code for v in violations]


def _set(obj: Agreement, **fields: object) -> None:
    for name, value in fields.items():
        setattr(obj, name, value)
    obj.save()


@pytest.mark.parametrize(
    ("change", "codes"),
    [
        pytest.param(lambda c: None, [], id="keeps-to-its-parent"),
        pytest.param(lambda c: _set(c["sub_licence"], parent=None), ["no_parent"], id="no-parent"),
        pytest.param(
            lambda c: _set(c["parent"], status=Agreement.Status.TERMINATED), ["parent_not_active"], id="parent-ended"
        ),
        pytest.param(lambda c: _set(c["parent"], permits_sub_licensing=False), ["parent_forbids"], id="forbidden"),
        pytest.param(
            lambda c: _set(c["sub_licence"], start_date=dt.date(2024, 4, 1)), [], id="starts-with-parent-passes"
        ),
        pytest.param(
            lambda c: _set(c["sub_licence"], start_date=dt.date(2024, 3, 31)),
            ["starts_before_parent"],
            id="starts-before-parent",
        ),
        pytest.param(
            lambda c: _set(c["sub_licence"], end_date=dt.date(2028, 4, 1)), ["ends_after_parent"], id="ends-after"
        ),
        pytest.param(lambda c: _set(c["sub_licence"], end_date=None), ["ends_after_parent"], id="open-ended"),
        pytest.param(lambda c: _set(c["parent"], end_date=None), [], id="open-ended-parent-covers"),
        pytest.param(
            lambda c: _set(c["sub_licence"], data_level=DataLevel.IDENTIFIABLE),
            ["more_identifiable"],
            id="more-identifiable",
        ),
        pytest.param(lambda c: _set(c["sub_licence"], data_level=DataLevel.ANONYMISED), [], id="less-identifiable"),
        pytest.param(lambda c: _set(c["sub_licence"], data_level=DataLevel.AGGREGATE), [], id="aggregate"),
        pytest.param(lambda c: c["sub_licence"].datasets.add(c["gp"]), [], id="datasets-all-covered"),
        pytest.param(
            lambda c: c["sub_licence"].datasets.add(c["other"]), ["datasets_not_covered"], id="dataset-not-covered"
        ),
    ],
)
def test_sub_licence_chain(chain, change: Callable, codes) -> None:
    change(chain)
    assert _chain_codes(chain["sub_licence"]) == codes


def test_chain_violations_each_have_their_own_plain_message(chain) -> None:
    parent, sub_licence = chain["parent"], chain["sub_licence"]
    _set(parent, permits_sub_licensing=False)
    _set(sub_licence, start_date=dt.date(2024, 1, 1), end_date=dt.date(2029, 1, 1), data_level=DataLevel.IDENTIFIABLE)
    sub_licence.datasets.add(chain["other"])
    violations = selectors.sub_licence_violations(sub_licence=sub_licence, on=ON)
    assert [violation.message for violation in violations.chain] == [
        "The parent agreement DARS-NIC-655409-Q1L8R does not permit sub-licensing",
        "The sub-licence starts on 1 January 2024, before its parent DARS-NIC-655409-Q1L8R starts on 1 April 2024",
        "The sub-licence ends on 1 January 2029, after its parent DARS-NIC-655409-Q1L8R ends on 31 March 2028",
        "The sub-licence shares Identifiable data, which is more identifiable than the Pseudonymised data its "
        "parent DARS-NIC-655409-Q1L8R allows",
        "The parent agreement DARS-NIC-655409-Q1L8R does not cover these datasets: Housing",
    ]


# --- What the register publishes -----------------------------------------------------------------------------


def test_publication_drops_a_sub_licence_whose_partner_assurance_lapsed() -> None:
    with time_machine.travel(dt.datetime(2025, 10, 22, 9, tzinfo=dt.UTC)):
        assured = OrganisationFactory(name="Leicester City Council")
        lapsed = OrganisationFactory(name="Rutland County Council", ico_registration_expires=dt.date(2025, 11, 30))
        kept = SubLicenceFactory(reference="SL/25/1", sub_licensee=assured)
        dropped = SubLicenceFactory(reference="SL/25/2", sub_licensee=lapsed)
    before = selectors.sub_licences_publishable(on=dt.date(2025, 11, 30))
    assert {a.reference for a in before} == {"SL/25/1", "SL/25/2"}

    after = selectors.sub_licences_publishable(on=dt.date(2025, 12, 1))
    assert [a.reference for a in after] == [kept.reference]
    [gone] = selectors.sub_licences_dropped(on=dt.date(2025, 12, 1))
    assert (gone.reference, gone.rule) == (dropped.reference, "assurance")
    # The public reason names no organisation, registration number or date; the internal messages do.
    assert gone.public_reason == "the partner's data security assurance is not current"
    assert "Rutland" not in gone.public_reason
    assert gone.messages == [
        f"Rutland County Council's ICO registration {lapsed.ico_registration_number} expired on 30 November 2025"
    ]


def test_publication_drops_a_sub_licence_that_breaks_the_chain_with_a_public_safe_reason() -> None:
    with time_machine.travel(dt.datetime(2025, 10, 22, 9, tzinfo=dt.UTC)):
        sub_licence = SubLicenceFactory(reference="SL/25/3", data_level=DataLevel.IDENTIFIABLE)
    assert not selectors.sub_licences_publishable(on=ON).exists()
    [gone] = selectors.sub_licences_dropped(on=ON)
    assert gone.agreement == sub_licence
    assert gone.public_reason == "no longer meets the conditions for sub-licensing"
    assert "DARS" not in gone.public_reason and "DARS" in gone.messages[0]


def test_after_1_april_last_years_dspt_still_publishes_until_30_june() -> None:
    with time_machine.travel(dt.datetime(2025, 3, 1, 9, tzinfo=dt.UTC)):
        SubLicenceFactory(reference="SL/25/4")  # its partner is assured for 2024-25, the year it was made in
    assert selectors.sub_licences_publishable(on=dt.date(2025, 4, 1)).count() == 1
    assert selectors.sub_licences_publishable(on=dt.date(2025, 6, 30)).count() == 1
    assert selectors.sub_licences_publishable(on=dt.date(2025, 7, 1)).count() == 0


# --- Linkage of non-health data ------------------------------------------------------------------------------


@dataclass
class World:
    linkage: Linkage
    dpa: Agreement
    dsa: Agreement
    contract: Agreement


def _agreement(kind: str, parties: list[tuple[Organisation, str]], **fields: object) -> Agreement:
    dates = {"start_date": dt.date(2025, 4, 1), "end_date": dt.date(2027, 3, 31)}
    agreement = AgreementFactory(kind=kind, **{**dates, **fields})
    for organisation, role in parties:
        PartyFactory(agreement=agreement, organisation=organisation, role=role)
    return agreement


@pytest.fixture
def world() -> World:
    linkage = LinkageFactory(
        icb=OrganisationFactory(name="LLR ICB", kind=Organisation.Kind.ICB),
        provider=OrganisationFactory(name="Leicester City Council"),
        processor=OrganisationFactory(name="Charnwood Health Analytics", kind=Organisation.Kind.DATA_PROCESSOR),
    )
    linkage.datasets.set([DatasetFactory(provider=linkage.provider, category=Dataset.Category.CHILDRENS_SOCIAL_CARE)])
    linkage.purposes.set(PermittedPurpose.objects.filter(category=Dataset.Category.CHILDRENS_SOCIAL_CARE)[:2])
    return World(
        linkage=linkage,
        dpa=_agreement(
            Kind.DPA, [(linkage.provider, Role.CONTROLLER), (linkage.processor, Role.PROCESSOR)], reference="DPA-1"
        ),
        dsa=_agreement(Kind.DSA, [(linkage.icb, Role.RECIPIENT), (linkage.provider, Role.PROVIDER)], reference="DSA-1"),
        contract=_agreement(
            Kind.PROCESSOR_CONTRACT,
            [(linkage.icb, Role.CONTROLLER), (linkage.processor, Role.PROCESSOR)],
            reference="PC-1",
            end_date=None,
        ),
    )


def _items(world: World, on: dt.date = ON) -> dict[str, rules.ChecklistItem]:
    checklist = selectors.linkage_checklist(linkage=world.linkage, on=on)
    return {item.code: item for item in checklist.items}


def test_a_linkage_with_all_three_agreements_and_permitted_purposes_is_permitted(world) -> None:
    checklist = selectors.linkage_checklist(linkage=world.linkage, on=ON)
    assert checklist.permitted
    items = {item.code: item for item in checklist.items}
    assert items["dpa"].agreement == world.dpa
    assert items["dpa"].message == f"DPA-1: {world.dpa.title} (ends 31 March 2027)"
    assert items["contract"].message.endswith("(no end date)")
    assert items["dsa"].requirement == (
        "A data sharing agreement between LLR ICB (as controller or recipient) and Leicester City Council "
        "(as controller or provider)"
    )
    assert checklist.permitted_until == dt.date(2027, 3, 31)


def _delete(agreement: Agreement) -> None:
    agreement.parties.all().delete()
    agreement.delete()


def _roles(agreement: Agreement, *roles_in_order: str) -> None:
    for party, role in zip(agreement.parties.order_by("pk"), roles_in_order, strict=True):
        party.role = role
        party.save()


@pytest.mark.parametrize(
    ("change", "code", "ok", "message"),
    [
        # The data processing agreement between the provider and the data processor
        pytest.param(lambda w: None, "dpa", True, "DPA-1", id="dpa-in-force"),
        pytest.param(
            lambda w: _delete(w.dpa), "dpa", False, "Missing: no data processing agreement between them is recorded",
            id="dpa-missing",
        ),
        pytest.param(
            lambda w: _set(w.dpa, status=Agreement.Status.IN_REVIEW), "dpa", False,
            "(DPA-1 is in review; it must be approved and active)", id="dpa-in-review",
        ),
        pytest.param(
            lambda w: _set(w.dpa, end_date=ON - dt.timedelta(days=1)), "dpa", False,
            "is in force on 22 October 2025 (DPA-1 ended on 21 October 2025)", id="dpa-ended-yesterday",
        ),
        pytest.param(lambda w: _set(w.dpa, end_date=ON), "dpa", True, "(ends 22 October 2025)", id="dpa-ends-today"),
        pytest.param(
            lambda w: _set(w.dpa, start_date=ON + dt.timedelta(days=1)), "dpa", False,
            "(DPA-1 only starts on 23 October 2025)", id="dpa-not-started",
        ),
        pytest.param(
            lambda w: _roles(w.dpa, Role.PROCESSOR, Role.CONTROLLER), "dpa", False, "is recorded",
            id="dpa-roles-swapped",
        ),
        pytest.param(
            lambda w: _set(w.dpa, kind=Kind.ISA), "dpa", False, "is recorded", id="dpa-wrong-kind",
        ),
        # The data sharing agreement between the ICB and the provider
        pytest.param(
            lambda w: _roles(w.dsa, Role.JOINT_CONTROLLER, Role.JOINT_CONTROLLER), "dsa", True, "DSA-1",
            id="dsa-joint-controllers",
        ),
        pytest.param(
            lambda w: _delete(w.dsa), "dsa", False, "Missing: no data sharing agreement between them is recorded",
            id="dsa-missing",
        ),
        pytest.param(
            lambda w: w.dsa.parties.filter(role=Role.PROVIDER).update(organisation=OrganisationFactory()),
            "dsa", False, "is recorded", id="dsa-with-another-provider",
        ),
        # The commercial contract with the data processor
        pytest.param(
            lambda w: w.contract.parties.filter(role=Role.CONTROLLER).update(organisation=w.linkage.provider),
            "contract", True, "PC-1", id="contract-let-by-the-provider",
        ),
        pytest.param(
            lambda w: _delete(w.contract), "contract", False,
            "Missing: no commercial contract between them is recorded", id="contract-missing",
        ),
        pytest.param(
            lambda w: _set(w.contract, status=Agreement.Status.TERMINATED), "contract", False,
            "(PC-1 is terminated; it must be approved and active)", id="contract-terminated",
        ),
        # The purposes
        pytest.param(lambda w: None, "purposes", True, "2 purposes chosen, all permitted", id="purposes-permitted"),
        pytest.param(
            lambda w: w.linkage.purposes.clear(), "purposes", False, "Missing: no purpose is chosen", id="no-purpose"
        ),
        pytest.param(
            lambda w: w.linkage.purposes.add(PermittedPurpose.objects.get(category="housing", position=1)),
            "purposes", False, "Not permitted for Children's social care and early help data: To create early",
            id="purpose-of-another-category",
        ),
        # The datasets
        pytest.param(
            lambda w: w.linkage.datasets.add(DatasetFactory(name="Attendance", category=Dataset.Category.EDUCATION)),
            "datasets", False, "Attendance is Education data", id="dataset-of-another-category",
        ),
        pytest.param(
            lambda w: w.linkage.datasets.add(
                DatasetFactory(name="Early help", category=Dataset.Category.CHILDRENS_SOCIAL_CARE)
            ),
            "datasets", False, "Early help is held by", id="dataset-held-by-someone-else",
        ),
        pytest.param(lambda w: w.linkage.datasets.clear(), "datasets", False, "no dataset is chosen", id="no-dataset"),
    ],
)  # fmt: skip
def test_linkage_checklist(world, change: Callable, code: str, ok: bool, message: str) -> None:
    change(world)
    items = _items(world)
    assert items[code].ok is ok
    assert message in items[code].message
    # Only the rule under test moves.
    assert all(item.ok for other, item in items.items() if other != code)


def test_permitted_purposes_are_the_reference_data_from_nhs_england() -> None:
    counts = {category: PermittedPurpose.objects.filter(category=category).count() for category in LINKABLE_CATEGORIES}
    assert counts == {"childrens_social_care": 5, "education": 4, "housing": 4, "childrens_youth_offer": 5}
    assert str(PermittedPurpose.objects.get(category="education", position=3)).startswith(
        "Identify health inequalities based on eligibility for free school meals"
    )
