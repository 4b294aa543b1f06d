"""Each chain and assurance rule is one condition, read by the database and by agreements.conditions.holds: on
random registers (missing dates, parents and ICO numbers included) the two must pick the same records, rule by rule,
and the selectors that ask the database must agree with the rules applied in Python to every sub-licence."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest
from django.db.models import F, Q

from agreements import conditions, rules, selectors
from agreements.models import Agreement, DataLevel, Organisation, Party
from tests.factories import AgreementFactory, DatasetFactory, OrganisationFactory, PartyFactory

pytestmark = pytest.mark.django_db

ON = dt.date(2026, 1, 15)
DSPT = Organisation.DsptStatus


def _random_register(seed: int) -> None:
    """Sub-licences that keep to every rule, and others that break one or two, each rule at least once; which
    break which, and how, is random."""
    rng = random.Random(seed)
    datasets = [DatasetFactory(name=f"D{seed}-{n}") for n in range(4)]

    def parent(n: int, datasets_held: list[Any] | None = None, **fields: object) -> Agreement:
        made = AgreementFactory(
            **{
                "kind": Agreement.Kind.DSA,
                "reference": f"DARS-{seed}-{n}",
                "start_date": ON - dt.timedelta(days=800),
                "end_date": rng.choice([None, ON + dt.timedelta(days=1500)]),
                "data_level": DataLevel.IDENTIFIABLE,
                "permits_sub_licensing": True,
                **fields,
            }
        )
        made.datasets.set(datasets if datasets_held is None else datasets_held)
        return made

    def partner(**fields: object) -> Organisation:
        good = {
            "dspt_status": rng.choice([DSPT.MET, DSPT.EXCEEDED]),
            "dspt_assessment_year": "2025-26",
            "ico_registration_number": "Z1234567",
            "ico_registration_expires": rng.choice([None, ON + dt.timedelta(days=rng.randint(0, 300))]),
        }
        return OrganisationFactory(**{**good, **fields})

    good_parent = parent(0)
    faults = {
        "no_parent": {"parent": None},
        "parent_not_active": {"parent": parent(1, status=Agreement.Status.EXPIRED)},
        "parent_forbids": {"parent": parent(2, permits_sub_licensing=False)},
        "starts_before_parent": {"parent": parent(3, start_date=ON)},
        "ends_after_parent": {"parent": parent(4, end_date=ON + dt.timedelta(days=100))},
        "more_identifiable": {"parent": parent(5, data_level=DataLevel.AGGREGATE)},
        "datasets_not_covered": {"parent": parent(6, datasets_held=datasets[:1])},
        "no_partner": {"partners": []},
        "dspt_not_met": {"partners": [partner(dspt_status=rng.choice([DSPT.NOT_MET, DSPT.APPROACHING]))]},
        "dspt_no_year": {"partners": [partner(dspt_assessment_year="")]},
        "dspt_out_of_date": {"partners": [partner(dspt_assessment_year=rng.choice(["2024-25", "2026-27"]))]},
        "ico_missing": {"partners": [partner(ico_registration_number="")]},
        "ico_expired": {"partners": [partner(ico_registration_expires=ON - dt.timedelta(days=rng.randint(1, 30)))]},
    }
    faults["ends_after_parent"]["end_date"] = rng.choice([None, ON + dt.timedelta(days=200)])
    faults["datasets_not_covered"]["datasets"] = datasets[1:3]
    chosen = [[fault] for fault in faults] + [rng.sample(list(faults), rng.choice([0, 0, 0, 1, 2])) for _ in range(30)]
    for n, broken in enumerate(chosen):
        fields: dict[str, Any] = {
            "parent": good_parent,
            "partners": [partner() for _ in range(rng.choice([1, 2]))],
            "end_date": rng.choice([None, ON + dt.timedelta(days=rng.randint(0, 90))]),
            "datasets": rng.sample(datasets, rng.randint(0, 2)),
        }
        for fault in broken:
            fields.update(faults[fault])
        if fields["parent"] and fields["parent"].end_date and "ends_after_parent" not in broken:
            fields["end_date"] = fields["parent"].end_date
        sub_licence = AgreementFactory(
            kind=Agreement.Kind.SUB_LICENCE,
            reference=f"SL/{seed}/{n}",
            status=Agreement.Status.ACTIVE,
            start_date=ON - dt.timedelta(days=rng.randint(0, 400)),
            end_date=fields["end_date"],
            data_level=rng.choice(DataLevel.values[1:]),
            parent=fields["parent"],
        )
        sub_licence.datasets.set(fields["datasets"])
        for organisation in fields["partners"]:
            PartyFactory(agreement=sub_licence, organisation=organisation, role=Party.Role.SUB_LICENSEE)


@pytest.mark.parametrize("seed", [1, 2])
def test_the_database_and_holds_agree_on_every_rule(seed: int) -> None:
    _random_register(seed)
    sub_licences = list(Agreement.objects.filter(kind=Agreement.Kind.SUB_LICENCE).select_related("parent"))
    held = set()
    for code, condition in rules.CHAIN_CONDITIONS.items():
        by_database = set(
            Agreement.objects.filter(kind=Agreement.Kind.SUB_LICENCE).filter(condition).values_list("pk", flat=True)
        )
        in_python = {a.pk for a in sub_licences if conditions.holds(condition, a)}
        assert by_database == in_python, code
        held |= {code} if in_python else set()
    organisations = list(Organisation.objects.all())
    for on in (ON, dt.date(2026, 5, 1), dt.date(2026, 7, 1)):
        for code, condition in rules.assurance_conditions(on).items():
            by_database = set(Organisation.objects.filter(condition).values_list("pk", flat=True))
            in_python = {o.pk for o in organisations if conditions.holds(condition, o)}
            assert by_database == in_python, (code, on)
            held |= {code} if in_python else set()
    # The register is varied enough for every rule to catch some records (and no rule catches them all).
    assert held == {*rules.CHAIN_CONDITIONS, *rules.assurance_conditions(ON)}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_selected_sub_licences_equal_the_rules_applied_to_every_one(seed: int) -> None:
    _random_register(seed)
    for on in (ON, ON + dt.timedelta(days=20)):
        live = selectors._with_rule_relations(selectors._sub_licences_live(on))
        breaking = {a.pk: selectors._violations(a, on) for a in live}
        expected_failing = {pk for pk, found in breaking.items() if found}
        assert set(selectors.sub_licences_failing(on=on).values_list("pk", flat=True)) == expected_failing
        assert set(selectors.sub_licences_publishable(on=on).values_list("pk", flat=True)) == (
            set(breaking) - expected_failing
        )
        dropped = selectors.sub_licences_dropped(on=on)
        assert {d.agreement.pk for d in dropped} == expected_failing
        for d in dropped:
            assert d.messages == breaking[d.agreement.pk].messages
            assert d.rule == ("chain" if breaking[d.agreement.pk].chain else "assurance")
        # Each kind of reason occurs, the datasets rule (the one about sets) included.
        codes = {v.code for found in breaking.values() for v in [*found.chain, *found.assurance]}
        assert {"datasets_not_covered", "no_parent", "no_partner", "dspt_not_met"} <= codes
        assert expected_failing and set(breaking) - expected_failing


def test_holds_reads_across_foreign_keys_and_compares_with_f() -> None:
    parent = AgreementFactory(start_date=dt.date(2025, 1, 1), end_date=None)
    child = AgreementFactory.build(start_date=dt.date(2024, 1, 1), end_date=None, parent=parent)
    assert conditions.holds(Q(start_date__lt=F("parent__start_date")), child)
    assert not conditions.holds(Q(parent__end_date__isnull=False) & Q(end_date__gt=F("parent__end_date")), child)
    # A comparison with a missing value is false, as in SQL...
    assert not conditions.holds(Q(end_date__gt=F("parent__end_date")), child)
    assert not conditions.holds(Q(parent__parent__start_date__lt=ON), child)


def test_holds_refuses_what_it_cannot_answer_as_the_database_would() -> None:
    child = AgreementFactory.build(end_date=None)
    # ...and refused under ~, where SQL and Django's negation disagree: the rule must guard it.
    with pytest.raises(ValueError, match="end_date__lt meets a missing value"):
        conditions.holds(~Q(end_date__lt=ON), child)
    assert conditions.holds(Q(end_date__isnull=True) | ~Q(end_date__lt=ON), child)
    with pytest.raises(ValueError, match="cannot use"):
        conditions.holds(Q(end_date__lt=F("start_date") + 1), child)
    with pytest.raises(ValueError, match="cannot use"):
        conditions.holds(rules.assurance_breaks(ON), child)
