"""Per-agreement public pages: /registers/<register>/entries/<reference>/, read from the edition's snapshot."""

import datetime as dt
import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from agreements import roles
from agreements.models import Agreement, Organisation, validate_reference
from publishing import services
from publishing.converters import EntryReferenceConverter, reference_from_url, reference_to_url
from tests.factories import PurposeFactory, UserFactory
from tests.publishing.factories import (
    SEED_DAY,
    entries_of,
    information_sharing_register,
    partner,
    publish,
    seed_sub_licence,
    shared_agreement,
    statutory_return,
    sub_licence,
    sub_licence_register,
)

pytestmark = pytest.mark.django_db

SL = "/registers/sub-licences/"
IS = "/registers/information-sharing/"


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_a_reference_with_slashes_has_a_clean_stable_url_and_the_register_links_to_it(client) -> None:
    seed_sub_licence()
    publish()
    assert reverse("publishing:entry", args=["sub-licences", "SL/25/1"]) == f"{SL}entries/SL/25/1/"
    html = client.get(SL).content.decode()
    # Relative, so the one stored table leads to the current entry here and to the edition's own entry there.
    assert (
        '<span class="nhsuk-table-responsive__heading" aria-hidden="true">Reference Number </span>'
        '<a href="entries/SL/25/1/">SL/25/1</a></td>'
    ) in html
    page = client.get(f"{SL}entries/SL/25/1/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "<h1>Sub-licence SL/25/1</h1>" in text and "Leicester City Council (ODS code 509): Sub-licensee" in text
    assert page["Cache-Control"] == "public, max-age=300"
    edition_page = client.get(f"{SL}editions/2025-10-22/entries/SL/25/1/")
    assert edition_page.status_code == 200 and "<h1>Sub-licence SL/25/1</h1>" in edition_page.content.decode()
    # The "~" spelling reaches the same entry, by a permanent redirect to the one canonical address.
    redirect = client.get(f"{SL}entries/SL~25~1/")
    assert redirect.status_code == 301 and redirect["Location"] == f"{SL}entries/SL/25/1/"


def test_unknown_references_and_unpublished_registers_are_the_nhs_404_page(client) -> None:
    information_sharing_register()
    assert client.get(f"{IS}entries/ANY/").status_code == 404  # not published yet
    seed_sub_licence()
    publish()
    for url in [
        f"{SL}entries/SL/25/2/",
        f"{SL}entries/SL/25/",
        f"{SL}entries/SL/25/1/extra/",
        f"{SL}editions/2025-10-21/entries/SL/25/1/",
        f"{SL}entries/<script>/",
        "/registers/no-such-register/entries/SL/25/1/",
    ]:
        response = client.get(url)
        assert response.status_code == 404, url
        assert "<h1>Page not found</h1>" in response.content.decode(), url


@pytest.mark.parametrize("reference", ["SL/25/1", "DSA-LLR-2025-009", "A.B_C-1", "A//1", "A/", "A/../1", "A/./1"])
def test_the_url_scheme_is_reversible_and_never_collides(reference) -> None:
    encoded = reference_to_url(reference)
    assert reference_from_url(encoded) == reference
    # Nothing a browser would rewrite: no empty, "." or ".." segments, no trailing slash.
    segments = encoded.split("/")
    assert all(segment not in ("", ".", "..") for segment in segments)
    assert EntryReferenceConverter().to_python(encoded) == reference
    others = ["SL/25/1", "SL/25/10", "DSA-LLR-2025-009", "A.B_C-1", "A//1", "A/", "A/../1", "A/./1", "A/.", "A"]
    for other in others:
        validate_reference(other)  # "~" is never in a reference, which is what keeps the two forms apart.
    with pytest.raises(ValidationError):
        validate_reference("SL~25~1")
    # Different references never share an address.
    assert [other for other in others if reference_to_url(other) == encoded and other != reference] == []


def test_a_reference_a_browser_would_rewrite_still_gets_a_working_page(client) -> None:
    agreement = shared_agreement(reference="ISA/../7")
    publish(information_sharing_register())
    url = reverse("publishing:entry", args=["information-sharing", agreement.reference])
    assert url == f"{IS}entries/ISA~..~7/"
    assert 'href="entries/ISA~..~7/"' in client.get(IS).content.decode()
    assert "<h1>Information sharing agreement ISA/../7</h1>" in client.get(url).content.decode()


def test_the_entry_page_shows_the_public_fields_from_the_snapshot_never_live_data(client) -> None:
    owner = UserFactory(username="secret-owner")
    city = partner(name="Leicester City Council", ods_code="509")
    agreement = shared_agreement(
        reference="ISA-LLR-2025-003",
        title="Internal working title 7731",
        partners=[city],
        summary="We share discharge details so people get care at home.",
        purposes=[PurposeFactory(name="Supporting people leaving hospital")],
        data_level="identifiable",
        statutory_gateway="Care Act 2014, section 6",
        dpia_reference="DPIA-SECRET-4242",
        owner=owner,
        start_date=dt.date(2025, 6, 1),
        end_date=dt.date(2028, 5, 31),
        review_date=dt.date(2026, 6, 1),
        opt_out=Agreement.OptOut.NOT_APPLICABLE,
        opt_out_reason="This is for people's own care.",
    )
    hidden = shared_agreement(reference="ISA-NOT-PUBLIC-55", is_public=False, summary="Hidden summary 9090")
    edition = publish(information_sharing_register())
    assert "ISA-NOT-PUBLIC-55" not in entries_of(edition)

    # After publishing, the live agreement changes: the page keeps showing what was published.
    Agreement.objects.filter(pk=agreement.pk).update(
        summary="LIVE summary changed", review_date=dt.date(2030, 1, 1), is_public=False
    )
    Organisation.objects.filter(pk=city.pk).update(name="LIVE renamed council")
    response = client.get(f"{IS}entries/ISA-LLR-2025-003/")
    assert response.status_code == 200
    html = response.content.decode().replace("&#x27;", "'")
    for shown in [
        "<h1>Information sharing agreement ISA-LLR-2025-003</h1>",
        "We share discharge details so people get care at home.",
        "Leicester City Council (ODS code 509): Joint controller",
        "NHS Leicester, Leicestershire and Rutland ICB (ODS code QK1): Joint controller",
        "Supporting people leaving hospital",
        "Identifiable",
        "UK GDPR Article 6(1)(e) public task; Article 9(2)(h) health or social care; Care Act 2014, section 6",
        "1 June 2025",
        "31 May 2028",
        "1 June 2026",
        "No \u2014 the national data opt-out does not apply to this sharing. This is for people's own care.",
    ]:
        assert shown in html, shown
    for never in ["LIVE", "2030", "DPIA-SECRET-4242", "secret-owner", "Internal working title 7731", "Hidden summary"]:
        assert never not in html, never
    assert client.get(f"{IS}entries/{hidden.reference}/").status_code == 404


def test_the_statutory_return_entry_says_the_opt_out_does_not_apply(client) -> None:
    statutory_return()
    publish(information_sharing_register())
    html = client.get(f"{IS}entries/SR-LCC-ASC-CLD/").content.decode()
    assert "No \u2014 a legal requirement (statutory return); the national data opt-out does not apply" in html
    assert "Health and Social Care Act 2012, section 259" in html and "No end date" in html
    assert "Leicester City Council (ODS code 509): Provider" in html and "NHS England (ODS code X24): Recipient" in html


def test_html_in_entry_fields_is_escaped(client) -> None:
    shared_agreement(
        reference="ISA-X",
        partners=[partner(name="<script>alert(1)</script> & Sons", ods_code="RX1")],
        summary="<b>bold</b>",
    )
    publish(information_sharing_register())
    html = client.get(f"{IS}entries/ISA-X/").content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Sons" in html and "<script>alert(1)" not in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html and "<b>bold</b>" not in html


def test_archived_editions_keep_their_entries_and_withdrawn_ones_lose_them(client) -> None:
    seed_sub_licence()
    dropped = sub_licence(reference="SL/25/2")
    publish(on=dt.date(2025, 7, 1))
    Agreement.objects.filter(pk=dropped.pk).update(status=Agreement.Status.TERMINATED)
    second = publish(on=SEED_DAY)
    assert client.get(f"{SL}entries/SL/25/2/").status_code == 404
    old = client.get(f"{SL}editions/2025-07-01/entries/SL/25/2/")
    assert old.status_code == 200 and "This entry is from an earlier edition" in old.content.decode()
    assert 'href="entries/SL/25/2/"' in client.get(f"{SL}editions/2025-07-01/").content.decode()
    services.edition_withdraw(actor=UserFactory(role=roles.IG_APPROVER), edition=second, reason="Mistake")
    assert client.get(f"{SL}editions/2025-10-22/entries/SL/25/1/").status_code == 404
    # The previous edition is current again, and so are its entries.
    assert client.get(f"{SL}entries/SL/25/2/").status_code == 200


def test_the_json_lists_each_public_entry_with_its_permanent_address(client) -> None:
    statutory_return(dpia_reference="DPIA-SECRET-1")
    publish(information_sharing_register())
    document = json.loads(_body(client.get(f"{IS}latest.json")))
    assert document["format_version"] == 1
    (entry,) = document["entries"]
    assert entry["reference"] == "SR-LCC-ASC-CLD" and entry["type"] == "Statutory return"
    assert entry["url"] == f"{IS}editions/2025-10-22/entries/SR-LCC-ASC-CLD/"
    assert client.get(entry["url"]).status_code == 200
    assert entry["parties"] == [
        {"name": "Leicester City Council", "ods_code": "509", "role": "Provider"},
        {"name": "NHS England", "ods_code": "X24", "role": "Recipient"},
    ]
    assert entry["start_date"] == "2023-04-01" and entry["end_date"] == "" and entry["review_date"] == "2025-10-22"
    assert set(entry) == {
        "reference",
        "type",
        "summary",
        "purposes",
        "parties",
        "data_level",
        "legal_basis",
        "start_date",
        "end_date",
        "review_date",
        "opt_out",
        "url",
    }
    assert "DPIA" not in json.dumps(document)
    # The rows keep exactly the register's columns.
    assert list(document["rows"][0]) == [column["key"] for column in document["columns"]]


def test_a_preview_table_links_to_entries_only_staff_can_open(client) -> None:
    seed_sub_licence()
    officer = UserFactory(role=roles.IG_OFFICER)
    preview = services.edition_preview(actor=officer, register=sub_licence_register(), on=SEED_DAY)
    url = f"/staff/registers/sub-licences/editions/{preview.pk}/entries/SL/25/1/"
    assert client.get(url).status_code == 302  # to sign in
    client.force_login(UserFactory(role=None))
    assert client.get(url).status_code == 403
    client.force_login(officer)
    page = client.get(f"/staff/registers/sub-licences/editions/{preview.pk}/").content.decode()
    assert 'href="entries/SL/25/1/"' in page
    response = client.get(url)
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    html = response.content.decode()
    assert "<h1>Sub-licence SL/25/1</h1>" in html and "would be published" in html
    assert client.get(f"/staff/registers/sub-licences/editions/{preview.pk}/entries/SL/25/9/").status_code == 404
    # Never public.
    client.logout()
    assert client.get(f"{SL}editions/{preview.slug}/entries/SL/25/1/").status_code == 404
