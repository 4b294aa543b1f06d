"""The audit log: every event of the one trail, for auditors and the IG lead, filtered, and as CSV."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views import View

from agreements.interchange.spreadsheets import CSV_CONTENT_TYPE, neutralise_formula
from audit.models import AuditEvent
from staff.forms.audit import AuditEventFilter
from staff.permissions import AuthenticatedHttpRequest, StaffMixin
from staff.views.agreements import _paginate

VIEW_AUDIT_LOG = "audit.view_auditevent"
CSV_COLUMNS = ["When (UK time)", "Who", "Action", "Record", "IP address", "Reason", "What changed"]


def _changes(event: AuditEvent) -> str:
    """{"Status": ["Draft", "Active"]} as "Status: Draft → Active"; a value set from nothing as "Label: new"."""
    parts = []
    for label, values in event.changes.items():
        old, new = ([*values, "", ""] if isinstance(values, list) else ["", values, ""])[:2]
        parts.append(f"{label}: {old} → {new}" if old else f"{label}: {new}")
    return "; ".join(parts)


def _rows(events: Any) -> Iterator[list[str]]:
    for event in events.iterator(chunk_size=2000):
        yield [
            timezone.localtime(event.at).strftime("%Y-%m-%d %H:%M:%S"),
            event.actor_name,
            event.get_action_display(),
            event.subject_label,
            event.ip_address or "",
            event.reason,
            _changes(event),
        ]


class _Echo:
    """csv.writer writes each row here and the response streams what it returns: the CSV is never held whole."""

    def write(self, value: str) -> str:
        return value


def _csv_lines(events: Any) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for row in _rows(events):
        yield writer.writerow([neutralise_formula(cell) for cell in row])


class AuditLogView(StaffMixin, View):
    permission_required = VIEW_AUDIT_LOG
    forbidden_message = "Only auditors and the IG lead can read the audit log."

    def get(self, request: AuthenticatedHttpRequest) -> HttpResponse | StreamingHttpResponse:
        events = AuditEvent.objects.select_related("actor").order_by("-at", "-pk")
        filters = AuditEventFilter(request.GET or None, queryset=events)
        valid = filters.is_valid() if filters.is_bound else True
        filtered = filters.qs if valid else events.none()
        if request.GET.get("format") == "csv" and valid:
            response = StreamingHttpResponse(_csv_lines(filtered), content_type=CSV_CONTENT_TYPE)
            stamp = timezone.localtime().strftime("%Y-%m-%d")
            response["Content-Disposition"] = f'attachment; filename="audit-log-{stamp}.csv"'
            response["Cache-Control"] = "private, no-store"
            return response
        page, querystring = _paginate(request, filtered)
        return render(
            request,
            "staff/audit/list.html",
            {
                "page_title": "Audit log",
                "breadcrumbs": [("Staff area", reverse("staff:dashboard"))],
                "form": filters.form,
                "page": page,
                "querystring": querystring,
                "events": [(event, _changes(event)) for event in page],
            },
            status=200 if valid else 400,
        )
