"""Linkages of non-health data: the services, the daily recheck, the dashboard and the staff pages."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse

from agreements import selectors, services
from agreements.models import Agreement, Dataset, Linkage, Organisation, Party, PermittedPurpose
from audit.models import AuditEvent
from tests.factories import AgreementFactory, DatasetFactory, OrganisationFactory, PartyFactory, UserFactory, signed

pytestmark = pytest.mark.django_db

Role = Party.Role
Status = Linkage.Status
CATEGORY = Dataset.Category.CHILDRENS_SOCIAL_CARE
TODAY = dt.datetime(2026, 3, 10, 9, tzinfo=dt.UTC)


@pytest.fixture
def officer():
    return UserFactory(username="officer", role="IG officer")


@pytest.fixture
def orgs():
    return {
        "icb": OrganisationFactory(name="LLR ICB", kind=Organisation.Kind.ICB),
        "provider": OrganisationFactory(name="Leicester City Council"),
        "processor": OrganisationFactory(name="Charnwood Health Analytics", kind=Organisation.Kind.DATA_PROCESSOR),
    }


def _agreement(kind: str, reference: str, parties: list[tuple[Organisation, str]], **fields: object) -> Agreement:
    agreement = AgreementFactory(kind=kind, reference=reference, **fields)
    for organisation, role in parties:
        PartyFactory(agreement=agreement, organisation=organisation, role=role)
    return agreement


def _dpa(orgs, **fields) -> Agreement:
    return _agreement(
        Agreement.Kind.DPA,
        "DPA-1",
        [(orgs["provider"], Role.CONTROLLER), (orgs["processor"], Role.PROCESSOR)],
        **fields,
    )


def _dsa_and_contract(orgs) -> None:
    _agreement(Agreement.Kind.DSA, "DSA-1", [(orgs["icb"], Role.RECIPIENT), (orgs["provider"], Role.PROVIDER)])
    _agreement(
        Agreement.Kind.PROCESSOR_CONTRACT, "PC-1", [(orgs["icb"], Role.CONTROLLER), (orgs["processor"], Role.PROCESSOR)]
    )


def _create(officer, orgs, **overrides) -> Linkage:
    fields = {
        "title": "Early help linked to commissioning data",
        "icb": orgs["icb"],
        "provider": orgs["provider"],
        "processor": orgs["processor"],
        "category": CATEGORY,
        "justification": "To understand the health of families receiving early help.",
        **overrides,
    }
    return services.linkage_create(
        actor=officer,
        fields=fields,
        datasets=[DatasetFactory(provider=orgs["provider"], category=CATEGORY)],
        purposes=PermittedPurpose.objects.filter(category=fields["category"])[:2],
        reason="New linkage",
    )


# --- Services ------------------------------------------------------------------------------------------------


def test_linkage_create_records_a_draft_with_history(officer, orgs) -> None:
    linkage = _create(officer, orgs)
    assert linkage.status == Status.DRAFT
    assert linkage.purposes.count() == 2
    [event] = AuditEvent.objects.filter(linkage=linkage)
    assert (event.action, event.actor, event.reason) == (AuditEvent.Action.CREATED, officer, "New linkage")
    assert event.changes["Title"] == ["", "Early help linked to commissioning data"]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ("icb_is_council", "icb", "Leicester City Council is not an integrated care board: choose the ICB"),
        ("same_provider", "provider", "The provider must be a different organisation from the ICB and the data"),
        ("no_title", "title", "This field cannot be blank."),
        ("health_category", "category", "Choose children's social care and early help, education, housing or"),
    ],
)  # fmt: skip
def test_linkage_create_refuses_bad_input_and_writes_nothing(officer, orgs, overrides, field, message) -> None:
    changes = {
        "icb_is_council": {"icb": orgs["provider"]},
        "same_provider": {"provider": orgs["processor"]},
        "no_title": {"title": ""},
        "health_category": {"category": Dataset.Category.HEALTH_COMMISSIONING},
    }[overrides]
    with pytest.raises(ValidationError) as error:
        _create(officer, orgs, **changes)
    assert error.value.message_dict[field][0].startswith(message)
    assert not Linkage.objects.exists()
    assert not AuditEvent.objects.filter(linkage__isnull=False).exists()


def test_a_purpose_of_another_category_cannot_be_chosen(officer, orgs) -> None:
    with pytest.raises(ValidationError) as error:
        services.linkage_create(
            actor=officer,
            fields={
                "title": "Housing",
                "icb": orgs["icb"],
                "provider": orgs["provider"],
                "processor": orgs["processor"],
                "category": Dataset.Category.EDUCATION,
                "justification": "x",
            },
            purposes=PermittedPurpose.objects.filter(category="housing")[:1],
        )
    assert error.value.message_dict["purposes"][0].startswith(
        "NHS England does not permit this purpose for Education data: To create early indicators"
    )
    assert not Linkage.objects.exists()


@time_machine.travel(TODAY)
def test_a_linkage_cannot_be_activated_while_an_item_fails(officer, orgs) -> None:
    _dsa_and_contract(orgs)
    linkage = _create(officer, orgs)
    with pytest.raises(ValidationError) as error:
        services.linkage_activate(actor=officer, linkage=linkage)
    assert error.value.messages == [
        "A data processing agreement between Leicester City Council (as controller) and Charnwood Health Analytics "
        "(as processor): Missing: no data processing agreement between them is recorded"
    ]
    linkage.refresh_from_db()
    assert linkage.status == Status.DRAFT

    _dpa(orgs)
    services.linkage_activate(actor=officer, linkage=linkage, reason="IG board 9 March")
    linkage.refresh_from_db()
    assert linkage.status == Status.ACTIVE
    assert AuditEvent.objects.filter(linkage=linkage, action=AuditEvent.Action.ACTIVATED).get().changes == {
        "Status": ["Draft", "Active"]
    }


def test_it_flips_to_not_permitted_the_day_an_agreement_ends(officer, orgs) -> None:
    with time_machine.travel(TODAY):
        _dsa_and_contract(orgs)
        _dpa(orgs, end_date=dt.date(2026, 3, 31))
        linkage = _create(officer, orgs)
        services.linkage_activate(actor=officer, linkage=linkage)
    with time_machine.travel(dt.datetime(2026, 3, 31, 20, tzinfo=dt.UTC)):  # 31 March, the DPA's last day
        assert services.linkages_recheck() == []
        assert selectors.linkages_not_permitted() == []
    with time_machine.travel(dt.datetime(2026, 4, 1, 0, 30, tzinfo=dt.UTC)):  # 1 April, 01:30 in London
        # The dashboard says so before the nightly recheck has run.
        [state] = selectors.linkages_not_permitted()
        assert state.linkage == linkage
        assert "DPA-1 ended on 31 March 2026" in state.checklist.failures[0].message
        assert services.linkages_recheck() == [linkage.pk]
        assert services.linkages_recheck() == []  # idempotent
    linkage.refresh_from_db()
    assert linkage.status == Status.NOT_PERMITTED
    event = AuditEvent.objects.get(linkage=linkage, action=AuditEvent.Action.NOT_PERMITTED)
    assert event.actor is None and "DPA-1 ended on 31 March 2026" in event.reason


@time_machine.travel(TODAY)
def test_an_active_linkage_cannot_be_changed_into_one_that_is_not_permitted(officer, orgs) -> None:
    _dsa_and_contract(orgs)
    _dpa(orgs)
    linkage = _create(officer, orgs)
    services.linkage_activate(actor=officer, linkage=linkage)
    with pytest.raises(ValidationError) as error:
        services.linkage_update(actor=officer, linkage=linkage, fields={"title": "x"})
    assert error.value.message_dict == {"reason": ["Enter why you are changing an active linkage"]}
    other = OrganisationFactory(kind=Organisation.Kind.DATA_PROCESSOR)
    with pytest.raises(ValidationError, match="Missing: no data processing agreement"):
        services.linkage_update(actor=officer, linkage=linkage, fields={"processor": other}, reason="New processor")
    linkage.refresh_from_db()
    assert linkage.processor == orgs["processor"]


def test_closing_needs_a_reason_and_ends_changes(officer, orgs) -> None:
    linkage = _create(officer, orgs)
    with pytest.raises(ValidationError):
        services.linkage_close(actor=officer, linkage=linkage, reason=" ")
    services.linkage_close(actor=officer, linkage=linkage, reason="Project finished")
    with pytest.raises(ValidationError, match="closed and can no longer be changed"):
        services.linkage_update(actor=officer, linkage=linkage, fields={"title": "x"})
    with pytest.raises(ValidationError, match="only a draft or a linkage that is not permitted can be activated"):
        services.linkage_activate(actor=officer, linkage=linkage)


# --- Sub-licence approval ------------------------------------------------------------------------------------


def test_approval_refuses_a_sub_licence_that_breaks_the_chain_or_assurance(officer) -> None:
    approver = UserFactory(username="approver", role="IG approver")
    parent = AgreementFactory(reference="DARS-NIC-1", permits_sub_licensing=False, end_date=dt.date(2028, 3, 31))
    partner = OrganisationFactory(name="Rutland County Council", ico_registration_number="")
    sub_licence = services.sub_licence_create(
        actor=officer,
        sub_licensee=partner,
        fields={
            "title": "Sub-licence",
            "parent": parent,
            "start_date": dt.date(2025, 10, 22),
            "end_date": dt.date(2028, 3, 31),
            "data_level": "identifiable",
            "article_6_basis": Agreement.Article6.PUBLIC_TASK,
            "common_law_basis": Agreement.CommonLaw.NOT_CONFIDENTIAL,
        },
    )
    signed(sub_licence)
    expected = [
        "The parent agreement DARS-NIC-1 does not permit sub-licensing",
        "The sub-licence shares Identifiable data, which is more identifiable than the Pseudonymised data its "
        "parent DARS-NIC-1 allows",
        "Rutland County Council has no ICO registration number on record",
    ]
    # Refused at submission already, with every rule it breaks (its readiness checklist)...
    with pytest.raises(ValidationError) as error:
        services.agreement_submit(actor=officer, agreement=sub_licence)
    assert error.value.messages == expected
    # ...and again at approval, for one that reached review anyway (say its parent changed since).
    Agreement.objects.filter(pk=sub_licence.pk).update(status=Agreement.Status.IN_REVIEW)
    with pytest.raises(ValidationError) as error:
        services.agreement_approve(actor=approver, agreement=sub_licence)
    assert error.value.messages == expected
    sub_licence.refresh_from_db()
    assert sub_licence.status == Agreement.Status.IN_REVIEW


# --- Staff pages ---------------------------------------------------------------------------------------------


@time_machine.travel(TODAY)
def test_the_linkage_page_shows_the_checklist(client, officer, orgs) -> None:
    _dsa_and_contract(orgs)
    linkage = _create(officer, orgs)
    client.force_login(officer)
    response = client.get(reverse("staff:linkage_detail", args=[linkage.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("✗") == 1
    assert html.count("✓") == 4
    assert "Missing: no data processing agreement between them is recorded" in html
    assert "DSA-1" in html and "ends 31 March 2028" in html
    assert reverse("staff:agreement_create") in html


@time_machine.travel(TODAY)
def test_activating_from_the_page_shows_what_is_missing(client, officer, orgs) -> None:
    _dsa_and_contract(orgs)
    linkage = _create(officer, orgs)
    client.force_login(officer)
    response = client.post(reverse("staff:linkage_activate", args=[linkage.pk]), {"reason": ""})
    assert response.status_code == 200
    assert "There is a problem" in response.content.decode()
    assert "Missing: no data processing agreement" in response.content.decode()
    _dpa(orgs)
    response = client.post(reverse("staff:linkage_activate", args=[linkage.pk]), {"reason": ""})
    assert response.status_code == 302
    linkage.refresh_from_db()
    assert linkage.status == Status.ACTIVE


def test_create_form_keeps_what_was_typed_and_says_what_is_wrong(client, officer, orgs) -> None:
    client.force_login(officer)
    response = client.post(
        reverse("staff:linkage_create"),
        {"title": "<script>alert(1)</script>", "icb": orgs["icb"].pk, "category": CATEGORY},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Select the provider organisation" in html and "Enter why the linkage is needed" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
    assert not Linkage.objects.exists()


def test_create_form_records_a_draft(client, officer, orgs) -> None:
    client.force_login(officer)
    purpose = PermittedPurpose.objects.filter(category=CATEGORY).first()
    data = {
        "title": "Early help",
        "icb": orgs["icb"].pk,
        "provider": orgs["provider"].pk,
        "processor": orgs["processor"].pk,
        "category": CATEGORY,
        "purposes": [purpose.pk],
        "justification": "Because",
        "creation_key": "5a1f7c44-64a5-4b8e-9a0a-2b7d0c3f1e11",
    }
    first = client.post(reverse("staff:linkage_create"), data)
    second = client.post(reverse("staff:linkage_create"), data)  # a double-clicked submit
    linkage = Linkage.objects.get()
    assert first["Location"] == second["Location"] == reverse("staff:linkage_detail", args=[linkage.pk])
    assert list(linkage.purposes.all()) == [purpose]


@pytest.mark.parametrize(
    ("role", "status"),
    [("IG officer", 200), ("IG approver", 200), ("Auditor", 200), ("", 403)],
)
def test_who_may_see_linkages(client, orgs, role, status) -> None:
    linkage = Linkage.objects.create(
        title="L", icb=orgs["icb"], provider=orgs["provider"], processor=orgs["processor"], category=CATEGORY
    )
    client.force_login(UserFactory(role=role or None))
    for name, args in [
        ("staff:linkage_list", []),
        ("staff:linkage_detail", [linkage.pk]),
        ("staff:permitted_purposes", []),
    ]:
        assert client.get(reverse(name, args=args)).status_code == status


def test_an_auditor_cannot_change_or_activate(client, orgs) -> None:
    linkage = Linkage.objects.create(
        title="L", icb=orgs["icb"], provider=orgs["provider"], processor=orgs["processor"], category=CATEGORY
    )
    client.force_login(UserFactory(role="Auditor"))
    assert client.get(reverse("staff:linkage_create")).status_code == 403
    assert client.get(reverse("staff:linkage_edit", args=[linkage.pk])).status_code == 403
    assert client.post(reverse("staff:linkage_activate", args=[linkage.pk])).status_code == 403
    assert client.post(reverse("staff:linkage_close", args=[linkage.pk]), {"reason": "x"}).status_code == 403


def test_the_permitted_purposes_page_lists_nhs_englands_reference_data(client, officer) -> None:
    client.force_login(officer)
    html = client.get(reverse("staff:permitted_purposes")).content.decode()
    assert "Housing data" in html and "Children&#x27;s youth offer data" in html
    assert "free school meals" in html
    assert "a data processing agreement" in html


@time_machine.travel(TODAY)
def test_the_dashboard_lists_linkages_not_permitted_and_partners_lapsing(client, officer, orgs) -> None:
    _dsa_and_contract(orgs)
    linkage = _create(officer, orgs, title="Early help linkage")
    Linkage.objects.filter(pk=linkage.pk).update(status=Status.ACTIVE)
    partner = OrganisationFactory(name="Rutland County Council", ico_registration_expires=dt.date(2026, 4, 30))
    from tests.factories import SubLicenceFactory

    SubLicenceFactory(reference="SL/26/3", sub_licensee=partner)
    client.force_login(officer)
    html = client.get(reverse("staff:dashboard")).content.decode()
    assert "Linkages not permitted" in html and "Early help linkage" in html
    assert "Rutland County Council" in html and "Lapses on 1 May 2026" in html and "SL/26/3" in html


def test_a_partner_contact_sees_no_rules_sections_on_the_dashboard(client, orgs) -> None:
    partner_user = UserFactory()
    client.force_login(partner_user)
    response = client.get(reverse("staff:dashboard"))
    assert response.status_code == 200
    assert "Linkages not permitted" not in response.content.decode()


def test_anonymous_visitors_are_sent_to_sign_in(client) -> None:
    for url in ["/staff/linkages/", "/staff/linkages/999/", "/staff/linkages/999/edit/", "/staff/linkages/999/close/"]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_my_recent_changes_on_the_dashboard_link_to_the_linkage(client, officer, orgs) -> None:
    linkage = _create(officer, orgs, title="Housing linkage")
    client.force_login(officer)
    html = client.get(reverse("staff:dashboard")).content.decode()
    assert f'<a href="{reverse("staff:linkage_detail", args=[linkage.pk])}">Housing linkage</a>' in html
    assert "Other record" not in html


@time_machine.travel(TODAY)
def test_an_amendment_that_would_end_a_linkage_says_so_in_review(client, officer, orgs) -> None:
    _dsa_and_contract(orgs)
    dpa = _dpa(orgs)
    linkage = _create(officer, orgs)
    services.linkage_activate(actor=officer, linkage=linkage)
    amendment = services.amendment_propose(
        actor=officer, agreement=dpa, fields={"end_date": dt.date(2026, 3, 1)}, reason="The contract ends early"
    )
    [effect] = selectors.linkage_effects(proposed=selectors.amendment_proposed_version(amendment=amendment))
    assert effect.now.permitted and not effect.proposed.permitted
    assert effect.sentence.startswith(f"The linkage {linkage.title} would stop being permitted: ")
    assert "DPA-1 ended on 1 March 2026" in effect.sentence
    client.force_login(UserFactory(username="approver", role="IG approver"))
    page = client.get(reverse("staff:amendment", args=[dpa.pk, amendment.pk])).content.decode()
    assert f"The linkage {linkage.title} would stop being permitted" in page
