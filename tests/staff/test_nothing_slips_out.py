"""Nothing slips out of the register unseen: the register page says what the next edition drops, changes and has
yet to show; publishing asks for confirmation when it drops rows; the dashboard flags what needs attention."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from agreements import roles, services
from agreements.models import Agreement
from publishing import services as publishing_services
from publishing.models import Edition
from publishing.registers import register_kind
from tests.factories import TINY_PDF, ParentAgreementFactory, SubLicenceFactory, UserFactory, signed
from tests.publishing.factories import sub_licence_register

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def approver() -> Any:
    return UserFactory(username="approver", role=roles.IG_APPROVER)


def _publish_now() -> Edition:

    return publishing_services.edition_publish(
        register=sub_licence_register(), on=timezone.localdate(), trigger="command"
    )


def test_the_register_page_lists_future_dropped_and_amended_rows_with_their_reasons(approver: Any) -> None:
    today = timezone.localdate()
    parent = ParentAgreementFactory(reference="DARS-NIC-000009", end_date=today + dt.timedelta(days=400))
    staying = signed(SubLicenceFactory(reference="SL/25/1", parent=parent, end_date=today + dt.timedelta(days=300)))
    leaving = SubLicenceFactory(reference="SL/25/3", parent=parent, end_date=today + dt.timedelta(days=300))
    SubLicenceFactory(reference="SL/26/1", parent=parent, start_date=dt.date(2027, 1, 1))
    _publish_now()
    # The parent now ends before SL/25/3 does: the chain fails, and the next edition leaves it out.
    Agreement.objects.filter(pk=parent.pk).update(end_date=today + dt.timedelta(days=200))
    Agreement.objects.filter(pk=staying.pk).update(end_date=today + dt.timedelta(days=100))
    officer = UserFactory(username="officer", role=roles.IG_OFFICER)
    amendment = services.amendment_propose(
        actor=officer, agreement=staying, fields={"data_level": "anonymised"}, reason="Less data"
    )
    services.amendment_submit(actor=officer, amendment=amendment)
    services.amendment_approve(actor=approver, amendment=amendment)

    client = _client(approver)
    page = client.get(reverse("staff:register_next", args=["sub-licences"])).content.decode()
    assert "SL/26/1 starts on 1 January 2027: appears in the first edition after that date" in page
    assert "<strong>SL/25/3</strong>: failed chain: The sub-licence ends on" in page
    assert "<strong>SL/25/1</strong> (amended): Level of Data Shared from Pseudonymised to Anonymised" in page
    assert leaving.reference not in [row["reference"] for row in _rows_now()]

    published = Edition.objects.count()
    response = client.post(reverse("staff:register_publish", args=["sub-licences"]), follow=True)
    assert response.redirect_chain[-1][0] == reverse("staff:register_next", args=["sub-licences"])
    assert "This edition would drop 1 row" in response.content.decode()
    assert Edition.objects.count() == published
    client.post(reverse("staff:register_publish", args=["sub-licences"]), {"confirm_drops": "yes"})
    assert Edition.objects.count() == published + 1


def _rows_now() -> list[dict[str, str]]:
    return register_kind("sub-licences").snapshot(on=timezone.localdate()).rows


def test_the_dashboard_flags_what_needs_attention(approver: Any) -> None:
    unsigned = SubLicenceFactory(reference="SL/25/7")
    broken = SubLicenceFactory(reference="SL/25/8", data_level="identifiable")
    officer = UserFactory(username="officer", role=roles.IG_OFFICER)
    amendment = services.amendment_propose(actor=officer, agreement=unsigned, fields={"title": "New"}, reason="Rename")
    # The amendment brings the signed copy; the live agreement has none until the amendment is approved.
    upload = SimpleUploadedFile("signed.pdf", TINY_PDF, content_type="application/pdf")
    services.amendment_document_add(
        actor=officer, amendment=amendment, upload=upload, title="Signed copy", kind="signed_copy"
    )
    services.amendment_submit(actor=officer, amendment=amendment)
    page = _client(approver).get(reverse("staff:dashboard")).content.decode()
    assert reverse("staff:amendment", args=[unsigned.pk, amendment.pk]) in page
    assert "Amendments waiting for review" in page and "Change of SL/25/7" in page
    assert f"{broken.reference}</a>: The sub-licence shares Identifiable data" in page
    assert "Active agreements with no signed copy" in page and "SL/25/7" in page
