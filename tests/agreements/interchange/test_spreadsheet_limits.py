"""Reading an upload costs what its real content and the import limits allow, never what the file declares.

The hostile files are built here, in memory: an XLSX whose sheet declares A1:XFD1048576, CSVs with 100,000
columns or one 50 MB line. Time and memory are checked with generous margins (a benchmark's ratio, not a timing
race): the old reader took 8 s and ~700 MB for A1:XFD5000 and ran out of memory for A1:XFD1048576.
"""

from __future__ import annotations

import contextlib
import io
import re
import time
import tracemalloc
import zipfile
from collections.abc import Callable

import pytest
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from agreements.interchange.spreadsheets import MAX_CELL_CHARS, MAX_COLUMNS, SpreadsheetError, read_table

SECONDS = 2.0
EXTRA_BYTES = 100 * 1024 * 1024


def _xlsx(cells: dict[str, object], *, dimension: str) -> bytes:
    """A real workbook holding `cells`, whose sheet then claims the size `dimension`."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for ref, value in cells.items():
        sheet[ref] = value
    buffer = io.BytesIO()
    workbook.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                content, count = re.subn(rb'<dimension ref="[^"]*"', f'<dimension ref="{dimension}"'.encode(), content)
                assert count == 1
            target.writestr(info.filename, content)
    return out.getvalue()


def _measure(read: Callable[[], object]) -> tuple[float, int]:
    """CPU seconds for one call (the machine may be busy with other work: wall time would measure that), then the
    peak of memory allocated during a second call."""
    started = time.process_time()
    with contextlib.suppress(SpreadsheetError):
        read()
    seconds = time.process_time() - started
    tracemalloc.start()
    with contextlib.suppress(SpreadsheetError):
        read()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, peak


@pytest.mark.parametrize("dimension", ["A1:XFD5000", "A1:XFD1048576"])
def test_a_sheet_declaring_a_huge_size_costs_only_its_real_cells(dimension: str) -> None:
    data = _xlsx({"A1": "Name", "B1": "ODS code", "A5000": "Leeds", "B5000": "RR8"}, dimension=dimension)
    assert len(data) < 10_000

    table = read_table(data, filename="register.xlsx", max_rows=5000)
    assert table.headers == ["Name", "ODS code"]
    assert table.rows == [(5000, ["Leeds", "RR8"])]

    seconds, peak = _measure(lambda: read_table(data, filename="register.xlsx", max_rows=5000))
    assert seconds < SECONDS, f"{seconds:.2f} s"
    assert peak < EXTRA_BYTES, f"{peak / 1e6:.0f} MB"


def test_a_cell_on_the_last_row_of_excel_is_read_without_walking_the_rows_between() -> None:
    data = _xlsx({"A1": "Name", "A1048576": "Leeds"}, dimension="A1:XFD1048576")
    seconds, peak = _measure(lambda: read_table(data, filename="register.xlsx", max_rows=5000))
    assert read_table(data, filename="register.xlsx", max_rows=5000).rows == [(1048576, ["Leeds"])]
    assert seconds < SECONDS, f"{seconds:.2f} s"
    assert peak < EXTRA_BYTES, f"{peak / 1e6:.0f} MB"


def test_a_value_beyond_the_column_limit_is_refused() -> None:
    data = _xlsx({"A1": "Name", "A2": "Leeds", "XFD2": "far away"}, dimension="A1:XFD2")
    with pytest.raises(SpreadsheetError, match=f"Row 2 of the selected file has more than {MAX_COLUMNS} columns"):
        read_table(data, filename="register.xlsx", max_rows=5000)


def test_an_xlsx_with_too_many_rows_stops_at_the_limit() -> None:
    cells: dict[str, object] = {"A1": "Name"}
    cells.update({f"A{n}": f"Row {n}" for n in range(2, 13)})
    data = _xlsx(cells, dimension="A1:A12")
    with pytest.raises(SpreadsheetError, match="more than 10 rows of data"):
        read_table(data, filename="register.xlsx", max_rows=10)


def test_a_cell_longer_than_excel_allows_is_refused() -> None:
    data = f"Name,Notes\r\nLeeds,{'x' * (MAX_CELL_CHARS + 1)}\r\n".encode()
    with pytest.raises(SpreadsheetError, match=r"Row 2, column 2 .* more than 32,767 characters"):
        read_table(data, filename="register.csv", max_rows=10)


def test_a_zip_whose_parts_unpack_to_more_than_they_declare_is_refused() -> None:
    data = bytearray(_xlsx({"A1": "Name", "A2": "Leeds"}, dimension="A1:A2"))
    # Make the central directory claim the sheet is 10 bytes long: the reader must not take the zip's word.
    archive = zipfile.ZipFile(io.BytesIO(bytes(data)))
    info = archive.getinfo("xl/worksheets/sheet1.xml")
    central = data.rfind(b"PK\x01\x02", 0, data.rfind(b"xl/worksheets/sheet1.xml") + 1)
    assert central > 0 and info.file_size > 10
    data[central + 24 : central + 28] = (10).to_bytes(4, "little")
    with pytest.raises(SpreadsheetError):
        read_table(bytes(data), filename="register.xlsx", max_rows=10)


def test_a_csv_with_100000_columns_is_refused_quickly() -> None:
    data = ("Name," + ",".join(f"c{n}" for n in range(100_000)) + "\r\nLeeds\r\n").encode()
    seconds, peak = _measure(lambda: read_table(data, filename="wide.csv", max_rows=5000))
    with pytest.raises(SpreadsheetError, match=f"Row 1 of the selected file has more than {MAX_COLUMNS} columns"):
        read_table(data, filename="wide.csv", max_rows=5000)
    assert seconds < SECONDS, f"{seconds:.2f} s"
    assert peak < EXTRA_BYTES, f"{peak / 1e6:.0f} MB"


@pytest.mark.parametrize("filler", [b"a", b"a,"], ids=["one field", "commas"])
def test_a_csv_with_one_50_mb_line_is_refused_quickly(filler: bytes) -> None:
    data = b"Name,ODS code\r\n" + filler * (50 * 1024 * 1024 // len(filler)) + b"\r\n"
    seconds, peak = _measure(lambda: read_table(data, filename="line.csv", max_rows=5000))
    with pytest.raises(SpreadsheetError, match="a line longer than 1,048,576 characters"):
        read_table(data, filename="line.csv", max_rows=5000)
    assert seconds < SECONDS, f"{seconds:.2f} s"
    # The file itself is 50 MB and decoding it makes a second copy: the reading adds little beyond that.
    assert peak < len(data) + EXTRA_BYTES, f"{peak / 1e6:.0f} MB"


def test_one_long_shared_string_named_by_every_cell_stops_at_the_text_limit() -> None:
    """Under a megabyte of .xlsx whose 200,000 cells all name one 30,000-character shared string: 6 billion
    characters if read out (and kept between preview and confirmation)."""
    cells = "".join(f'<c r="{get_column_letter(c)}{{row}}" t="s"><v>1</v></c>' for c in range(1, MAX_COLUMNS + 1))
    rows = '<row r="1"><c r="A1" t="s"><v>0</v></c></row>' + "".join(
        f'<row r="{row}">{cells.format(row=row)}</row>' for row in range(2, 1002)
    )
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    parts = {
        "xl/sharedStrings.xml": f'<sst xmlns="{main}"><si><t>Name</t></si><si><t>{"x" * 30_000}</t></si></sst>',
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{main}"><sheetData>{rows}</sheetData></worksheet>',
    }
    source = zipfile.ZipFile(io.BytesIO(_xlsx({"A1": "Name"}, dimension="A1:A1")))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info).decode()
            if info.filename == "[Content_Types].xml":
                content = content.replace(
                    "</Types>",
                    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
                    'officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
                )
            elif info.filename == "xl/_rels/workbook.xml.rels":
                content = content.replace(
                    "</Relationships>",
                    '<Relationship Id="rIdShared" Target="sharedStrings.xml" Type="http://schemas.openxmlformats'
                    '.org/officeDocument/2006/relationships/sharedStrings"/></Relationships>',
                )
            target.writestr(info.filename, parts.pop(info.filename, content))
        for name, content in parts.items():
            target.writestr(name, content)
    hostile = out.getvalue()
    assert len(hostile) < 1_000_000

    seconds, peak = _measure(lambda: read_table(hostile, filename="register.xlsx", max_rows=5000))
    with pytest.raises(SpreadsheetError, match="more than 20,000,000 characters of text by row 5"):
        read_table(hostile, filename="register.xlsx", max_rows=5000)
    assert seconds < SECONDS, f"{seconds:.2f} s"
    assert peak < EXTRA_BYTES, f"{peak / 1e6:.0f} MB"


def test_an_xml_entity_bomb_inside_the_workbook_is_refused_quickly() -> None:
    """'Billion laughs' in the sheet: ten levels of entities, each ten of the one before, 10^10 characters if
    expanded. (openpyxl reads XML with the standard library's expat, whose amplification limit stops it.)"""
    entities = '<!ENTITY e0 "lol">' + "".join(f'<!ENTITY e{n} "{f"&e{n - 1};" * 10}">' for n in range(1, 11))
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    sheet = (
        f'<?xml version="1.0"?><!DOCTYPE worksheet [{entities}]><worksheet xmlns="{main}"><sheetData>'
        '<row r="1"><c r="A1" t="inlineStr"><is><t>Name</t></is></c></row>'
        '<row r="2"><c r="A2" t="inlineStr"><is><t>&e10;</t></is></c></row></sheetData></worksheet>'
    )
    source = zipfile.ZipFile(io.BytesIO(_xlsx({"A1": "Name"}, dimension="A1:A1")))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            is_sheet = info.filename == "xl/worksheets/sheet1.xml"
            target.writestr(info.filename, sheet.encode() if is_sheet else source.read(info))
    hostile = out.getvalue()

    seconds, peak = _measure(lambda: read_table(hostile, filename="register.xlsx", max_rows=5000))
    with pytest.raises(SpreadsheetError, match="could not be read"):
        read_table(hostile, filename="register.xlsx", max_rows=5000)
    assert seconds < SECONDS, f"{seconds:.2f} s"
    assert peak < EXTRA_BYTES, f"{peak / 1e6:.0f} MB"
