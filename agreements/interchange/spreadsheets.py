"""Reading and writing spreadsheets safely: CSV and XLSX in, CSV and XLSX out.

Shared by the importers, the staff exports and (through `neutralise_formula`) the public CSV downloads.
Nothing here knows about agreements: it turns bytes into rows of text and rows of values into files.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

# A spreadsheet program treats a cell starting with one of these as a formula (or, for tab and CR, as the start
# of one after it strips them), so a value typed by a partner could run in an auditor's Excel.
# https://owasp.org/www-community/attacks/CSV_Injection
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_ZIP_MAGIC = b"PK\x03\x04"
# The old binary .xls and other OLE2 files (Word .doc too).
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# An .xlsx compresses well; anything that unpacks to more than this is refused before it is parsed (a zip bomb).
_XLSX_MAX_UNPACKED_BYTES = 50 * 1024 * 1024


def neutralise_formula(value: Any) -> Any:
    """Make a cell value safe to open in a spreadsheet program: text that would start a formula gets a leading
    apostrophe, which Excel and LibreOffice show as text and do not evaluate. Other types pass through."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


class SpreadsheetError(Exception):
    """The file as a whole cannot be read. The message is shown to the person who uploaded it."""


@dataclass
class Table:
    """A sheet of text: the header row and the data rows, each with its row number in the file (1 = headers)."""

    headers: list[str]
    rows: list[tuple[int, list[Any]]] = field(default_factory=list)
    format: str = "csv"


# Limits on what one file may hold, checked while it is read so that the cost of reading is bounded by them and
# by the file's real content, never by what the file declares about itself (an XLSX sheet may claim A1:XFD1048576).
MAX_COLUMNS = 200
# Excel's own limit on the text in one cell.
MAX_CELL_CHARS = 32_767
# The longest physical line of a CSV file: 200 full-length cells would never fit, but real registers are far
# below it, and a 50 MB line of commas must be refused before it becomes millions of fields.
MAX_CSV_LINE_CHARS = 1024 * 1024
# All the text of the kept cells together. An .xlsx can name one long shared string from every cell, so its rows
# could hold gigabytes of text while the file is a few kilobytes; a full 5 MB CSV holds at most 5 million.
MAX_TABLE_CHARS = 20_000_000
# Rows that are there but blank (formatted, or left by Excel below the data) are skipped, up to this many beyond
# the row limit; more means a file built to cost time rather than to hold a register.
_BLANK_ROWS_ALLOWED = 1000


def read_table(data: bytes, *, filename: str, max_rows: int) -> Table:
    """Read a CSV or XLSX file into a Table. The content decides the type; the extension must agree with it.

    Raises SpreadsheetError, with a message for the person, for anything that is not a readable CSV or XLSX
    file, or that has no header row, no data rows, more than `max_rows` data rows, more than MAX_COLUMNS
    columns or a cell longer than MAX_CELL_CHARS. Reading stops at the first limit passed.
    """
    name = (filename or "").lower()
    extension = name.rsplit(".", 1)[-1] if "." in name else ""
    if extension not in {"csv", "xlsx"}:
        raise SpreadsheetError("The selected file must be a CSV or an Excel (.xlsx) file")
    if not data:
        raise SpreadsheetError("The selected file is empty")
    if data.startswith(_OLE_MAGIC):
        raise SpreadsheetError(
            "The selected file is an old Excel (.xls) file or another Office format. Save it as .xlsx or CSV"
        )
    if data.startswith(_ZIP_MAGIC):
        if extension != "xlsx":
            raise SpreadsheetError("The selected file is not a CSV file. Its name ends .csv but it is not text")
        table = _collect(_xlsx_rows(data), format="xlsx", max_rows=max_rows)
    else:
        if extension != "csv":
            raise SpreadsheetError("The selected file is not a real Excel (.xlsx) file. Save it again from Excel")
        table = _collect(_csv_rows(data), format="csv", max_rows=max_rows)
    if not any(table.headers):
        raise SpreadsheetError("The selected file has no header row. The first row must name the columns")
    if not table.rows:
        raise SpreadsheetError("The selected file has a header row but no rows of data")
    return table


def _clean_text(value: Any) -> str:
    return "" if value is None else " ".join(str(value).split())


def _collect(rows: Iterator[tuple[int, Sequence[Any]]], *, format: str, max_rows: int) -> Table:
    """The header row and the non-blank data rows, each cut to its last non-empty cell, stopping at the first
    limit passed. `rows` gives (row number in the file, cells) and may be as long as the file is hostile."""
    headers: list[str] | None = None
    kept: list[tuple[int, list[Any]]] = []
    blank = characters = 0
    for number, cells in rows:
        # Counted in C: an XLSX row reaching column XFD has 16,384 cells, nearly all None.
        beyond = cells[MAX_COLUMNS:]
        if len(beyond) != beyond.count(None):
            raise SpreadsheetError(
                f"Row {number:,} of the selected file has more than {MAX_COLUMNS} columns. An import can read at "
                f"most {MAX_COLUMNS}: remove the extra columns"
            )
        width = min(len(cells), MAX_COLUMNS)
        while width and _clean_text(cells[width - 1]) == "":
            width -= 1
        values = list(cells[:width])
        for column, value in enumerate(values, start=1):
            if isinstance(value, str):
                if len(value) > MAX_CELL_CHARS:
                    raise SpreadsheetError(
                        f"Row {number:,}, column {column} of the selected file has more than {MAX_CELL_CHARS:,} "
                        "characters. Shorten it"
                    )
                characters += len(value)
        if characters > MAX_TABLE_CHARS:
            raise SpreadsheetError(
                f"The selected file holds more than {MAX_TABLE_CHARS:,} characters of text by row {number:,}. "
                "Split it into smaller files"
            )
        if headers is None:
            headers = [_clean_text(h) for h in values]
            continue
        if not width:
            blank += 1
            if blank > max_rows + _BLANK_ROWS_ALLOWED:
                raise SpreadsheetError(
                    "The selected file has too many blank rows. Delete the empty rows below the data and try again"
                )
            continue
        if len(kept) == max_rows:
            raise SpreadsheetError(
                f"The selected file has more than {max_rows:,} rows of data. One import can take at most "
                f"{max_rows:,}: split it into smaller files"
            )
        kept.append((number, values))
    if headers is None:
        raise SpreadsheetError(
            "The first sheet of the selected workbook is empty" if format == "xlsx" else "The selected file is empty"
        )
    return Table(headers=headers, rows=kept, format=format)


def _csv_rows(data: bytes) -> Iterator[tuple[int, Sequence[Any]]]:
    if b"\x00" in data[:8192]:
        raise SpreadsheetError("The selected file must be a CSV or an Excel (.xlsx) file")
    try:
        # utf-8-sig drops the byte order mark Excel writes at the start of "CSV UTF-8" files.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            # Excel on Windows saves plain "CSV (Comma delimited)" in Windows-1252.
            text = data.decode("cp1252")
        except UnicodeDecodeError as error:
            raise SpreadsheetError("The selected file is not readable text. Save it as CSV UTF-8") from error
    try:
        dialect: Any = csv.Sniffer().sniff(text[:8192], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(_bounded_lines(text), dialect)
    number = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            # Also a field over csv.field_size_limit (128 KB), which no cell within MAX_CELL_CHARS reaches.
            raise SpreadsheetError(f"The selected file is not a valid CSV file: {error}") from error
        number += 1
        yield number, row


def _bounded_lines(text: str) -> Iterator[str]:
    """The text's lines, each with its line break (CRLF, LF or a lone CR), refusing one longer than
    MAX_CSV_LINE_CHARS before it is copied. (Not io.StringIO: it holds a second, four-times-wider copy.)"""
    position, length = 0, len(text)
    while position < length:
        window = min(position + MAX_CSV_LINE_CHARS + 1, length)
        found = (text.find("\n", position, window), text.find("\r", position, window))
        breaks = [index for index in found if index >= 0]
        if not breaks:
            if window == length:
                yield text[position:]
                return
            raise SpreadsheetError(
                f"The selected file has a line longer than {MAX_CSV_LINE_CHARS:,} characters. "
                "Check that it is a CSV file with one record on each line"
            )
        cut = min(breaks)
        if text.startswith("\r\n", cut):
            cut += 1
        yield text[position : cut + 1]
        position = cut + 1


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, Sequence[Any]]]:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            _check_unpacked_size(archive)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError, OSError) as error:
        raise SpreadsheetError(
            "The selected file is not a real Excel (.xlsx) file. Save it again from Excel"
        ) from error
    if "xl/workbook.xml" not in names:
        raise SpreadsheetError("The selected file is not an Excel workbook (it may be a Word or other Office file)")
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a damaged file; all mean the same to a person.
        raise SpreadsheetError("The selected Excel file could not be read. It may be damaged or protected") from error
    try:
        sheet = workbook.worksheets[0]
        # The declared size (the <dimension> element) is whatever the file says: padding every row to it costs
        # 16,384 cells a row for A1:XFD1048576. Without it, openpyxl gives each row only up to its last cell,
        # and skips the rows the file does not contain.
        sheet.reset_dimensions()
        number = 0
        try:
            for cells in sheet.iter_rows(values_only=True):
                number += 1
                if cells:
                    yield number, cells
        except SpreadsheetError:
            raise
        except Exception as error:  # a damaged sheet part, found only when it is read
            raise SpreadsheetError(
                "The selected Excel file could not be read. It may be damaged or protected"
            ) from error
    finally:
        workbook.close()


def _check_unpacked_size(archive: zipfile.ZipFile) -> None:
    """Refuse a workbook whose parts unpack to more than the limit, counting what really comes out: the sizes a
    zip declares are the sender's word. Stops reading as soon as the limit is passed."""
    if sum(info.file_size for info in archive.infolist()) > _XLSX_MAX_UNPACKED_BYTES:
        raise SpreadsheetError("The selected workbook is too large once unpacked. Save it as CSV instead")
    unpacked = 0
    for info in archive.infolist():
        with archive.open(info) as part:
            while chunk := part.read(1024 * 1024):
                unpacked += len(chunk)
                if unpacked > _XLSX_MAX_UNPACKED_BYTES:
                    raise SpreadsheetError("The selected workbook is too large once unpacked. Save it as CSV instead")


def table_dumps(table: Table) -> bytes:
    """The table as JSON, so a file read once can be checked again (preview, then confirm) without reading it
    again. Dates and times from Excel keep their type."""
    return json.dumps(
        {"headers": table.headers, "rows": table.rows, "format": table.format}, default=_encode_value
    ).encode()


def table_loads(data: bytes) -> Table:
    payload = json.loads(data, object_hook=_decode_value)
    return Table(
        headers=payload["headers"],
        rows=[(number, cells) for number, cells in payload["rows"]],
        format=payload["format"],
    )


_TYPES: dict[str, Any] = {"datetime": dt.datetime, "date": dt.date, "time": dt.time}


def _encode_value(value: Any) -> dict[str, Any]:
    if isinstance(value, dt.timedelta):
        return {"_type": "timedelta", "value": value.total_seconds()}
    for name, kind in _TYPES.items():
        if isinstance(value, kind):
            return {"_type": name, "value": value.isoformat()}
    # Anything else openpyxl gives is shown as text anyway.
    return {"_type": "text", "value": str(value)}


def _decode_value(item: dict[str, Any]) -> Any:
    kind = item.get("_type")
    if kind is None:
        return item
    if kind == "timedelta":
        return dt.timedelta(seconds=item["value"])
    if kind == "text":
        return item["value"]
    return _TYPES[kind].fromisoformat(item["value"])


# ---------------------------------------------------------------------------------------------------------
# Writing


def csv_bytes(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """A UTF-8 CSV with a byte order mark (so Excel reads accents right), every cell neutralised."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise_formula(h) for h in headers])
    for row in rows:
        writer.writerow([neutralise_formula(_csv_value(v)) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return str(value)


# Rows read ahead to size the columns; a bounded sample keeps a large export streaming.
WIDTH_SAMPLE_ROWS = 200
MIN_WIDTH, MAX_WIDTH = 10, 60


def _display_width(value: Any) -> int:
    if isinstance(value, dt.datetime):
        return 16
    if isinstance(value, dt.date):
        return 10
    return max((len(line) for line in str(value if value is not None else "").splitlines()), default=0)


def xlsx_bytes(sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence[Any]]]]) -> bytes:
    """An .xlsx workbook with one sheet per (title, headers, rows), ready to read: the header row frozen and
    filterable, columns as wide as their content (from a sample of rows), dates as real date cells. Text is
    neutralised, because openpyxl stores any string starting with "=" as a formula."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    for title, headers, rows in sheets:
        sheet = workbook.create_sheet(title=title[:31])
        sheet.freeze_panes = "A2"
        rows = iter(rows)
        sample = list(itertools.islice(rows, WIDTH_SAMPLE_ROWS))
        # Column widths go before the first row in a write-only sheet.
        for index, header in enumerate(headers):
            widest = max([len(header), *(_display_width(row[index]) for row in sample if index < len(row))])
            sheet.column_dimensions[get_column_letter(index + 1)].width = min(max(widest + 2, MIN_WIDTH), MAX_WIDTH)
        header_cells = []
        for header in headers:
            cell = WriteOnlyCell(sheet, value=neutralise_formula(header))
            cell.font = Font(bold=True)
            header_cells.append(cell)
        sheet.append(header_cells)
        count = 0
        for row in itertools.chain(sample, rows):
            count += 1
            cells = []
            for value in row:
                if isinstance(value, dt.datetime):
                    # Excel has no time zones: write the wall-clock time the reader would expect.
                    value = value.replace(tzinfo=None)
                if isinstance(value, bool):
                    value = "Yes" if value else "No"
                cell = WriteOnlyCell(sheet, value=neutralise_formula(value))
                if isinstance(value, dt.datetime):
                    cell.number_format = "yyyy-mm-dd hh:mm"
                elif isinstance(value, dt.date):
                    cell.number_format = "yyyy-mm-dd"
                cells.append(cell)
            sheet.append(cells)
        if headers:
            sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{count + 1}"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
