"""Every staff list and the dashboard cost the same number of queries with 5 rows of everything as with 50.

The rows are of every kind a page lists: agreements of each type and status (ending soon, review overdue, in
review), partners with lapsed or lapsing assurance, linkages with their three agreements (some lapsing), and
editions. Speed at 10,000 agreements is measured by bench/staff_pages.py; this keeps the shape of the cost.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from agreements import roles, services
from agreements.models import Agreement, Dataset, Linkage, Organisation, Party, PermittedPurpose
from publishing.models import Edition, EditionRow
from publishing.registers import sort_bytes
from publishing.services import register_ensure
from tests.factories import (
    AgreementFactory,
    OrganisationFactory,
    PartyFactory,
    SubLicenceFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _rows(count: int, partner_organisation: Organisation) -> None:
    today = timezone.localdate()
    icb = Organisation.objects.filter(kind=Organisation.Kind.ICB).first() or OrganisationFactory(
        kind=Organisation.Kind.ICB
    )
    purpose = PermittedPurpose.objects.first()
    register = register_ensure(slug="sub-licences")
    for n in range(count):
        partner = OrganisationFactory(
            dspt_status=Organisation.DsptStatus.NOT_MET if n % 2 else Organisation.DsptStatus.MET,
            ico_registration_expires=today + dt.timedelta(days=10) if n % 3 == 0 else None,
        )
        sub_licence = SubLicenceFactory(sub_licensee=partner, end_date=today + dt.timedelta(days=30))
        PartyFactory(agreement=sub_licence, organisation=partner_organisation, role=Party.Role.RECIPIENT)
        for status in (Agreement.Status.IN_REVIEW, Agreement.Status.ACTIVE):
            agreement = AgreementFactory(
                status=status, review_date=today - dt.timedelta(days=3), end_date=today + dt.timedelta(days=60)
            )
            PartyFactory(agreement=agreement, organisation=partner_organisation)
            PartyFactory(agreement=agreement, organisation=partner)
        provider, processor = OrganisationFactory(), OrganisationFactory(kind=Organisation.Kind.DATA_PROCESSOR)
        linkage = Linkage.objects.create(
            title=f"Linkage {n}",
            icb=icb,
            provider=provider,
            processor=processor,
            category=purpose.category,
            justification="Test",
            status=Linkage.Status.ACTIVE,
        )
        linkage.purposes.add(purpose)
        linkage.datasets.add(Dataset.objects.create(name=f"Data {n}", provider=provider, category=purpose.category))
        for kind, sides in (
            (Agreement.Kind.DPA, [(provider, Party.Role.CONTROLLER), (processor, Party.Role.PROCESSOR)]),
            (Agreement.Kind.DSA, [(icb, Party.Role.CONTROLLER), (provider, Party.Role.PROVIDER)]),
            (Agreement.Kind.PROCESSOR_CONTRACT, [(processor, Party.Role.PROCESSOR), (icb, Party.Role.CONTROLLER)]),
        ):
            agreement = AgreementFactory(kind=kind, end_date=today + dt.timedelta(days=20 if n % 2 else 400))
            for organisation, role in sides:
                PartyFactory(agreement=agreement, organisation=organisation, role=role)
        edition = Edition.objects.create(
            register=register,
            slug=f"edition-{Edition.objects.count() + 1}",
            status=Edition.Status.PUBLISHED,
            trigger=Edition.Trigger.COMMAND,
            last_updated=dt.date(2025, 1, 1),
            period="2024/25 Q4",
            row_count=20,
            published_at=timezone.now(),
        )
        EditionRow.objects.bulk_create(
            EditionRow(edition=edition, sort_key=sort_bytes(i), reference=f"SL/25/{i}", row={"reference": f"SL/25/{i}"})
            for i in range(20)
        )


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _queries(client: Client, url: str) -> int:
    assert client.get(url).status_code == 200  # warm the per-process caches (content types, permissions)
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context.captured_queries)


PAGES = {
    "dashboard": ("staff:dashboard", []),
    "agreements": ("staff:agreement_list", []),
    "organisations": ("staff:organisation_list", []),
    "linkages": ("staff:linkage_list", []),
    "permitted purposes": ("staff:permitted_purposes", []),
    "registers": ("staff:registers", []),
    "register editions": ("staff:register", ["sub-licences"]),
    "before you publish": ("staff:register_next", ["sub-licences"]),
}
USERS = {
    "officer": (roles.IG_OFFICER, list(PAGES)),
    "approver": (roles.IG_APPROVER, ["dashboard", "agreements"]),
    "partner": (None, ["dashboard", "agreements", "organisations"]),
}


@pytest.mark.parametrize("who", list(USERS))
def test_staff_lists_and_dashboard_cost_the_same_for_5_and_50_rows(who: str) -> None:
    role, pages = USERS[who]
    partner_organisation = OrganisationFactory(name="The partner contact's council")
    user = UserFactory(role=role) if role else UserFactory()
    if role is None:
        services.partner_contact_grant(actor=None, user=user, organisation=partner_organisation)
    client = _client(user)

    _rows(5, partner_organisation)
    few = {name: _queries(client, reverse(PAGES[name][0], args=PAGES[name][1])) for name in pages}
    _rows(45, partner_organisation)
    many = {name: _queries(client, reverse(PAGES[name][0], args=PAGES[name][1])) for name in pages}
    assert many == few


def test_the_dashboard_shows_the_first_rows_and_links_to_the_rest() -> None:
    today = timezone.localdate()
    for _ in range(12):
        AgreementFactory(review_date=today - dt.timedelta(days=1), end_date=today + dt.timedelta(days=10))
    AgreementFactory(reference="NOT-OVERDUE", review_date=today + dt.timedelta(days=1))
    body = _client(UserFactory(role=roles.IG_OFFICER)).get(reverse("staff:dashboard")).content.decode()
    assert 'href="/staff/agreements/?review_overdue=on">See all 12 agreements with a review overdue</a>' in body
    assert 'href="/staff/agreements/?ending_soon=on">See all 12 agreements ending in the next 90 days</a>' in body
    listed = _client(UserFactory(role=roles.IG_OFFICER)).get(reverse("staff:agreement_list"), {"review_overdue": "on"})
    html = listed.content.decode()
    assert html.count('<h3 class="nhsuk-heading-s nhsuk-u-margin-bottom-1"><a href="/staff/agreements/') == 12
    assert "NOT-OVERDUE" not in html


def test_the_dashboard_shows_the_first_sub_licences_failing_their_rules_and_links_to_the_rest() -> None:
    partner_organisation = OrganisationFactory(name="The partner contact's council")
    lapsed = OrganisationFactory(name="Lapsed council", dspt_status=Organisation.DsptStatus.NOT_MET)
    for _ in range(12):
        SubLicenceFactory(sub_licensee=lapsed)
    mine = SubLicenceFactory(sub_licensee=lapsed)
    PartyFactory(agreement=mine, organisation=partner_organisation)
    SubLicenceFactory(reference="SL/25/999")  # keeps to its rules
    body = _client(UserFactory(role=roles.IG_OFFICER)).get(reverse("staff:dashboard")).content.decode()
    assert body.count("</a>: Lapsed council&#x27;s DSPT status") == 10
    assert 'href="/staff/agreements/?failing_rules=on">See all 13 sub-licences whose rules fail today</a>' in body
    listed = _client(UserFactory(role=roles.IG_OFFICER)).get(reverse("staff:agreement_list"), {"failing_rules": "on"})
    html = listed.content.decode()
    assert html.count('<h3 class="nhsuk-heading-s nhsuk-u-margin-bottom-1"><a href="/staff/agreements/') == 13
    assert "SL/25/999" not in html

    # A partner contact sees only the sub-licences their organisation is party to.
    contact = UserFactory()
    services.partner_contact_grant(actor=None, user=contact, organisation=partner_organisation)
    body = _client(contact).get(reverse("staff:dashboard")).content.decode()
    assert body.count("</a>: Lapsed council&#x27;s DSPT status") == 1
    assert f'href="/staff/agreements/{mine.pk}/">{mine.reference}</a>' in body
    assert "failing_rules=on" not in body


def test_the_dashboard_shows_the_first_partners_whose_assurance_needs_attention_and_links_to_the_rest() -> None:
    today = timezone.localdate()
    for n in range(12):
        lapsing = OrganisationFactory(name=f"Council {n:02d}", ico_registration_expires=today + dt.timedelta(days=n))
        SubLicenceFactory(sub_licensee=lapsing)
    SubLicenceFactory(sub_licensee=OrganisationFactory(name="Assured council"))
    client = _client(UserFactory(role=roles.IG_OFFICER))
    body = client.get(reverse("staff:dashboard")).content.decode()
    assert body.count("Lapses on ") + body.count("ICO registration Z") == 10
    assert "Council 09" in body and "Council 10" not in body  # the soonest first
    link = "/staff/organisations/?assurance_attention=on"
    assert f'href="{link}">See all 12 partners whose assurance is missing or lapses in the next 60 days</a>' in body
    listed = client.get(link).content.decode()
    assert "12 organisations whose assurance is missing or lapses in the next 60 days" in listed
    assert "Council 11" in listed and "Assured council" not in listed
