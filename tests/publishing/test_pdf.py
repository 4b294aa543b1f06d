"""The assembled PDF reads as one render: one structure tree, one table, the footer over the whole document."""

import io
import subprocess
import sys
from pathlib import Path

import pdfplumber
import pikepdf
import pytest
from pdfua import validate

from publishing import pdf
from publishing.registers import InformationSharingRegister
from tests.publishing import pdf_structure
from tests.publishing.test_render import SEED_ROW, content

CHUNK = 25


def _rows(count: int) -> list[dict[str, str]]:
    # Names of one, two and three lines, so that pages hold different numbers of rows.
    return [
        {**SEED_ROW, "reference": f"SL/25/{n}", "organisation": f"Partner organisation {n} " * (1 + n % 3)}
        for n in range(1, count + 1)
    ]


@pytest.fixture(scope="module")
def edition():
    return content(_rows(130))


@pytest.fixture(scope="module")
def assembled(edition) -> bytes:
    return pdf.render_in_process(edition, chunk_rows=CHUNK)


def _page_texts(data: bytes) -> list[str]:
    with pdfplumber.open(io.BytesIO(data)) as document:
        return [page.extract_text() for page in document.pages]


def test_the_assembled_pdf_reads_exactly_as_one_render_of_the_whole_document(edition, assembled) -> None:
    single = pdf.render_single(edition, chunk_rows=CHUNK)
    texts = _page_texts(assembled)
    assert texts == _page_texts(single)
    # Six pieces (the introduction and five chunks), each chunk starting a page; "Page X of Y" over all of them.
    assert len(texts) >= 7
    for number, text in enumerate(texts, start=1):
        footer = set(text.splitlines()[-2:])
        assert footer == {"Sub Licensing of Data \u2014 October 2025", f"Page {number} of {len(texts)}"}, number
        # The lock-up heads every page.
        assert text.splitlines()[:2] == ["NHS", "Leicester, Leicestershire"], number
    body = "\n".join(texts)
    lines = body.splitlines()
    for n in range(1, 131):
        assert sum(line.startswith(f"SL/25/{n} Partner") for line in lines) == 1, n


def test_the_assembled_pdf_has_one_structure_tree_with_one_table_of_rows(assembled) -> None:
    structure = pdf_structure.check(assembled)
    assert structure.problems == []
    assert structure.root_kids == ["/Document"]
    assert structure.document_kids == ["/H1", "/P", "/P", "/H2", "/P", "/Table", "/P", "/Div"]
    assert structure.tables == 1
    assert structure.header_cells == 4 and set(structure.header_scopes) == {"/Column"}
    assert structure.body_rows == 130
    # The footer and every repeated header row are on the pages, as artifacts.
    assert structure.artifact_paints > structure.pages * 2


def test_each_cell_holds_its_text_without_a_span_per_line(assembled) -> None:
    # WeasyPrint tags each line of a cell as a Span; the pieces' finisher (pdf.cells_hold_their_text) lets the cell
    # hold its marked content itself, which halves the structure elements of the table.
    document = pikepdf.open(io.BytesIO(assembled))
    cells = [item for item in document.objects if isinstance(item, pikepdf.Dictionary) and item.get("/S") == "/TD"]
    assert len(cells) == 130 * 4
    for cell in cells:
        kids = cell.K if isinstance(cell.K, pikepdf.Array) else [cell.K]
        assert kids and all(isinstance(kid, int) for kid in kids), cell.K


def test_a_single_render_is_not_one_table_which_is_why_assembly_joins_them(edition) -> None:
    # WeasyPrint starts a Table element on every page; the check above would catch a join that did not happen.
    structure = pdf_structure.check(pdf.render_single(edition, chunk_rows=CHUNK))
    assert structure.tables > 1


def test_the_assembled_pdf_passes_the_pdf_ua_machine_checks(assembled, tmp_path) -> None:
    path = tmp_path / "register.pdf"
    path.write_bytes(assembled)
    report = validate(str(path))
    assert [(finding.rule_id, finding.message) for finding in report.findings] == []
    ran = [outcome for outcome in report.outcomes if not outcome.skipped_reason]
    # pdfua 0.1.3's empty-heading rule trips over pikepdf 10 arrays and skips itself; the walker checks headings.
    assert len(ran) >= len(report.outcomes) - 1


def test_title_language_pdf_ua_identification_bookmarks_and_header_on_every_page(edition, assembled) -> None:
    document = pikepdf.open(io.BytesIO(assembled))
    assert str(document.Root.Lang) == "en-GB"
    assert bool(document.Root.MarkInfo.Marked) and bool(document.Root.ViewerPreferences.DisplayDocTitle)
    assert (
        str(document.docinfo.Title)
        == "Sub Licensing of Data: Sub Licence Release Register (last updated 22 October 2025)"
    )
    xmp = document.Root.Metadata.read_bytes().decode()
    assert 'pdfuaid:part="1"' in xmp or "<pdfuaid:part>1</pdfuaid:part>" in xmp
    assert pdf_structure.outline(assembled) == [(0, "Sub Licensing of Data", 1), (1, "Sub Licence Release Register", 2)]
    with pdfplumber.open(io.BytesIO(assembled)) as opened:
        for page in opened.pages[1:]:
            assert " ".join(page.extract_tables()[0][0][0].split()) == "Reference Number", page.page_number


def test_the_same_edition_assembles_to_the_same_bytes(edition, assembled) -> None:
    assert pdf.render_in_process(edition, chunk_rows=CHUNK) == assembled


def test_a_landscape_register_with_an_empty_table_assembles_too() -> None:
    kind = InformationSharingRegister()
    empty = content(
        [],
        register_title=kind.title,
        document_title=kind.document_title,
        columns=[{"key": column.key, "label": column.label} for column in kind.columns],
        pdf_page_size=kind.pdf_page_size,
    )
    data = pdf.render_in_process(empty, chunk_rows=CHUNK)
    structure = pdf_structure.check(data)
    assert structure.problems == [] and structure.tables == 1 and structure.header_cells == 7
    assert "There are no entries in this edition." in "\n".join(_page_texts(data))
    opened = pikepdf.open(io.BytesIO(data))
    box = opened.pages[0].mediabox
    assert float(box[2]) > float(box[3])


# Assembles the pieces in a folder (the front matter, the first chunk, the middle chunk `middles` times, the last
# chunk) into a file, in a process of its own; prints its peak RSS in kB.
_ASSEMBLE_AND_MEASURE = """
import sys
from publishing import pdf

folder, middles = sys.argv[1], int(sys.argv[2])
names = ["front", "first", *["middle"] * middles, "last"]

def opened(names):
    return [open(f"{folder}/{name}.pdf", "rb") for name in names]

def furniture(total):
    return opened(["static"])[0], opened([f"{name}-numbers" for name in names])

with open(f"{folder}/out.pdf", "wb") as out:
    pdf.assemble(opened(names), furniture=furniture, out=out)
print(next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM")))
"""


def test_the_assembly_s_memory_does_not_grow_with_the_rows(tmp_path) -> None:
    # One chunk of 50 rows repeated: 1,100 rows, then 8,100 rows. Holding the whole document (the assembler before
    # this one) took about 20 KB a row: 140 MB more for the larger.
    specs = pdf.plan(content(_rows(150)), chunk_rows=50)
    for name, spec in zip(["front", "first", "middle", "last"], specs, strict=True):
        data = pdf.render_spec(spec)
        (tmp_path / f"{name}.pdf").write_bytes(data)
        pages = len(pikepdf.open(io.BytesIO(data)).pages)
        static, numbers = pdf.furniture_specs(content(_rows(150)), total=pages)
        (tmp_path / f"{name}-numbers.pdf").write_bytes(pdf.render_spec(numbers))
    (tmp_path / "static.pdf").write_bytes(pdf.render_spec(static))

    def peak_mb(middles: int) -> float:
        command = [sys.executable, "-c", _ASSEMBLE_AND_MEASURE, str(tmp_path), str(middles)]
        done = subprocess.run(command, capture_output=True, check=True, cwd=Path(pdf.__file__).parents[1])  # noqa: S603
        return int(done.stdout.split()[-1]) / 1024

    small, large = peak_mb(20), peak_mb(160)
    assert pdf_structure.check((tmp_path / "out.pdf").read_bytes()).body_rows == 8100
    assert large - small < 20, (small, large)


def test_text_that_reads_like_a_reference_is_copied_as_it_is() -> None:
    # The assembly renumbers "12 0 R" in each object's text, but not inside a string (the title is one, in the
    # document information, the metadata's neighbour, and the outline).
    title = "Register 12 0 R (draft \\ 3 0 R)"
    data = pdf.render_in_process(content(_rows(3), document_title=title), chunk_rows=CHUNK)
    document = pikepdf.open(io.BytesIO(data))
    assert str(document.docinfo.Title).startswith(title + ":")
    assert pdf_structure.outline(data)[0] == (0, title, 1)
    assert pdf_structure.check(data).problems == []


def test_a_piece_with_more_objects_than_its_range_of_numbers_fails_clearly(monkeypatch) -> None:
    # A segment's objects are numbered in its slot's range of pdf.STRIDE numbers: a piece that needs more must not
    # spill into the next piece's range (a corrupt file), but say what went wrong.
    piece = io.BytesIO(pdf.render_spec(list(pdf.plan(content(_rows(30)), chunk_rows=CHUNK))[1]))
    monkeypatch.setattr(pdf, "STRIDE", 100)
    with pytest.raises(ValueError, match="Piece 1 of the PDF needs more than the 100 object numbers of its range"):
        pdf.build_segment(piece, 1, io.BytesIO())

    # Nor may the last piece's range end above the largest object number every common reader opens.
    monkeypatch.undo()
    slots = (pdf.MAX_OBJECT + 1 - pdf.RESERVED) // pdf.STRIDE
    pdf.build_segment(io.BytesIO(piece.getvalue()), slots - 1, io.BytesIO())
    with pytest.raises(ValueError, match=r"too many chunks for one PDF: piece .* larger chunks"):
        pdf.build_segment(io.BytesIO(piece.getvalue()), slots, io.BytesIO())


def test_a_small_document_in_wide_number_ranges_is_padded_so_that_qpdf_reads_every_object(monkeypatch) -> None:
    # qpdf takes an object number above a third of the file's size for damage and ignores the object; the ranges of
    # a few tiny pieces are mostly unused numbers, so the join pads the file rather than lose pages.
    monkeypatch.setattr(pdf, "STRIDE", 30_000)
    data = pdf.render_in_process(content(_rows(3)), chunk_rows=1)
    document = pikepdf.open(io.BytesIO(data))
    assert len(data) >= 3 * int(document.trailer.Size)
    structure = pdf_structure.check(data)
    assert structure.problems == [] and structure.body_rows == 3 and structure.pages == len(_page_texts(data))
