"""Who sees what in the staff area: a permission matrix over every staff URL, and constant-cost partner lists."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agreements import roles, services
from agreements.models import Agreement, Party
from tests.factories import AgreementFactory, OrganisationFactory, PartyFactory, UserFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
USERS = ["anonymous", "partner_a", "partner_b", "officer", "approver", "auditor", "superuser"]


@dataclass
class World:
    org_a: Any
    org_b: Any
    agreement_a: Agreement
    agreement_b: Agreement
    document_a: Any
    clients: dict[str, Client]


@pytest.fixture
def world() -> World:
    org_a, org_b = OrganisationFactory(name="Organisation A"), OrganisationFactory(name="Organisation B")
    agreement_a = AgreementFactory(status=Agreement.Status.IN_REVIEW, title="A's agreement")
    PartyFactory(agreement=agreement_a, organisation=org_a, role=Party.Role.RECIPIENT)
    # Organisation B's draft: partner A must not even learn that it exists.
    agreement_b = AgreementFactory(status=Agreement.Status.DRAFT, title="B's draft")
    PartyFactory(agreement=agreement_b, organisation=org_b, role=Party.Role.RECIPIENT)
    officer = UserFactory(username="officer", role=roles.IG_OFFICER)
    document_a = services.document_add(
        actor=officer,
        agreement=agreement_a,
        upload=SimpleUploadedFile("signed.pdf", PDF, content_type="application/pdf"),
        title="Signed copy",
        kind="signed_copy",
    )
    users = {
        "partner_a": UserFactory(username="partner-a"),
        "partner_b": UserFactory(username="partner-b"),
        "officer": officer,
        "approver": UserFactory(username="approver", role=roles.IG_APPROVER),
        "auditor": UserFactory(username="auditor", role=roles.AUDITOR),
        "superuser": UserFactory(username="root", is_superuser=True, is_staff=True),
    }
    services.partner_contact_grant(actor=None, user=users["partner_a"], organisation=org_a)
    services.partner_contact_grant(actor=None, user=users["partner_b"], organisation=org_b)
    clients = {"anonymous": Client()}
    for name, user in users.items():
        clients[name] = Client()
        clients[name].force_login(user)
    return World(org_a, org_b, agreement_a, agreement_b, document_a, clients)


# Expected status for: anonymous, partner of A, partner of B, officer, approver, auditor, superuser.
# 302 is the redirect to sign in; 404 hides an object the user may not see; 403 refuses what they can see.
LISTS = (302, 200, 200, 200, 200, 200, 200)
CREATE = (302, 403, 403, 200, 200, 403, 200)
SEE_A = (302, 200, 404, 200, 200, 200, 200)
EDIT_AGREEMENT_A = (302, 200, 404, 200, 200, 403, 200)
EDIT_ORGANISATION_A = (302, 403, 404, 200, 200, 403, 200)
SUBMIT_A = (302, 403, 404, 200, 200, 403, 200)
APPROVE_A = (302, 403, 404, 403, 200, 403, 200)
SEE_B = (302, 404, 200, 200, 200, 200, 200)

MATRIX = [
    ("staff:dashboard", None, LISTS),
    ("staff:organisation_list", None, LISTS),
    ("staff:agreement_list", None, LISTS),
    ("staff:organisation_create", None, CREATE),
    ("staff:agreement_create", None, CREATE),
    ("staff:sub_licence_create", None, CREATE),
    ("staff:organisation_detail", "org_a", SEE_A),
    ("staff:organisation_edit", "org_a", EDIT_ORGANISATION_A),
    ("staff:agreement_detail", "agreement_a", SEE_A),
    ("staff:agreement_edit", "agreement_a", EDIT_AGREEMENT_A),
    ("staff:agreement_submit", "agreement_a", SUBMIT_A),
    ("staff:agreement_approve", "agreement_a", APPROVE_A),
    ("staff:agreement_return", "agreement_a", APPROVE_A),
    ("staff:agreement_terminate", "agreement_a", APPROVE_A),
    ("staff:document_create", "agreement_a", EDIT_AGREEMENT_A),
    ("staff:document_download", "document_a", SEE_A),
    ("staff:agreement_detail", "agreement_b", SEE_B),
    ("staff:organisation_detail", "org_b", SEE_B),
]


def _url(world: World, name: str, target: str | None) -> str:
    if target is None:
        return reverse(name)
    if target == "document_a":
        return reverse(name, args=[world.agreement_a.pk, world.document_a.pk])
    return reverse(name, args=[getattr(world, target).pk])


@pytest.mark.parametrize(("name", "target", "expected"), MATRIX, ids=[f"{m[0]}-{m[1]}" for m in MATRIX])
def test_permission_matrix(world: World, name: str, target: str | None, expected: tuple[int, ...]) -> None:
    url = _url(world, name, target)
    actual = tuple(world.clients[user].get(url).status_code for user in USERS)
    assert dict(zip(USERS, actual, strict=True)) == dict(zip(USERS, expected, strict=True)), url


def test_anonymous_is_sent_to_sign_in(world: World) -> None:
    response = world.clients["anonymous"].get(reverse("staff:agreement_list"))
    assert response.url.startswith(reverse("login") + "?next=")


def test_partner_cannot_approve_by_posting(world: World) -> None:
    url = reverse("staff:agreement_approve", args=[world.agreement_a.pk])
    assert world.clients["partner_a"].post(url, {"reason": ""}).status_code == 403
    assert world.clients["partner_b"].post(url, {"reason": ""}).status_code == 404
    world.agreement_a.refresh_from_db()
    assert world.agreement_a.status == Agreement.Status.IN_REVIEW


def test_partner_lists_show_only_their_organisations_agreements(world: World) -> None:
    body = world.clients["partner_a"].get(reverse("staff:agreement_list")).content.decode()
    assert world.agreement_a.reference in body
    assert world.agreement_b.reference not in body
    dashboard = world.clients["partner_a"].get(reverse("staff:dashboard")).content.decode()
    assert world.agreement_b.reference not in dashboard
    organisations = world.clients["partner_a"].get(reverse("staff:organisation_list")).content.decode()
    assert "Organisation A" in organisations
    assert "Organisation B" not in organisations


def test_partner_download_of_another_organisations_document_is_404(world: World) -> None:
    other = services.document_add(
        actor=world.agreement_a.documents.get().uploaded_by,
        agreement=world.agreement_b,
        upload=SimpleUploadedFile("b.pdf", PDF, content_type="application/pdf"),
        title="B's copy",
        kind="signed_copy",
    )
    # Neither through B's agreement nor by pairing B's document with A's agreement.
    assert (
        world.clients["partner_a"]
        .get(reverse("staff:document_download", args=[world.agreement_b.pk, other.pk]))
        .status_code
        == 404
    )
    assert (
        world.clients["partner_a"]
        .get(reverse("staff:document_download", args=[world.agreement_a.pk, other.pk]))
        .status_code
        == 404
    )


def _partner_with_agreements(count: int) -> Client:
    organisation = OrganisationFactory()
    partner = UserFactory()
    services.partner_contact_grant(actor=None, user=partner, organisation=organisation)
    for _ in range(count):
        agreement = AgreementFactory()
        PartyFactory(agreement=agreement, organisation=organisation)
        PartyFactory(agreement=agreement)  # another party, to be shown by name too
        AgreementFactory()  # someone else's, never shown
    client = Client()
    client.force_login(partner)
    return client


def _queries(client: Client, url: str) -> int:
    client.get(url)  # warm the per-process caches (content types, permissions) first
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context.captured_queries)


@pytest.mark.parametrize("name", ["staff:agreement_list", "staff:dashboard", "staff:organisation_list"])
def test_partner_pages_cost_the_same_for_5_and_50_rows(name: str, django_assert_max_num_queries: Any) -> None:
    url = reverse(name)
    few = _queries(_partner_with_agreements(5), url)
    many_client = _partner_with_agreements(50)
    with django_assert_max_num_queries(few):
        many_client.get(url)
    assert _queries(many_client, url) == few
