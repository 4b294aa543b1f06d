import csv
import datetime as dt
import io
import json

import pdfplumber
import pytest
from pypdf import PdfReader

from agreements.interchange.spreadsheets import neutralise_formula as neutralise_cell
from publishing.registers import SubLicenceRegister
from publishing.render import EditionContent, diff_rows, render_csv, render_edition, render_json

KIND = SubLicenceRegister()
SEED_ROW = {
    "reference": "SL/25/1",
    "organisation": "Leicester City Council",
    "data_level": "Pseudonymised",
    "ods_code": "509",
}


def content(rows=None, **overrides) -> EditionContent:
    fields = {
        "register_slug": KIND.slug,
        "register_title": KIND.title,
        "document_title": KIND.document_title,
        "edition_slug": "2025-10-22",
        "period": "2025/26 Q3",
        "last_updated": dt.date(2025, 10, 22),
        "organisation_name": "NHS Leicester, Leicestershire and Rutland",
        "introduction": "First paragraph.\n\nSecond paragraph.",
        "table_lead": KIND.table_lead,
        "contact_email": "llricb-llr.informationgovernance@nhs.net",
        "privacy_notice_url": "https://example.nhs.uk/privacy-notice.pdf",
        "privacy_notice_title": "Public Privacy Notice",
        "columns": [{"key": column.key, "label": column.label} for column in KIND.columns],
        "rows": [SEED_ROW] if rows is None else rows,
    }
    return EditionContent(**{**fields, **overrides})


@pytest.fixture(scope="module")
def seed_files():
    return render_edition(content())


def _text(pdf_bytes: bytes) -> list[str]:
    with pdfplumber.open(io.BytesIO(pdf_bytes)) as pdf:
        return [page.extract_text() for page in pdf.pages]


def _tables(pdf_bytes: bytes) -> list[list[list[str]]]:
    """Each page's table rows, with the lines of a wrapped cell joined by spaces."""
    with pdfplumber.open(io.BytesIO(pdf_bytes)) as pdf:
        return [
            [[" ".join((cell or "").split()) for cell in row] for table in page.extract_tables() for row in table]
            for page in pdf.pages
        ]


def test_pdf_holds_the_heading_columns_the_seed_row_and_the_footer(seed_files) -> None:
    pages = _text(seed_files["pdf"].content)
    text = "\n".join(pages)
    assert "NHS Leicester, Leicestershire and Rutland" in text
    assert "Sub Licensing of Data" in text
    assert "Sub Licence Release Register (last updated 22 October 2025)" in text
    # The explanation has page 1 to itself; the register starts on page 2, as in the seed.
    assert "Reference Number" not in pages[0]
    table = _tables(seed_files["pdf"].content)[1]
    assert table[0] == [
        "Reference Number",
        "Partner Health & Social Care Organisation",
        "Level of Data Shared",
        "ODS Code",
    ]
    assert table[1] == ["SL/25/1", "Leicester City Council", "Pseudonymised", "509"]
    assert "SL/25/1 Leicester City Council Pseudonymised 509" in text
    assert "Page 1 of 2" in pages[0]
    assert all("Sub Licensing of Data \u2014 October 2025" in page for page in pages)
    assert "Page 2 of 2" in pages[1]
    assert "llricb-llr.informationgovernance@nhs.net" in text


def test_pdf_is_tagged_pdf_ua_with_title_language_scoped_headers_and_embedded_fonts(seed_files) -> None:
    reader = PdfReader(io.BytesIO(seed_files["pdf"].content))
    catalog = reader.trailer["/Root"]
    assert bool(catalog["/MarkInfo"]["/Marked"])
    assert catalog["/Lang"] == "en-GB"
    assert "/StructTreeRoot" in catalog
    assert bool(catalog["/ViewerPreferences"]["/DisplayDocTitle"])
    assert reader.metadata.title.startswith("Sub Licensing of Data: Sub Licence Release Register")
    xmp = catalog["/Metadata"].get_object().get_data().decode()
    assert 'pdfuaid:part="1"' in xmp or "<pdfuaid:part>1</pdfuaid:part>" in xmp
    headers = []
    for number in range(1, reader.trailer["/Size"]):
        obj = reader.get_object(number)
        if hasattr(obj, "get") and obj.get("/S") == "/TH":
            headers.append(obj)
    assert len(headers) == 4
    assert all(header["/A"]["/Scope"] == "/Column" for header in headers)
    fonts = reader.pages[0]["/Resources"]["/Font"]
    for font in fonts.values():
        descendant = font.get_object()["/DescendantFonts"][0].get_object()
        assert "/FontFile2" in descendant["/FontDescriptor"] or "/FontFile3" in descendant["/FontDescriptor"]


def test_privacy_notice_is_a_real_link(seed_files) -> None:
    reader = PdfReader(io.BytesIO(seed_files["pdf"].content))
    uris = [
        annotation.get_object()["/A"]["/URI"]
        for page in reader.pages
        for annotation in page.get("/Annots", [])
        if "/A" in annotation.get_object()
    ]
    assert "https://example.nhs.uk/privacy-notice.pdf" in uris
    assert "mailto:llricb-llr.informationgovernance@nhs.net" in uris


def test_the_same_content_renders_to_identical_bytes(seed_files) -> None:
    again = render_edition(content())
    for name, rendered in seed_files.items():
        assert again[name].content == rendered.content, name
        assert again[name].sha256 == rendered.sha256


def test_the_table_header_repeats_on_every_page() -> None:
    rows = [{**SEED_ROW, "reference": f"SL/25/{n}"} for n in range(1, 121)]
    pdf = render_edition(content(rows))["pdf"].content
    pages, tables = _text(pdf), _tables(pdf)
    assert len(pages) >= 3
    for number, (page, table) in enumerate(zip(pages, tables, strict=True), start=1):
        # Page 1 is the explanation; the table runs from page 2, maybe not onto the closing paragraphs' page.
        if 1 < number < len(pages) or (number > 1 and table):
            assert table[0][0] == "Reference Number", number
        assert f"Page {number} of {len(pages)}" in page


def test_an_organisation_name_is_escaped_in_html_and_literal_in_pdf_and_csv() -> None:
    name = "<script>alert(1)</script> & Sons"
    files = render_edition(content([{**SEED_ROW, "organisation": name}]))
    html = files["html"].content.decode()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Sons" in html
    assert name in "\n".join(_text(files["pdf"].content))
    rows = list(csv.reader(io.StringIO(files["csv"].content.decode("utf-8-sig"))))
    assert rows[1][1] == name


@pytest.mark.parametrize("dangerous", ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"])
def test_csv_neutralises_formula_injection(dangerous: str) -> None:
    data = render_csv(content([{**SEED_ROW, "organisation": dangerous}])).decode("utf-8-sig")
    cell = list(csv.reader(io.StringIO(data, newline="")))[1][1]
    assert cell == "'" + dangerous
    assert neutralise_cell("Leicester City Council") == "Leicester City Council"


def test_csv_is_utf8_with_the_table_header() -> None:
    data = render_csv(content([{**SEED_ROW, "organisation": "Café Société"}]))
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == [column.label for column in KIND.columns]
    assert rows[1] == ["SL/25/1", "Café Société", "Pseudonymised", "509"]


def test_json_holds_the_metadata_and_rows() -> None:
    document = json.loads(render_json(content()))
    assert document["format_version"] == 1
    assert document["entries"] == []  # no entries in this content: see test_json_lists_each_public_entry
    assert document["register"] == {"slug": "sub-licences", "title": "Sub Licence Release Register"}
    assert document["last_updated"] == "2025-10-22"
    assert document["period"] == "2025/26 Q3"
    assert document["row_count"] == 1
    assert document["rows"] == [SEED_ROW]
    assert [column["label"] for column in document["columns"]] == [column.label for column in KIND.columns]


def test_diff_rows_reports_added_removed_and_changed() -> None:
    before = [SEED_ROW, {**SEED_ROW, "reference": "SL/25/2", "organisation": "Rutland County Council"}]
    after = [
        {**SEED_ROW, "data_level": "Anonymised"},
        {**SEED_ROW, "reference": "SL/25/3", "organisation": "Leicestershire County Council"},
    ]
    changes = diff_rows(before, after, key="reference")
    assert [row["reference"] for row in changes["added"]] == ["SL/25/3"]
    assert [row["reference"] for row in changes["removed"]] == ["SL/25/2"]
    assert changes["changed"][0]["key"] == "SL/25/1"
    assert changes["changed"][0]["fields"] == {"data_level": ["Pseudonymised", "Anonymised"]}
    assert diff_rows(None, after, key="reference")["added"] == after


@pytest.mark.parametrize("harfbuzz_subset", [True, False], ids=["harfbuzz-subset", "fonttools"])
def test_the_same_edition_gives_the_same_bytes_whatever_the_clock_and_subsetter(
    monkeypatch, harfbuzz_subset: bool
) -> None:
    import time

    from weasyprint.pdf import fonts

    if not harfbuzz_subset:
        # The path a machine without libharfbuzz-subset0 takes: fontTools, which stamps fonts with the time.
        monkeypatch.setattr(fonts, "harfbuzz_subset", None)
    calls = []
    fonttools_subset = fonts.Font._fonttools_subset
    monkeypatch.setattr(fonts.Font, "_fonttools_subset", lambda *args: calls.append(1) or fonttools_subset(*args))
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 86400 * 400)
    first = render_edition(content())["pdf"].content
    monkeypatch.setattr(time, "time", lambda: real_time() - 86400 * 40)
    second = render_edition(content())["pdf"].content
    assert first == second
    assert bool(calls) is not harfbuzz_subset


def test_pdf_dates_and_identifier_come_from_the_edition(seed_files) -> None:
    from publishing.render import pdf_identifier

    reader = PdfReader(io.BytesIO(seed_files["pdf"].content))
    assert str(reader.metadata["/CreationDate"]).startswith("D:20251022")
    assert str(reader.metadata["/ModDate"]).startswith("D:20251022")
    assert reader.trailer["/ID"][0].original_bytes == pdf_identifier(content())
    assert pdf_identifier(content()) != pdf_identifier(content(edition_slug="2025-10-22-2"))


def test_the_lock_up_uses_the_deployments_logo_when_it_has_one(settings, tmp_path) -> None:
    from publishing.render import pdf_document_html

    assert 'class="lockup__logo">NHS</span>' in pdf_document_html(content())
    logo = tmp_path / "logo.svg"
    logo.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="80" height="32"><rect width="80" height="32"/></svg>'
    )
    settings.REGISTER_LOGO_PATH = str(logo)
    html = pdf_document_html(content())
    assert 'src="data:image/svg+xml;base64,' in html and 'alt="NHS"' in html
    assert "Leicester, Leicestershire and Rutland" in html
    assert "NHS Leicester, Leicestershire and Rutland</span>" not in html
