import datetime as dt

import pytest

from agreements import roles
from publishing import services
from tests.factories import UserFactory
from tests.publishing.factories import (
    SEED_DAY,
    partner,
    publish,
    rows_of,
    seed_sub_licence,
    sub_licence,
    sub_licence_register,
)

pytestmark = pytest.mark.django_db

BASE = "/registers/sub-licences/"


@pytest.fixture
def two_editions():
    seed_sub_licence()
    first = publish(on=dt.date(2025, 7, 1))
    sub_licence(reference="SL/25/2", sub_licensee=partner(name="<script>alert(1)</script> & Sons", ods_code="RX1"))
    second = publish(on=SEED_DAY)
    return first, second


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_the_current_register_page_shows_table_downloads_changes_and_archive(client, two_editions) -> None:
    response = client.get(BASE)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Sub Licence Release Register</h1>" in html
    assert "NHS Leicester, Leicestershire and Rutland" in html
    assert "Last updated 22 October 2025" in html
    assert (
        '<caption class="nhsuk-table__caption">Sub Licence Release Register (last updated 22 October 2025)</caption>'
        in html
    )
    assert '<th scope="col" class="nhsuk-table__header">Reference Number</th>' in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Sons" in html and "<script>alert(1)" not in html
    assert f'href="{BASE}latest.pdf">Sub Licence Release Register (PDF, ' in html
    assert "KB)" in html and "(CSV, " in html and "(JSON, " in html
    assert "What changed since the previous edition" in html
    assert "Added (2)" in html and "SL/25/2" in html
    assert f'href="{BASE}editions/"' in html
    assert response["Cache-Control"] == "public, max-age=300"


def test_files_have_permanent_names_etags_and_cache_headers(client, two_editions) -> None:
    _first, second = two_editions
    response = client.get(f"{BASE}latest.pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'inline; filename="sub-licence-release-register-2025-10-22.pdf"'
    pdf = second.files.get(format="pdf")
    assert response["ETag"] == f'"{pdf.sha256}"'
    assert _body(response).startswith(b"%PDF")
    assert client.get(f"{BASE}latest.pdf", HTTP_IF_NONE_MATCH=f'"{pdf.sha256}"').status_code == 304
    csv_response = client.get(f"{BASE}editions/2025-07-01.csv")
    assert csv_response["Content-Disposition"] == 'attachment; filename="sub-licence-release-register-2025-07-01.csv"'
    assert csv_response["Content-Type"] == "text/csv; charset=utf-8"
    assert "max-age=3600" in csv_response["Cache-Control"]
    json_response = client.get(f"{BASE}latest.json")
    assert json_response["Content-Type"] == "application/json"
    assert b'"last_updated": "2025-10-22"' in _body(json_response)
    assert client.get(f"{BASE}latest.exe").status_code == 404
    assert client.get(f"{BASE}editions/2025-07-01.html").status_code == 404


def test_the_archive_lists_every_published_edition_and_each_has_a_permanent_page(client, two_editions) -> None:
    html = client.get(f"{BASE}editions/").content.decode()
    assert f'href="{BASE}editions/2025-10-22/"' in html and f'href="{BASE}editions/2025-07-01/"' in html
    old = client.get(f"{BASE}editions/2025-07-01/").content.decode()
    assert "This is an earlier edition" in old and "This is the first edition of this register." in old


def test_withdrawn_drafts_failed_and_unknown_editions_never_appear(client, two_editions) -> None:
    _first, second = two_editions
    approver = UserFactory(role=roles.IG_APPROVER)
    services.edition_withdraw(actor=approver, edition=second, reason="Mistake")
    preview = services.edition_preview(actor=approver, register=sub_licence_register())
    assert client.get(f"{BASE}editions/2025-10-22/").status_code == 404
    assert client.get(f"{BASE}editions/2025-10-22.pdf").status_code == 404
    assert client.get(f"{BASE}editions/{preview.slug}/").status_code == 404
    assert client.get(f"{BASE}latest.json")["Content-Disposition"].endswith('2025-07-01.json"')
    html = client.get(BASE).content.decode()
    assert "Last updated 1 July 2025" in html and "SL/25/2" not in html
    assert "2025-10-22" not in client.get(f"{BASE}editions/").content.decode()
    assert client.get("/registers/no-such-register/").status_code == 404


def test_public_pages_never_query_live_agreements(client, two_editions) -> None:
    from agreements.models import Agreement

    Agreement.objects.all().update(is_public=False)
    assert "SL/25/2" in client.get(BASE).content.decode()


def test_an_unpublished_register_says_so_and_home_lists_registers_with_dates(client) -> None:
    sub_licence_register()
    assert "has not been published yet" in client.get(BASE).content.decode()
    assert "Not published yet" in client.get("/").content.decode()
    seed_sub_licence()
    publish()
    home = client.get("/").content.decode()
    assert f'href="{BASE}">Sub Licence Release Register</a>' in home and "Last updated 22 October 2025" in home


def test_a_row_dropped_for_lapsed_assurance_shows_as_removed_with_a_public_reason(client) -> None:
    from agreements.models import Organisation

    lapsing = partner(name="Lapsing Partner", ods_code="LP1")
    seed_sub_licence()
    sub_licence(reference="SL/25/2", sub_licensee=lapsing)
    first = publish(on=dt.date(2025, 7, 1))
    assert "SL/25/2" in [row["reference"] for row in rows_of(first)]
    Organisation.objects.filter(pk=lapsing.pk).update(dspt_status=Organisation.DsptStatus.NOT_MET)
    second = publish(on=SEED_DAY)
    assert "SL/25/2" not in [row["reference"] for row in rows_of(second)]
    html = client.get(BASE).content.decode()
    assert "Removed (1)" in html
    reason = second.metadata["removal_notes"]["SL/25/2"]
    assert reason and f"({reason})" in html.replace("&#x27;", "'")
    assert "Not Met" not in html


def test_two_editions_of_one_day_are_told_apart_in_the_archive(client) -> None:
    seed_sub_licence()
    first, second = publish(on=SEED_DAY), publish(on=SEED_DAY)
    assert (first.day_number, second.day_number) == (1, 2)
    html = client.get(f"{BASE}editions/").content.decode()
    assert f'href="{BASE}editions/2025-10-22-2/">22 October 2025, edition 2 of the day</a>' in html
    assert f'href="{BASE}editions/2025-10-22/">22 October 2025</a>' in html
    # And when each was published, to the minute.
    from django.utils import timezone

    assert f"{timezone.localtime(second.published_at):%-d %B %Y, %H:%M}" in html


def test_downloads_come_before_the_table_and_rows_stack_on_a_phone(client) -> None:
    seed_sub_licence()
    publish(on=SEED_DAY)
    html = client.get(BASE).content.decode()
    assert html.index("Download this edition") < html.index("<table")
    assert '<table class="nhsuk-table-responsive">' in html
    # Each cell carries its column's label, which NHS.UK's responsive table shows when the row stacks at 320 px.
    assert '<span class="nhsuk-table-responsive__heading" aria-hidden="true">ODS Code </span>509' in html


def test_the_register_page_closes_with_the_registers_own_wording_as_its_pdf_does(client) -> None:
    register = sub_licence_register()
    register.team_name = "the LLR ICB's Corporate Governance Team"
    register.contact_sentence = "If you have any questions about Sub Licensing, please contact {team} via:"
    register.privacy_notice_sentence = "For further information on how the LLR ICB uses data, please refer to"
    register.save()
    seed_sub_licence()
    publish()
    html = client.get(BASE).content.decode()
    team = "the LLR ICB&#x27;s Corporate Governance Team"
    assert f"If you have any questions about Sub Licensing, please contact {team} via:" in html
    assert "For further information on how the LLR ICB uses data, please refer to (<a href=" in html
    # Later wording reaches the next edition only: the published page keeps what was frozen.
    register.team_name = "Someone else"
    register.save()
    assert "Someone else" not in client.get(BASE).content.decode()
