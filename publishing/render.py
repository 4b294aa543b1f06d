"""Rendering an edition's frozen content to its four files: HTML fragment, PDF, CSV and JSON.

Everything here is a pure function of an EditionContent: no clock, and no database access but reading a stored
edition's frozen rows (publishing.models.StoredRows) as they are iterated. That is what makes the same edition
render to the same bytes every time. The text formats are written to a file object a chunk of rows at a time; the
PDF is rendered in pieces and assembled (publishing.pdf), and publishing.pipeline runs the pieces in parallel.
"""

from __future__ import annotations

import base64
import calendar
import csv
import datetime as dt
import hashlib
import io
import itertools
import json
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any, Protocol, TypeVar, runtime_checkable

from django.conf import settings
from django.template.loader import render_to_string

from agreements.dates import format_date
from agreements.interchange.spreadsheets import neutralise_formula
from publishing.converters import reference_to_url

FORMATS = ("html", "pdf", "csv", "json")
# Changes only when a field is removed or changes meaning (README, "The JSON format"); "entries" was an addition.
JSON_FORMAT_VERSION = 1
T = TypeVar("T")
Row = dict[str, str]
Entry = dict[str, Any]


@runtime_checkable
class RowSource(Protocol):
    """Rows read as they are iterated, each with its entry (publishing.models.StoredRows): a stored edition's."""

    def __len__(self) -> int: ...

    def __iter__(self) -> Iterator[Row]: ...

    def pairs(self) -> Iterator[tuple[Row, Entry | None]]: ...

    def reading(self, entries: str) -> RowSource: ...


def contact_text(*, sentence: str, team_name: str) -> str:
    """The register's contact sentence, as the PDF and the web page both print it before the address."""
    sentence = sentence or "If you have any questions about this register, please contact {team} at:"
    # A plain replace, not str.format: the wording is typed by staff and may hold other braces.
    return sentence.replace("{team}", team_name or "us")


def privacy_notice_text(*, sentence: str, organisation_name: str) -> str:
    """The sentence that leads to the privacy notice, as the PDF and the web page both print it."""
    return (
        sentence or f"For further information on how {organisation_name} uses data, please refer to its privacy notice"
    )


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
    # In table order: a list (a preview, the tests), or a stored edition's rows, read as they are iterated.
    rows: Sequence[Row] | RowSource
    # {reference: public entry} (publishing.registers.public_entry) of rows in a list; stored rows carry their own.
    entries: dict[str, Entry] = field(default_factory=dict)
    # The column whose cells link to the entries.
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
        return contact_text(sentence=self.contact_sentence, team_name=self.team_name)

    @property
    def privacy_notice_text(self) -> str:
        return privacy_notice_text(sentence=self.privacy_notice_sentence, organisation_name=self.organisation_name)

    @property
    def last_updated_display(self) -> str:
        return format_date(self.last_updated)

    @property
    def caption(self) -> str:
        return f"{self.register_title} (last updated {self.last_updated_display})"

    @property
    def footer_line(self) -> str:
        return f"{self.document_title} \u2014 {self.last_updated:%B %Y}"

    def pairs(self) -> Iterator[tuple[Row, Entry | None]]:
        """Each row with its public entry (None when it has none), in table order."""
        if isinstance(self.rows, RowSource):
            return self.rows.pairs()
        return ((row, self.entries.get(row.get("reference", ""))) for row in self.rows)

    def table_rows(self) -> Iterator[list[str]]:
        keys = [column["key"] for column in self.columns]
        return ([row.get(key, "") for key in keys] for row in self.rows)

    def labelled_rows(self, pairs: Iterable[tuple[Row, Entry | None]]) -> list[list[tuple[str, str, str]]]:
        """The cells of the rows (with their entries, as pairs() gives them) as (text, link, column label): the
        link column's cell links to the row's entry page, and a phone shows the label beside each cell (stacked
        rows). The link is relative ("entries/SL/25/1/"), so the one stored fragment leads to the current entry
        page from /registers/<register>/ and to the edition's own entry page from /registers/<register>/editions/<e>/.
        """
        table = []
        for row, entry in pairs:
            reference = row.get("reference", "")
            href = f"entries/{reference_to_url(reference)}/" if entry is not None else ""
            table.append(
                [
                    (row.get(column["key"], ""), href if column["key"] == self.link_column else "", column["label"])
                    for column in self.columns
                ]
            )
        return table

    def entry_list(self) -> list[dict[str, Any]]:
        """The public entries in table order, each with its permanent (edition-scoped) page address."""
        return list(self.iter_entries())

    def iter_entries(self) -> Iterator[dict[str, Any]]:
        for _row, entry in self.pairs():
            if entry is not None:
                path = (
                    f"/registers/{self.register_slug}/editions/{self.edition_slug}/entries/"
                    f"{reference_to_url(entry['reference'])}/"
                )
                yield {**entry, "url": path}


@dataclass
class RenderedFile:
    format: str
    content: bytes
    size: int = field(init=False)
    sha256: str = field(init=False)

    def __post_init__(self) -> None:
        self.size = len(self.content)
        self.sha256 = hashlib.sha256(self.content).hexdigest()


# Rows per chunk when a format is written: memory holds one chunk of output at a time, never the whole file.
STREAM_ROWS = 500


def render_edition(content: EditionContent, *, chunk_rows: int | None = None) -> dict[str, RenderedFile]:
    """Every format of the edition, in this process and in memory: the pipeline's output without its storage or
    workers (tests, the command line's preview). Publication writes the same bytes through publishing.pipeline."""
    from publishing import pdf

    files = {}
    for name in FORMATS:
        if name == "pdf":
            data = pdf.render_in_process(content, chunk_rows=chunk_rows or settings.PUBLISH_CHUNK_ROWS)
        else:
            buffer = io.BytesIO()
            WRITERS[name](content, buffer)
            data = buffer.getvalue()
        files[name] = RenderedFile(name, data)
    return files


def _chunks(items: Iterable[T], size: int = STREAM_ROWS) -> Iterator[list[T]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def write_html_fragment(content: EditionContent, out: IO[bytes]) -> None:
    """The table as the public page shows it (NHS.UK table markup). Django's autoescaping escapes every cell."""
    template = "publishing/_edition_table.html"
    out.write(render_to_string(template, {"content": content, "part": "head"}).encode())
    for pairs in _chunks(content.pairs()):
        linked = content.labelled_rows(pairs)
        out.write(render_to_string(template, {"content": content, "part": "rows", "rows": linked}).encode())
    if not content.rows:
        out.write(render_to_string(template, {"content": content, "part": "empty"}).encode())
    out.write(render_to_string(template, {"content": content, "part": "foot"}).encode())


def pdf_document_html(content: EditionContent) -> str:
    """The whole PDF as one HTML document: what the assembled pieces read like (tests, the benchmark's bare
    render). Publication renders it in pieces (publishing.pdf)."""
    from publishing import pdf

    return pdf.spec_html(pdf.single_spec(content, chunk_rows=settings.PUBLISH_CHUNK_ROWS))


def write_pdf(html: str, *, identifier: bytes | bool = False, epoch: int = 0) -> bytes:
    """One HTML document as tagged PDF/UA-1, column headers scoped, no clock in the file: for documents other than
    the register (the data-request timeline), which publishing.pdf renders in pieces."""
    from weasyprint import HTML

    from publishing.pdf import scope_table_headers

    with fixed_clock(epoch):
        return HTML(string=html, base_url=None).write_pdf(
            pdf_variant="pdf/ua-1", pdf_identifier=identifier, finisher=scope_table_headers, full_fonts=False
        )


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
def fixed_clock(epoch: int) -> Iterator[None]:
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


def write_csv(content: EditionContent, out: IO[bytes]) -> None:
    # UTF-8 with a byte-order mark, so that Excel opens non-ASCII names correctly.
    out.write("\ufeff".encode())
    keys = [column["key"] for column in content.columns]
    for index, rows in enumerate(_chunks(content.rows)):
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, lineterminator="\r\n")
        if index == 0:
            writer.writerow([neutralise_formula(column["label"]) for column in content.columns])
        writer.writerows([neutralise_formula(row.get(key, "")) for key in keys] for row in rows)
        out.write(buffer.getvalue().encode("utf-8"))
    if not content.rows:
        buffer = io.StringIO(newline="")
        csv.writer(buffer, lineterminator="\r\n").writerow(
            [neutralise_formula(column["label"]) for column in content.columns]
        )
        out.write(buffer.getvalue().encode("utf-8"))


def render_csv(content: EditionContent) -> bytes:
    buffer = io.BytesIO()
    write_csv(content, buffer)
    return buffer.getvalue()


def json_head(content: EditionContent) -> dict[str, Any]:
    """Everything in the JSON document but its rows and entries."""
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
    }


def write_json(content: EditionContent, out: IO[bytes]) -> None:
    """The JSON document, one row or entry at a time: the same document json.dumps(..., indent=2) would give."""

    def indented(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, indent=2).replace("\n", "\n  ")

    def items(name: str, values: Iterable[Any], last: bool) -> None:
        out.write(f'  "{name}": ['.encode())
        first = True
        for value in values:
            out.write(((",\n    " if not first else "\n    ") + indented(value).replace("\n", "\n  ")).encode())
            first = False
        out.write(("\n  ]" if not first else "]").encode() + (b"\n" if last else b",\n"))

    out.write(b"{\n")
    for key, value in json_head(content).items():
        out.write(f"  {json.dumps(key)}: {indented(value)},\n".encode())
    keys = [column["key"] for column in content.columns]
    items("rows", ({key: row.get(key, "") for key in keys} for row in content.rows), last=False)
    items("entries", content.iter_entries(), last=True)
    out.write(b"}\n")


def render_json(content: EditionContent) -> bytes:
    buffer = io.BytesIO()
    write_json(content, buffer)
    return buffer.getvalue()


WRITERS: dict[str, Callable[[EditionContent, IO[bytes]], None]] = {
    "html": write_html_fragment,
    "csv": write_csv,
    "json": write_json,
}
# What of the entries each writer reads: every one (JSON), which rows have one (the HTML links them), or none.
ENTRIES_READ = {"html": "keys", "csv": "none", "json": "all"}


def for_writer(content: EditionContent, fmt: str) -> EditionContent:
    """The content with only the entries that `fmt`'s writer reads: of a stored edition, what is read from the
    database with each row; of rows in a list, what is kept (at 50,000 rows the entries are most of an edition's
    size)."""
    read = ENTRIES_READ[fmt]
    if isinstance(content.rows, RowSource):
        return replace(content, rows=content.rows.reading(read))
    if read == "all":
        return content
    return replace(content, entries={key: {} for key in content.entries} if read == "keys" else {})


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
