"""The Information Sharing Register ("Organisations we share data with"): its selection, columns and wording,
and publishing it beside the Sub Licence Release Register without either disturbing the other."""

import csv
import datetime as dt
import io
import threading

import pdfplumber
import pytest
from django.conf import settings
from django.db import connection, connections, transaction

from agreements.models import Agreement, DataLevel, Party
from publishing import services, tasks
from publishing.models import Edition, Register
from publishing.registers import REGISTER_KINDS, Cadence
from tests.factories import PurposeFactory
from tests.publishing.factories import (
    SEED_DAY,
    entries_of,
    information_sharing_register,
    own_organisation,
    partner,
    publish,
    rows_of,
    seed_sub_licence,
    shared_agreement,
    statutory_return,
    sub_licence_register,
)

pytestmark = pytest.mark.django_db

BASE = "/registers/information-sharing/"
COLUMNS = [
    "Organisation",
    "What we share",
    "Level of data",
    "Legal basis",
    "Type of agreement",
    "Does the national data opt-out apply?",
    "Review date",
]
STATUTORY_OPT_OUT = "No \u2014 a legal requirement (statutory return); the national data opt-out does not apply"


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _pdf_text(edition: Edition) -> str:
    with edition.files.get(format="pdf").file.open("rb") as handle, pdfplumber.open(io.BytesIO(handle.read())) as pdf:
        return "\n".join(page.extract_text() for page in pdf.pages)


def _pdf_cells(edition: Edition) -> list[str]:
    """Every table cell of the PDF, with the lines of a wrapped cell joined by spaces."""
    with edition.files.get(format="pdf").file.open("rb") as handle, pdfplumber.open(io.BytesIO(handle.read())) as pdf:
        return [
            " ".join((cell or "").split())
            for page in pdf.pages
            for table in page.extract_tables()
            for row in table
            for cell in row
        ]


def _csv_rows(edition: Edition) -> list[list[str]]:
    with edition.files.get(format="csv").file.open("rb") as handle:
        return list(csv.reader(io.StringIO(handle.read().decode("utf-8-sig"))))


def test_the_register_exists_from_migrate_with_its_kind_cadence_and_a_plain_english_introduction() -> None:
    register = Register.objects.get(slug="information-sharing")
    assert register.title == "Information Sharing Register"
    assert register.cadence == Cadence.ANNUALLY == register.kind.cadence
    assert register.organisation_name == settings.PORTAL_ORGANISATION_NAME
    assert "organisations we share data with" in register.introduction
    assert "national data opt-out" in register.introduction and "statutory return" in register.introduction
    assert set(REGISTER_KINDS) == {"sub-licences", "information-sharing"}


def test_rows_are_active_public_isas_dsas_and_statutory_returns_in_force_with_the_seven_columns() -> None:
    city = partner(name="Leicester City Council", ods_code="509")
    shared_agreement(reference="ISA-1", partners=[city], summary="Care records for people leaving hospital.")
    shared_agreement(reference="DSA-1", kind=Agreement.Kind.DSA, partners=[partner(name="Age UK Leicester")])
    statutory_return()
    # Left out: not public, not active, not yet started, ended, and kinds this register does not list.
    shared_agreement(reference="ISA-HIDDEN", is_public=False)
    shared_agreement(reference="ISA-DRAFT", status=Agreement.Status.DRAFT)
    shared_agreement(reference="ISA-LATER", start_date=dt.date(2026, 1, 1))
    shared_agreement(reference="ISA-ENDED", start_date=dt.date(2020, 1, 1), end_date=dt.date(2021, 1, 1))
    shared_agreement(reference="DPA-1", kind=Agreement.Kind.DPA)
    seed_sub_licence()
    # The sub-licence's parent is a public NHS England DSA, which this register would list: not here.
    Agreement.objects.filter(kind=Agreement.Kind.DSA, reference__startswith="DARS-").update(is_public=False)

    edition = publish(information_sharing_register())
    assert [column["label"] for column in edition.columns] == COLUMNS
    # Ordered by organisation; "Organisation" is every party but our own (QK1).
    assert [row["reference"] for row in rows_of(edition)] == ["DSA-1", "ISA-1", "SR-LCC-ASC-CLD"]
    isa = rows_of(edition)[1]
    assert {key: isa[key] for key in isa if key != "reference"} == {
        "organisation": "Leicester City Council",
        "purpose": "Care records for people leaving hospital.",
        "data_level": "Pseudonymised",
        "legal_basis": "UK GDPR Article 6(1)(e) public task; Article 9(2)(h) health or social care",
        "type": "Information sharing agreement",
        "opt_out": "Yes",
        "review_date": "22 October 2026",
    }
    assert "NHS Leicester, Leicestershire and Rutland ICB" not in str(rows_of(edition))
    assert edition.period == "2025/26" and edition.slug == "2025-10-22"


def test_the_statutory_return_row_says_the_opt_out_does_not_apply_and_why() -> None:
    statutory_return()
    edition = publish(information_sharing_register())
    (row,) = rows_of(edition)
    assert row["organisation"] == "Leicester City Council; NHS England"
    assert row["type"] == "Statutory return"
    assert row["opt_out"] == STATUTORY_OPT_OUT
    assert row["legal_basis"] == (
        "UK GDPR Article 6(1)(c) legal obligation; Article 9(2)(h) health or social care; "
        "Health and Social Care Act 2012, section 259"
    )
    assert row["data_level"] == "Identifiable" and row["review_date"] == "22 October 2025"
    assert STATUTORY_OPT_OUT in _pdf_cells(edition)
    assert _csv_rows(edition)[1][5] == STATUTORY_OPT_OUT


@pytest.mark.parametrize(
    ("opt_out", "reason", "expected"),
    [
        (Agreement.OptOut.APPLIED, "", "Yes"),
        (Agreement.OptOut.NOT_APPLIED, "Section 251 support covers it.", "No. Section 251 support covers it."),
        (
            Agreement.OptOut.NOT_APPLICABLE,
            "This is for people's own care.",
            "No \u2014 the national data opt-out does not apply to this sharing. This is for people's own care.",
        ),
    ],
)
def test_the_opt_out_column_follows_the_agreement(opt_out, reason, expected) -> None:
    shared_agreement(opt_out=opt_out, opt_out_reason=reason)
    assert rows_of(publish(information_sharing_register()))[0]["opt_out"] == expected


def test_what_we_share_falls_back_to_the_purposes_and_review_date_to_not_set() -> None:
    purposes = [PurposeFactory(name="Planning services"), PurposeFactory(name="Direct care")]
    shared_agreement(summary="  ", purposes=purposes, review_date=None)
    row = rows_of(publish(information_sharing_register()))[0]
    assert row["purpose"] == "Direct care; Planning services"
    assert row["review_date"] == "Not set"


def test_the_selection_reads_in_a_constant_number_of_queries(django_assert_max_num_queries) -> None:
    kind = information_sharing_register().kind
    shared_agreement(purposes=[PurposeFactory()])
    with django_assert_max_num_queries(3) as few:
        kind.snapshot(on=SEED_DAY)
    for _ in range(8):
        shared_agreement(purposes=[PurposeFactory()])
    statutory_return()
    with django_assert_max_num_queries(len(few.captured_queries)):
        snapshot = kind.snapshot(on=SEED_DAY)
    assert len(snapshot.rows) == 10


def test_html_in_the_new_columns_is_escaped_in_html_and_literal_in_pdf_and_csv(client) -> None:
    nasty = "<script>alert(1)</script> & Sons"
    shared_agreement(
        partners=[partner(name=nasty, ods_code="RX1")],
        summary="<b>Bold</b> & <img src=x onerror=alert(2)>",
        statutory_gateway="<i>Act</i> 2012",
    )
    edition = publish(information_sharing_register())
    html = client.get(BASE).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Sons" in html and "<script>alert(1)" not in html
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; &lt;img src=x onerror=alert(2)&gt;" in html and "<img src=x" not in html
    assert "&lt;i&gt;Act&lt;/i&gt; 2012" in html and "<i>Act</i>" not in html
    # A wrapped cell may break inside a word ("</" then "script>"), so compare without the spaces.
    cells = ["".join(cell.split()) for cell in _pdf_cells(edition)]
    assert "<script>alert(1)</script>&Sons" in cells and "<b>Bold</b>&<imgsrc=xonerror=alert(2)>" in cells
    assert any(cell.endswith(";<i>Act</i>2012") for cell in cells)
    row = _csv_rows(edition)[1]
    assert row[0] == nasty and row[1] == "<b>Bold</b> & <img src=x onerror=alert(2)>"


def test_the_public_pages_and_files_work_as_for_the_first_register(client) -> None:
    statutory_return()
    publish(information_sharing_register(), on=dt.date(2025, 4, 1))
    Agreement.objects.filter(reference="SR-LCC-ASC-CLD").update(review_date=dt.date(2026, 4, 1))
    shared_agreement(reference="ISA-NEW", partners=[partner(name="Rutland County Council")])
    publish(information_sharing_register(), on=SEED_DAY)

    html = client.get(BASE).content.decode()
    assert "<h1>Information Sharing Register</h1>" in html and "<h2>Organisations we share data with</h2>" in html
    assert "Information Sharing Register (last updated 22 October 2025)" in html
    for label in COLUMNS:
        assert f'<th scope="col" class="nhsuk-table__header">{label}</th>' in html
    assert "Added (1)" in html and "Changed (1)" in html and "was “22 October 2025”, now “1 April 2026”" in html
    assert f'href="{BASE}latest.pdf">Information Sharing Register (PDF, ' in html

    pdf = client.get(f"{BASE}latest.pdf")
    assert pdf["Content-Disposition"] == 'inline; filename="information-sharing-register-2025-10-22.pdf"'
    csv_file = client.get(f"{BASE}editions/2025-04-01.csv")
    assert csv_file["Content-Disposition"] == 'attachment; filename="information-sharing-register-2025-04-01.csv"'
    assert next(csv.reader(io.StringIO(_body(csv_file).decode("utf-8-sig")))) == COLUMNS
    assert b'"slug": "information-sharing"' in _body(client.get(f"{BASE}latest.json"))
    archive = client.get(f"{BASE}editions/").content.decode()
    assert f'href="{BASE}editions/2025-10-22/"' in archive and f'href="{BASE}editions/2025-04-01/"' in archive


def test_the_pdf_is_laid_out_like_the_first_with_its_own_title_and_footer() -> None:
    statutory_return()
    text = _pdf_text(publish(information_sharing_register()))
    # The lock-up: the NHS logo over the organisation's name, wrapped as the seed wraps it.
    assert "NHS Leicester, Leicestershire and Rutland" in " ".join(text.split())
    assert "Organisations we share data with \u2014 October 2025" in text and "Page 1 of" in text
    assert "Information Sharing Register (last updated 22 October 2025)" in text
    assert "Sub Licensing of Data" not in text and "Sub Licence" not in text


def test_home_lists_both_registers_with_their_last_updated_dates(client) -> None:
    seed_sub_licence()
    publish(sub_licence_register(), on=SEED_DAY)
    statutory_return()
    publish(information_sharing_register(), on=dt.date(2025, 4, 1))
    home = client.get("/").content.decode()
    assert f'href="{BASE}">Information Sharing Register</a>' in home
    assert 'href="/registers/sub-licences/">Sub Licence Release Register</a>' in home
    assert "Last updated 1 April 2025" in home and "Last updated 22 October 2025" in home


# Both registers in one run.


def test_both_registers_publish_in_the_same_run_without_interfering() -> None:
    seed_sub_licence()
    statutory_return()
    day = dt.date(2026, 4, 1)  # 06:00 on 1 April: both beat entries fire.
    sub = services.edition_publish(register=sub_licence_register(), on=day)
    info = services.edition_publish(register=information_sharing_register(), on=day)
    assert sub.status == info.status == Edition.Status.PUBLISHED
    assert (sub.scheduled_period, info.scheduled_period) == ("2026-27-Q1", "2026-27")
    assert [row["reference"] for row in rows_of(sub)] == ["SL/25/1"]
    # NHS England's DSA (the sub-licence's parent) is information sharing too; the sub-licence is not.
    assert sorted(row["reference"] for row in rows_of(info)) == ["DARS-NIC-655409-Q1L8R", "SR-LCC-ASC-CLD"]
    assert set(entries_of(sub)) == {"SL/25/1"} and set(entries_of(info)) == {"DARS-NIC-655409-Q1L8R", "SR-LCC-ASC-CLD"}
    assert sub.files.get(format="pdf").file.name.endswith("sub-licence-release-register-2026-04-01.pdf")
    assert info.files.get(format="pdf").file.name.endswith("information-sharing-register-2026-04-01.pdf")

    # Scheduled runs again, through the task beat calls: each register keeps its one edition per period.
    for slug, edition in (("sub-licences", sub), ("information-sharing", info)):
        again = services.edition_publish(register=services.register_ensure(slug=slug), on=day)
        assert again.pk == edition.pk
    # A later quarter publishes the quarterly register again, never the annual one.
    july = dt.date(2026, 7, 1)
    assert services.edition_publish(register=sub_licence_register(), on=july).pk != sub.pk
    assert services.edition_publish(register=information_sharing_register(), on=july).pk == info.pk
    assert Edition.objects.filter(register__slug="sub-licences").count() == 2
    assert Edition.objects.filter(register__slug="information-sharing").count() == 1


def test_the_scheduled_task_is_idempotent_per_register() -> None:
    statutory_return()
    seed_sub_licence()
    first = tasks.publish_edition.delay(register="information-sharing").get()
    assert tasks.publish_edition.delay(register="information-sharing").get() == first
    sub = tasks.publish_edition.delay(register="sub-licences").get()
    assert sub != first and tasks.publish_edition.delay(register="sub-licences").get() == sub
    assert Edition.objects.get(pk=first).register.slug == "information-sharing"
    assert Edition.objects.filter(status=Edition.Status.PUBLISHED).count() == 2


def test_beat_publishes_the_information_sharing_register_annually_on_1_april() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["publish-information-sharing-register-annually"]
    assert entry["task"] == "publishing.tasks.publish_edition"
    assert entry["kwargs"] == {"register": "information-sharing"}
    schedule = entry["schedule"]
    assert schedule.hour == {6} and schedule.minute == {0}
    assert schedule.day_of_month == {1} and schedule.month_of_year == {4}
    quarterly = settings.CELERY_BEAT_SCHEDULE["publish-sub-licence-register-quarterly"]
    assert quarterly["kwargs"] == {"register": "sub-licences"}


@pytest.mark.django_db(transaction=True)
def test_a_run_holding_one_register_never_blocks_the_other() -> None:
    """On PostgreSQL a run locks its own register's row only: while another run holds the Sub Licence Release
    Register, the Information Sharing Register still publishes. (SQLite has no row locks to test.)"""
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    statutory_return()
    sub_register = sub_licence_register()
    info_register = information_sharing_register()
    held, release = threading.Event(), threading.Event()

    def hold_the_sub_licence_register() -> None:
        try:
            with transaction.atomic():
                Register.objects.select_for_update().get(pk=sub_register.pk)
                held.set()
                release.wait(timeout=60)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_sub_licence_register)
    holder.start()
    try:
        assert held.wait(timeout=30)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '5s'")
        edition = services.edition_publish(register=info_register, on=SEED_DAY)
        assert edition.status == Edition.Status.PUBLISHED and edition.register_id == info_register.pk
    finally:
        release.set()
        holder.join()
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = 0")


def test_other_kinds_of_agreement_stay_out_even_when_public_and_active(client) -> None:
    dpa = shared_agreement(reference="DPA-9", kind=Agreement.Kind.DPA)
    Party.objects.filter(agreement=dpa).update(role=Party.Role.PROCESSOR)
    shared_agreement(reference="PC-9", kind=Agreement.Kind.PROCESSOR_CONTRACT, data_level=DataLevel.AGGREGATE)
    own_organisation()
    edition = publish(information_sharing_register())
    assert rows_of(edition) == [] and entries_of(edition) == {}
    assert "There are no entries in this edition." in client.get(BASE).content.decode()


def test_the_demo_data_gives_the_register_its_statutory_return_and_isa(settings) -> None:
    from django.core.management import call_command

    settings.DEVELOPMENT = True
    call_command("load_demo")
    call_command("load_demo")
    edition = services.edition_publish(
        register=services.register_ensure(slug="information-sharing"), actor=None, trigger="command"
    )
    rows = {row["reference"]: row for row in rows_of(edition)}
    assert set(rows) == {"SR-LCC-ASC-CLD", "ISA-LLR-2025-003", "DARS-NIC-655409-Q1L8R"}
    statutory = rows["SR-LCC-ASC-CLD"]
    assert statutory["organisation"] == "Leicester City Council; NHS England"
    assert statutory["opt_out"] == STATUTORY_OPT_OUT and "section 259" in statutory["legal_basis"]
    assert rows["ISA-LLR-2025-003"]["organisation"] == (
        "Leicester City Council; University Hospitals of Leicester NHS Trust"
    )
    assert "DPIA" not in str(entries_of(edition))
