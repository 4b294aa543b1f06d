"""The demo's first edition against the register the LLR ICB publishes (tests/seeds/000_*: the text of its PDF),
page by page: the same pages, in the same order, with the same wording."""

import io
import re
from pathlib import Path

import pdfplumber
import pytest
from django.core.management import call_command
from pypdf import PdfReader

from publishing.models import Edition

pytestmark = pytest.mark.django_db

SEED = Path(__file__).resolve().parent.parent / "seeds" / "000_sub_licensing_of_data_2025-10-22.txt"
EMAIL = "llricb-llr.informationgovernance@nhs.net"
PRIVACY_NOTICE = (
    "https://leicesterleicestershireandrutland.icb.nhs.uk/wp-content/uploads/2025/09/"
    "LLR-ICB-CORP-018-LLR-ICB-PUBLIC-Privacy-Notice-August-2025-v1.7-FINAL.pdf"
)
# Blocks of the seed's text that are artefacts of how it was extracted from the PDF, each checked another way:
# the table's header cells came out interleaved (checked with the table itself), and the address was read as
# "lIricb-lIr" (checked with the real address and its mailto link).
EXTRACTION_ARTEFACTS = {
    "Partner Health & Social Care",
    "Reference Number e Level of Data Shared ODS Code Organisation",
    "lIricb-lIr.informationgovernance@nhs.net",
}


def _normal(text: str) -> str:
    """One space between words, and a word hyphenated across lines joined again."""
    return re.sub(r"-\s+", "-", " ".join(text.split()))


def seed_pages() -> list[list[str]]:
    """The seed's pages, each a list of its blocks (paragraphs), without the link list after the last page."""
    text = SEED.read_text(encoding="utf-8")
    pages, current = [], []
    for block in re.split(r"\n\s*\n", text):
        block = _normal(block)
        if not block or block.startswith("http") or block.startswith("mailto:"):
            continue
        current.append(block)
        if block.startswith("Sub Licensing of Data \u2014"):  # the footer line closes each page
            pages.append(current)
            current = []
    return pages


@pytest.fixture
def demo_pdf(settings) -> bytes:
    """What `make run` publishes: the demo data, then the first edition on the seed's date."""
    settings.DEVELOPMENT = True
    call_command("load_demo")
    call_command("publish_register", "sub-licences", "--if-none", "--dated", "2025-10-22")
    edition = Edition.objects.get(register__slug="sub-licences", status=Edition.Status.PUBLISHED)
    assert edition.slug == "2025-10-22"
    with edition.files.get(format="pdf").file.open("rb") as handle:
        return handle.read()


def _pages(pdf: bytes) -> list[str]:
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        return [_normal(page.extract_text()) for page in document.pages]


def test_the_seed_has_the_two_pages_this_test_expects() -> None:
    pages = seed_pages()
    assert len(pages) == 2
    assert pages[0][2] == "Sub Licensing of Data" and "Sub Licensing Release Register" in pages[1][1]


def test_each_page_holds_the_seeds_wording_in_the_seeds_order(demo_pdf) -> None:
    ours = _pages(demo_pdf)
    expected = seed_pages()
    assert len(ours) == len(expected)
    for number, (page, blocks) in enumerate(zip(ours, expected, strict=True), start=1):
        position = 0
        for block in blocks:
            if block in EXTRACTION_ARTEFACTS:
                continue
            found = page.find(block, position)
            assert found >= 0, f"page {number}: {block!r} is missing or out of order in {page!r}"
            position = found + len(block)


def test_the_register_page_has_the_seeds_table_address_and_links(demo_pdf) -> None:
    with pdfplumber.open(io.BytesIO(demo_pdf)) as document:
        tables = [page.extract_tables() for page in document.pages]
    assert tables[0] == []
    [table] = tables[1]
    assert [[" ".join((cell or "").split()) for cell in row] for row in table] == [
        ["Reference Number", "Partner Health & Social Care Organisation", "Level of Data Shared", "ODS Code"],
        ["SL/25/1", "Leicester City Council", "Pseudonymised", "509"],
    ]
    assert EMAIL in _pages(demo_pdf)[1]
    reader = PdfReader(io.BytesIO(demo_pdf))
    links = [
        annotation.get_object()["/A"]["/URI"]
        for annotation in reader.pages[1].get("/Annots", [])
        if "/A" in annotation.get_object()
    ]
    assert PRIVACY_NOTICE in links and f"mailto:{EMAIL}" in links
