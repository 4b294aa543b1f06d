"""Rendering an edition's frozen content to its four files: HTML fragment, PDF, CSV and JSON.

Everything here is a pure function of an EditionContent: no database access, no clock. That is what makes the
same edition render to the same bytes every time, and what lets a later version split the PDF render into
chunks or run the formats in parallel without touching the rest of publishing.
"""

from __future__ import annotations

import base64
import calendar
import csv
import datetime as dt
import hashlib
import io
import json
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pydyf
from django.conf import settings
from django.template.loader import render_to_string

from agreements.dates import format_date
from agreements.interchange.spreadsheets import neutralise_formula
from publishing.converters import reference_to_url

FORMATS = ("html", "pdf", "csv", "json")
# Changes only when a field is removed or changes meaning (README, "The JSON format"); "entries" was an addition.
JSON_FORMAT_VERSION = 1
# Cells a spreadsheet would run as a formula. https://owasp.org/www-community/attacks/CSV_Injection


@dataclass(frozen=True)
class EditionContent:
    """What an edition shows, frozen at snapshot time."""

    register_slug: str
    register_title: str
    document_title: str
    edition_slug: str
    period: str
    last_updated: dt.date
    organisation_name: str
    introduction: str
    table_lead: str
    contact_email: str
    privacy_notice_url: str
    privacy_notice_title: str
    columns: list[dict[str, str]]
    rows: list[dict[str, str]]
    # {reference: public entry} (publishing.registers.public_entry); the column whose cells link to them.
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    link_column: str = ""
    pdf_page_size: str = "A4"
    # The register's own wording (Register fields); editions snapshotted before they existed take these defaults.
    register_heading: str = ""
    team_name: str = ""
    contact_sentence: str = ""
    privacy_notice_sentence: str = ""

    @property
    def paragraphs(self) -> list[str]:
        return [part.strip() for part in self.introduction.replace("\r\n", "\n").split("\n\n") if part.strip()]

    @property
    def lockup_name(self) -> str:
        """The name under the NHS logo: "NHS Leicester, Leicestershire and Rutland" shows as the logo over
        "Leicester, Leicestershire and Rutland", as NHS identity lock-ups do."""
        name = self.organisation_name.strip()
        return name[4:].strip() if name.startswith("NHS ") else name

    @property
    def heading(self) -> str:
        return self.register_heading or self.register_title

    @property
    def contact_text(self) -> str:
        sentence = self.contact_sentence or "If you have any questions about this register, please contact {team} at:"
        # A plain replace, not str.format: the wording is typed by staff and may hold other braces.
        return sentence.replace("{team}", self.team_name or "us")

    @property
    def privacy_notice_text(self) -> str:
        return (
            self.privacy_notice_sentence
            or f"For further information on how {self.organisation_name} uses data, please refer to its privacy notice"
        )

    @property
    def last_updated_display(self) -> str:
        return format_date(self.last_updated)

    @property
    def caption(self) -> str:
        return f"{self.register_title} (last updated {self.last_updated_display})"

    @property
    def footer_line(self) -> str:
        return f"{self.document_title} \u2014 {self.last_updated:%B %Y}"

    def table_rows(self) -> list[list[str]]:
        keys = [column["key"] for column in self.columns]
        return [[row.get(key, "") for key in keys] for row in self.rows]

    def linked_rows(self) -> list[list[tuple[str, str]]]:
        """The table's cells as (text, link): the link column's cell links to the row's entry page.

        The link is relative ("entries/SL/25/1/"), so the one stored fragment leads to the current entry page
        from /registers/<register>/ and to the edition's own entry page from /registers/<register>/editions/<e>/.
        """
        return [[(text, href) for text, href, _label in row] for row in self.labelled_rows()]

    def labelled_rows(self) -> list[list[tuple[str, str, str]]]:
        """linked_rows with each cell's column label, which a phone shows beside the cell (stacked rows)."""
        table = []
        for row in self.rows:
            reference = row.get("reference", "")
            href = f"entries/{reference_to_url(reference)}/" if reference in self.entries else ""
            table.append(
                [
                    (row.get(column["key"], ""), href if column["key"] == self.link_column else "", column["label"])
                    for column in self.columns
                ]
            )
        return table

    def entry_list(self) -> list[dict[str, Any]]:
        """The public entries in table order, each with its permanent (edition-scoped) page address."""
        entries = []
        for row in self.rows:
            entry = self.entries.get(row.get("reference", ""))
            if entry is not None:
                path = (
                    f"/registers/{self.register_slug}/editions/{self.edition_slug}/entries/"
                    f"{reference_to_url(entry['reference'])}/"
                )
                entries.append({**entry, "url": path})
        return entries


@dataclass
class RenderedFile:
    format: str
    content: bytes
    size: int = field(init=False)
    sha256: str = field(init=False)

    def __post_init__(self) -> None:
        self.size = len(self.content)
        self.sha256 = hashlib.sha256(self.content).hexdigest()


def render_edition(content: EditionContent) -> dict[str, RenderedFile]:
    """Every format of the edition. The one place a faster (chunked, parallel) renderer would plug in."""
    renderers: dict[str, Callable[[EditionContent], bytes]] = {
        "html": render_html_fragment,
        "pdf": render_pdf,
        "csv": render_csv,
        "json": render_json,
    }
    return {name: RenderedFile(name, renderers[name](content)) for name in FORMATS}


def render_html_fragment(content: EditionContent) -> bytes:
    """The table as the public page shows it (NHS.UK table markup). Django's autoescaping escapes every cell."""
    return render_to_string("publishing/_edition_table.html", {"content": content}).encode()


def pdf_document_html(content: EditionContent) -> str:
    return render_to_string("publishing/pdf/edition.html", {"content": content, "logo_data_uri": logo_data_uri()})


def logo_data_uri() -> str:
    """The deployment's logo (REGISTER_LOGO_PATH: an SVG or PNG file), inlined so the renderer fetches nothing.
    Empty when unset: the template then draws a neutral NHS.UK-style lock-up from the organisation's name."""
    path = getattr(settings, "REGISTER_LOGO_PATH", "")
    if not path:
        return ""
    data = Path(path).read_bytes()
    mime = "image/svg+xml" if path.lower().endswith(".svg") else "image/png"
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def pdf_identifier(content: EditionContent) -> bytes:
    """The first half of the PDF's /ID, the same for every rendering of one edition (ISO 32000-1, 14.4)."""
    return (
        hashlib.md5(f"{content.register_slug}/{content.edition_slug}".encode(), usedforsecurity=False)
        .hexdigest()
        .encode()
    )


def source_date_epoch(content: EditionContent) -> int:
    """Midnight UTC of the edition's date: the only "now" the font subsetter may write into the PDF."""
    return calendar.timegm(content.last_updated.timetuple())


# SOURCE_DATE_EPOCH is process-wide; renders in one process take turns (they hold the GIL anyway).
_EPOCH_LOCK = threading.Lock()


@contextmanager
def _fixed_clock(epoch: int) -> Iterator[None]:
    """Without HarfBuzz-Subset, WeasyPrint subsets fonts with fontTools, which stamps each font's head.modified
    with the time unless SOURCE_DATE_EPOCH is set (reproducible-builds.org). Pin it for the render."""
    with _EPOCH_LOCK:
        previous = os.environ.get("SOURCE_DATE_EPOCH")
        os.environ["SOURCE_DATE_EPOCH"] = str(epoch)
        try:
            yield
        finally:
            if previous is None:
                del os.environ["SOURCE_DATE_EPOCH"]
            else:
                os.environ["SOURCE_DATE_EPOCH"] = previous


def _scope_table_headers(document: Any, pdf: pydyf.PDF) -> None:
    """WeasyPrint tags <th> as TH but does not write the Scope attribute PDF/UA checkers ask for; every header
    cell in our tables is a column header, so each TH gets /Scope /Column."""
    for pdf_object in pdf.objects:
        if isinstance(pdf_object, pydyf.Dictionary) and pdf_object.get("S") == "/TH":
            attributes = pdf_object.get("A")
            if isinstance(attributes, pydyf.Dictionary):
                attributes["Scope"] = "/Column"
            else:
                pdf_object["A"] = pydyf.Dictionary({"O": "/Table", "Scope": "/Column"})


def render_pdf(content: EditionContent) -> bytes:
    return write_pdf(pdf_document_html(content), identifier=pdf_identifier(content), epoch=source_date_epoch(content))


def write_pdf(html: str, *, identifier: bytes | bool = False, epoch: int = 0) -> bytes:
    """Tagged PDF/UA-1. No clock or random input reaches the file: the dates come from the document's dcterms
    meta tags, the /ID from the edition (the second half is pydyf's hash of the content) and the fonts'
    timestamps from `epoch`, on either font-subsetting path, so equal HTML gives equal bytes."""
    # Imported here: WeasyPrint loads Pango, which only the rendering worker needs.
    from weasyprint import HTML

    with _fixed_clock(epoch):
        return HTML(string=html, base_url=None).write_pdf(
            pdf_variant="pdf/ua-1",
            pdf_identifier=identifier,
            finisher=_scope_table_headers,
            # Fonts are subset and embedded (PDF/UA requires embedding).
            full_fonts=False,
        )


def render_csv(content: EditionContent) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise_formula(column["label"]) for column in content.columns])
    writer.writerows([neutralise_formula(cell) for cell in row] for row in content.table_rows())
    # UTF-8 with a byte-order mark, so that Excel opens non-ASCII names correctly.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def json_document(content: EditionContent) -> dict[str, Any]:
    return {
        "format_version": JSON_FORMAT_VERSION,
        "register": {"slug": content.register_slug, "title": content.register_title},
        "edition": content.edition_slug,
        "period": content.period,
        "last_updated": content.last_updated.isoformat(),
        "organisation": content.organisation_name,
        "contact_email": content.contact_email,
        "privacy_notice_url": content.privacy_notice_url,
        "columns": [{"key": column["key"], "label": column["label"]} for column in content.columns],
        "row_count": len(content.rows),
        "rows": [{column["key"]: row.get(column["key"], "") for column in content.columns} for row in content.rows],
        "entries": content.entry_list(),
    }


def render_json(content: EditionContent) -> bytes:
    return (json.dumps(json_document(content), ensure_ascii=False, indent=2, sort_keys=False) + "\n").encode()


def diff_rows(
    previous: Iterable[dict[str, str]] | None, current: Iterable[dict[str, str]], *, key: str
) -> dict[str, list[Any]]:
    """Rows added, removed and changed between two editions, matched on the register's key column."""
    before = {row[key]: row for row in previous or []}
    after = {row[key]: row for row in current}
    changed = []
    for reference, row in after.items():
        old = before.get(reference)
        if old is not None and old != row:
            fields = {name: [old.get(name, ""), row.get(name, "")] for name in row if old.get(name) != row.get(name)}
            changed.append({"key": reference, "before": old, "after": row, "fields": fields})
    return {
        "added": [row for reference, row in after.items() if reference not in before],
        "removed": [row for reference, row in before.items() if reference not in after],
        "changed": changed,
    }
