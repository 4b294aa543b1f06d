"""The timeline: a chronological account of everything that happened to one request, to the requests of one
organisation, or in a date range, with the working days between entries. What a council sends to a minister or
the ICO instead of writing it by hand. Rendered as HTML (the staff page), a tagged PDF and CSV.

It reads the dated RequestEvents (received, acknowledged, clarification asked and answered, held, resumed,
decided, fulfilled, lapsed...), the meetings that discussed the requests (or that the organisation attended),
and the agreements that came into force to cover a fulfilled line item.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.template.loader import render_to_string

from agreements.dates import format_date
from agreements.interchange.spreadsheets import csv_bytes
from agreements.models import Organisation
from datarequests.clocks import working_days_between
from datarequests.models import DataRequest, LineItem, Meeting, RequestEvent

COLUMNS = ["Date", "Working days since previous entry", "Request", "Event", "Details", "Recorded by"]


@dataclass(frozen=True)
class Entry:
    on: dt.date
    reference: str
    event: str
    detail: str
    recorded_by: str
    # Working days since the entry before it (None for the first).
    gap: int | None = None

    def row(self) -> list[str]:
        gap = "" if self.gap is None else str(self.gap)
        return [format_date(self.on), gap, self.reference, self.event, self.detail, self.recorded_by]

    def labelled(self) -> list[tuple[str, str]]:
        return list(zip(COLUMNS, self.row(), strict=True))


@dataclass(frozen=True)
class Timeline:
    title: str
    scope: str
    entries: list[Entry]
    generated_on: dt.date


def _name(user: object | None) -> str:
    if user is None:
        return "System"
    full = user.get_full_name()  # type: ignore[attr-defined]
    return str(full or user.get_username())  # type: ignore[attr-defined]


def _event_entries(events: Iterable[RequestEvent]) -> list[Entry]:
    entries = []
    for event in events:
        label = event.get_kind_display()
        detail = event.note
        if event.kind == RequestEvent.Kind.RECEIVED:
            title = event.request.title
            detail = f"{title}. {event.note}" if event.note else title
        entries.append(Entry(event.on, event.request.reference, label, detail, _name(event.actor)))
    return entries


def _meeting_entries(meetings: Iterable[Meeting], requests: set[int] | None) -> list[Entry]:
    entries = []
    for meeting in meetings:
        discussed = [r for r in meeting.requests_discussed.all() if requests is None or r.pk in requests]
        references = ", ".join(r.reference for r in discussed)
        parts = [meeting.decisions] if meeting.decisions else []
        actions = [f"Action: {a.description} ({a.owner}, due {format_date(a.due_on)})" for a in meeting.actions.all()]
        detail = " ".join([*parts, *actions])
        event = f"Meeting: {meeting.title}" + (" (requests discussed)" if discussed else "")
        entries.append(Entry(meeting.held_on, references, event, detail, "Minutes"))
    return entries


def _agreement_entries(items: Iterable[LineItem]) -> list[Entry]:
    seen: set[int] = set()
    entries = []
    for item in items:
        for agreement in item.agreements.all():
            if agreement.pk in seen or agreement.start_date < item.request.received_on:
                continue
            seen.add(agreement.pk)
            parties = ", ".join(sorted(p.organisation.name for p in agreement.parties.all()))
            detail = f"{agreement.reference}: {agreement.title}" + (f". Signed by {parties}" if parties else "")
            entries.append(
                Entry(agreement.start_date, item.request.reference, "Agreement in force", detail, "Register")
            )
    return entries


def _with_gaps(entries: list[Entry]) -> list[Entry]:
    # Sorted by date; entries on the same day keep the order they were built in (events in recorded order).
    ordered = sorted(entries, key=lambda e: e.on)
    result: list[Entry] = []
    for entry in ordered:
        gap = working_days_between(result[-1].on, entry.on) if result else None
        result.append(Entry(entry.on, entry.reference, entry.event, entry.detail, entry.recorded_by, gap))
    return result


def build(
    *,
    requests: QuerySet[DataRequest],
    title: str,
    scope: str,
    today: dt.date,
    organisation: Organisation | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> Timeline:
    """The timeline of the given requests (already limited to what the reader may see), with the meetings that
    discussed them (and, for an organisation, the meetings it attended), optionally within a date range."""
    request_ids = set(requests.values_list("pk", flat=True))
    events = (
        RequestEvent.objects.filter(request_id__in=request_ids).select_related("request", "actor").order_by("on", "pk")
    )
    meeting_filter = Q(requests_discussed__in=request_ids) | Q(requests_raised__in=request_ids)
    if organisation is not None:
        meeting_filter |= Q(organisations=organisation)
    meetings = Meeting.objects.filter(meeting_filter).distinct().prefetch_related("requests_discussed", "actions")
    items = (
        LineItem.objects.filter(request_id__in=request_ids, fulfilled_on__isnull=False)
        .select_related("request")
        .prefetch_related("agreements__parties__organisation")
    )
    entries = [
        *_meeting_entries(meetings, request_ids),
        *_event_entries(events),
        *_agreement_entries(items),
    ]
    if start:
        entries = [e for e in entries if e.on >= start]
    if end:
        entries = [e for e in entries if e.on <= end]
    return Timeline(title=title, scope=scope, entries=_with_gaps(entries), generated_on=today)


def render_html(timeline: Timeline) -> str:
    """The table the staff page shows (NHS.UK table markup; Django's autoescaping escapes every cell)."""
    return render_to_string("datarequests/_timeline_table.html", {"timeline": timeline, "columns": COLUMNS})


def render_pdf(timeline: Timeline, *, organisation_name: str) -> bytes:
    """A4, tagged PDF/UA-1 with its title and language (en-GB), written as the register's PDF is."""
    # The register's writer: PDF/UA-1, no clock in the file, column headers scoped.
    from publishing.render import write_pdf

    html = render_to_string(
        "datarequests/timeline_pdf.html",
        {"timeline": timeline, "columns": COLUMNS, "organisation_name": organisation_name},
    )
    return write_pdf(html)


def render_csv(timeline: Timeline) -> bytes:
    """UTF-8 CSV, every cell formula-neutralised (the project's helper)."""
    return csv_bytes(COLUMNS, (entry.row() for entry in timeline.entries))
