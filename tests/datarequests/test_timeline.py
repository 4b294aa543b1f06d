"""The timeline in HTML, a tagged PDF and CSV: every event in date order with working-day gaps."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pdfplumber
import pytest
from pypdf import PdfReader

from agreements.models import Agreement
from datarequests import services, timeline
from datarequests.models import DataRequest, Decision
from tests.datarequests.factories import add_item, decide, make_request
from tests.factories import AgreementFactory, PartyFactory

pytestmark = pytest.mark.django_db
D = dt.date


@pytest.fixture
def story(officer: Any, county: Any, districts: list[Any]) -> DataRequest:
    meeting = services.meeting_record(actor=officer, title="Leaders' meeting", held_on=D(2025, 3, 6),
                                      organisations=[county, *districts])  # fmt: skip
    request = make_request(officer, county, districts, received_on=D(2025, 4, 8), raised_at=meeting,
                           title="=HYPERLINK(\"http://evil\") 12 categories <b>")  # fmt: skip
    services.request_transition(actor=officer, request=request, action="request_clarification", on=D(2025, 4, 17),
                                reason="What exactly is wanted?", topic="scope")  # fmt: skip
    services.request_transition(actor=officer, request=request, action="answer_clarification", on=D(2025, 7, 4),
                                reason="A further breakdown")  # fmt: skip
    services.request_transition(actor=officer, request=request, action="assess", on=D(2025, 7, 7))
    item = add_item(officer, request)
    decide(officer, item, on=D(2025, 7, 21))
    services.request_transition(actor=officer, request=request, action="decide", on=D(2025, 7, 21))
    isa = AgreementFactory(reference="ISA-LLR-1", kind=Agreement.Kind.ISA, start_date=D(2025, 8, 1),
                           title="LLR information sharing agreement")  # fmt: skip
    PartyFactory(agreement=isa, organisation=county)
    services.line_item_fulfil(actor=officer, item=item, agreements=[isa], on=D(2025, 8, 4))
    return services.request_transition(actor=officer, request=request, action="fulfil", on=D(2025, 8, 4))


EXPECTED = [
    (D(2025, 3, 6), "Meeting: Leaders' meeting"),
    (D(2025, 4, 8), "Received"),
    (D(2025, 4, 17), "Clarification asked"),
    (D(2025, 7, 4), "Clarification answered"),
    (D(2025, 7, 7), "Assessment started"),
    (D(2025, 7, 21), "Line item decided"),
    (D(2025, 7, 21), "Decided"),
    (D(2025, 8, 1), "Agreement in force"),
    (D(2025, 8, 4), "Line item fulfilled"),
    (D(2025, 8, 4), "Fulfilled"),
]


def _timeline(request: DataRequest) -> timeline.Timeline:
    return timeline.build(requests=DataRequest.objects.filter(pk=request.pk), title=f"Timeline of {request.reference}",
                          scope="One request", today=D(2025, 12, 1))  # fmt: skip


def test_every_event_in_date_order_with_working_day_gaps(story: DataRequest) -> None:
    built = _timeline(story)
    assert [(e.on, e.event) for e in built.entries] == EXPECTED
    # 6 March to 8 April 2025: 23 working days. 8 to 17 April: 7. 17 April to 4 July: 56 weekdays less Good
    # Friday, Easter Monday, 5 and 26 May.
    assert [e.gap for e in built.entries[:3]] == [None, 23, 7]
    assert built.entries[3].gap == 52


def test_a_date_range_keeps_only_its_entries(story: DataRequest) -> None:
    built = timeline.build(requests=DataRequest.objects.all(), title="t", scope="s", today=D(2025, 12, 1),
                           start=D(2025, 7, 1), end=D(2025, 7, 31))  # fmt: skip
    assert {e.on.month for e in built.entries} == {7}


def test_csv_neutralises_formulas_and_html_escapes(story: DataRequest) -> None:
    built = _timeline(story)
    rows = list(csv.reader(io.StringIO(timeline.render_csv(built).decode("utf-8-sig"))))
    assert rows[0] == timeline.COLUMNS
    received = next(r for r in rows if r[3] == "Received")
    assert received[4].startswith("'=HYPERLINK")
    html = timeline.render_html(built)
    assert "&lt;b&gt;" in html and "<b>" not in html


def test_pdf_is_tagged_with_title_and_language_and_holds_every_event_in_order(story: DataRequest) -> None:
    pdf = timeline.render_pdf(_timeline(story), organisation_name="Leicestershire County Council")
    reader = PdfReader(io.BytesIO(pdf))
    catalog = reader.trailer["/Root"]
    assert catalog["/Lang"] == "en-GB" and bool(catalog["/MarkInfo"]["/Marked"]) and "/StructTreeRoot" in catalog
    assert bool(catalog["/ViewerPreferences"]["/DisplayDocTitle"])
    assert reader.metadata.title == f"Timeline of {story.reference}"
    xmp = catalog["/Metadata"].get_object().get_data().decode()
    assert 'pdfuaid:part="1"' in xmp or "<pdfuaid:part>1</pdfuaid:part>" in xmp
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        rows = [
            [" ".join((cell or "").split()) for cell in row]
            for page in document.pages
            for table in page.extract_tables()
            for row in table
        ]
        text = "\n".join(page.extract_text() for page in document.pages)
    assert rows[0] == timeline.COLUMNS
    # The header row repeats at the top of every page.
    assert [(row[0], row[3]) for row in rows if row != timeline.COLUMNS] == [
        (f"{d.day} {d:%B %Y}", event) for d, event in EXPECTED
    ]
    assert "<b>" in text  # literal in the PDF, not markup


def test_decision_outcomes_show_in_the_timeline(officer: Any, county: Any, districts: list[Any]) -> None:
    request = make_request(officer, county, districts, received_on=D(2025, 9, 1))
    services.request_transition(actor=officer, request=request, action="assess", on=D(2025, 9, 2))
    item = add_item(officer, request)
    decide(officer, item, Decision.Outcome.PUBLICLY_AVAILABLE, on=D(2025, 9, 3), public_link="https://example.org/x")
    [entry] = [e for e in _timeline(request).entries if e.event == "Line item decided"]
    assert "already publicly available https://example.org/x" in entry.detail
