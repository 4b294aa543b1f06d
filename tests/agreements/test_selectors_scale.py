"""The selectors that read many records at once decide exactly as the rules do record by record.

They narrow what they load (rules.may_sign for linkages; one scan of the partners for assurance): these tests
compare their answers with the rules applied to every record, on random registers.
"""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.db.models import Prefetch

from agreements import rules, selectors
from agreements.models import Agreement, Dataset, Linkage, Organisation, Party, PermittedPurpose
from tests.factories import AgreementFactory, OrganisationFactory, SubLicenceFactory

pytestmark = pytest.mark.django_db

ON = dt.date(2026, 1, 15)
ROLES = [Party.Role.CONTROLLER, Party.Role.JOINT_CONTROLLER, Party.Role.PROCESSOR, Party.Role.PROVIDER, "recipient"]
KINDS = [Agreement.Kind.DPA, Agreement.Kind.DSA, Agreement.Kind.PROCESSOR_CONTRACT, Agreement.Kind.ISA]
STATUSES = [Agreement.Status.ACTIVE, Agreement.Status.ACTIVE, Agreement.Status.DRAFT, Agreement.Status.EXPIRED]


def _random_register(seed: int) -> list[Linkage]:
    rng = random.Random(seed)
    organisations = [OrganisationFactory() for _ in range(6)]
    for n in range(40):
        start = ON - dt.timedelta(days=rng.randint(-30, 400))
        agreement = AgreementFactory(
            kind=rng.choice(KINDS),
            reference=f"R{seed}-{n}",
            status=rng.choice(STATUSES),
            start_date=start,
            end_date=rng.choice([None, max(start, ON + dt.timedelta(days=rng.randint(-60, 400)))]),
        )
        for organisation in rng.sample(organisations, rng.randint(1, 3)):
            Party.objects.create(agreement=agreement, organisation=organisation, role=rng.choice(ROLES))
    purposes = list(PermittedPurpose.objects.all())
    linkages = []
    for n in range(8):
        icb, provider, processor = rng.sample(organisations, 3)
        purpose = rng.choice(purposes)
        linkage = Linkage.objects.create(
            title=f"L{seed}-{n}",
            icb=icb,
            provider=provider,
            processor=processor,
            category=purpose.category,
            justification="Test",
            status=Linkage.Status.ACTIVE,
        )
        linkage.purposes.add(purpose)
        linkage.datasets.add(Dataset.objects.create(name=f"D{seed}-{n}", provider=provider, category=purpose.category))
        linkages.append(linkage)
    return linkages


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_linkage_checklists_equal_the_rules_over_every_agreement(seed: int) -> None:
    linkages = _random_register(seed)
    everything = list(Agreement.objects.prefetch_related("parties"))
    narrowed = selectors.linkage_checklists(
        linkages=Linkage.objects.filter(pk__in=[linkage.pk for linkage in linkages])
        .order_by("pk")
        .prefetch_related("purposes", Prefetch("datasets", queryset=Dataset.objects.select_related("provider"))),
        on=ON,
    )
    for linkage, checklist in zip(linkages, narrowed, strict=True):
        expected = rules.linkage_checklist(
            linkage, on=ON, candidates=everything, purposes=linkage.purposes.all(), datasets=linkage.datasets.all()
        )
        assert checklist == expected
        assert selectors.linkage_checklist(linkage=linkage, on=ON) == expected
    # The register is varied enough to test something: some linkages pass, some fail, for different reasons.
    outcomes = {item.message.split(":")[0] for checklist in narrowed for item in checklist.items}
    assert len(outcomes) > 3


@pytest.mark.parametrize("seed", [1, 2])
def test_partners_needing_attention_equal_the_rules_over_every_partner(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(30):
        partner = OrganisationFactory(
            dspt_status=rng.choice(list(Organisation.DsptStatus)),
            dspt_assessment_year=rng.choice(["", "2024-25", "2025-26", "2026-27"]),
            ico_registration_number=rng.choice(["", "Z1234567"]),
            ico_registration_expires=rng.choice([None, ON + dt.timedelta(days=rng.randint(-30, 120))]),
        )
        SubLicenceFactory(sub_licensee=partner, status=rng.choice(STATUSES))
    got = selectors.partners_assurance_attention(within_days=60, on=ON)
    live = {Agreement.Status.DRAFT, Agreement.Status.IN_REVIEW, Agreement.Status.ACTIVE}
    expected = []
    for organisation in Organisation.objects.all():
        sub_licences = [
            party.agreement
            for party in organisation.parties.select_related("agreement")
            if party.role == Party.Role.SUB_LICENSEE and party.agreement.status in live
        ]
        lapses_on = rules.assurance_lapses_on(organisation, on=ON)
        if sub_licences and lapses_on and lapses_on <= ON + dt.timedelta(days=60):
            expected.append((organisation.pk, lapses_on, [a.pk for a in sub_licences]))
    assert sorted(expected) == sorted((p.organisation.pk, p.lapses_on, [a.pk for a in p.sub_licences]) for p in got)
    assert 0 < len(got) < 30
