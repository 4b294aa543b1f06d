"""Reading and writing spreadsheets safely: CSV and XLSX in, CSV and XLSX out.

Shared by the importers, the staff exports and (through `neutralise_formula`) the public CSV downloads.
Nothing here knows about agreements: it turns bytes into rows of text and rows of values into files.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import zipfile
from collections.abc import Iterable, Sequence
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
_XLSX_MAX_UNPACKED_BYTES = 100 * 1024 * 1024


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


def read_table(data: bytes, *, filename: str, max_rows: int) -> Table:
    """Read a CSV or XLSX file into a Table. The content decides the type; the extension must agree with it.

    Raises SpreadsheetError, with a message for the person, for anything that is not a readable CSV or XLSX
    file, or that has no header row, no data rows or more than `max_rows` data rows.
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
        table = _read_xlsx(data)
    else:
        if extension != "csv":
            raise SpreadsheetError("The selected file is not a real Excel (.xlsx) file. Save it again from Excel")
        table = _read_csv(data)
    table.headers = [_clean_text(h) for h in table.headers]
    # Blank lines (Excel often leaves some at the end) are not rows.
    table.rows = [(number, cells) for number, cells in table.rows if any(_clean_text(c) for c in cells)]
    if not any(table.headers):
        raise SpreadsheetError("The selected file has no header row. The first row must name the columns")
    if not table.rows:
        raise SpreadsheetError("The selected file has a header row but no rows of data")
    if len(table.rows) > max_rows:
        raise SpreadsheetError(
            f"The selected file has {len(table.rows):,} rows of data. One import can take at most {max_rows:,}: "
            "split it into smaller files"
        )
    return table


def _clean_text(value: Any) -> str:
    return "" if value is None else " ".join(str(value).split())


def _read_csv(data: bytes) -> Table:
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
    try:
        lines = list(csv.reader(io.StringIO(text, newline=""), dialect))
    except csv.Error as error:
        raise SpreadsheetError(f"The selected file is not a valid CSV file: {error}") from error
    if not lines:
        raise SpreadsheetError("The selected file is empty")
    return Table(headers=lines[0], rows=[(i, row) for i, row in enumerate(lines[1:], start=2)], format="csv")


def _read_xlsx(data: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile as error:
        raise SpreadsheetError(
            "The selected file is not a real Excel (.xlsx) file. Save it again from Excel"
        ) from error
    if "xl/workbook.xml" not in names:
        raise SpreadsheetError("The selected file is not an Excel workbook (it may be a Word or other Office file)")
    if unpacked > _XLSX_MAX_UNPACKED_BYTES:
        raise SpreadsheetError("The selected workbook is too large once unpacked. Save it as CSV instead")
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a damaged file; all mean the same to a person.
        raise SpreadsheetError("The selected Excel file could not be read. It may be damaged or protected") from error
    try:
        sheet = workbook.worksheets[0]
        rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()
    if not rows:
        raise SpreadsheetError("The first sheet of the selected workbook is empty")
    return Table(headers=rows[0], rows=[(i, row) for i, row in enumerate(rows[1:], start=2)], format="xlsx")


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
