"""Does this machine have every system library and font the PDF renderer needs?

A missing one does not always fail loudly: without HarfBuzz-Subset WeasyPrint subsets fonts with fontTools, and
without Liberation Sans Pango quietly substitutes another font, so the same edition gives other bytes (and
another look) than on a machine that has them. `make run`, `make test` and a test ask here first and stop with
the exact `apt-get install` line.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

# The fonts the PDF's CSS names (templates/publishing/pdf/edition.html), in the styles it uses.
PDF_FONT_FAMILY = "Liberation Sans"
PDF_FONT_STYLES = (("normal", "normal"), ("bold", "normal"), ("bold", "italic"))


@dataclass(frozen=True)
class Missing:
    package: str
    why: str


def _check_libraries() -> list[Missing]:
    try:
        from weasyprint.text import ffi
    except OSError:
        return [Missing("libpango-1.0-0 libpangoft2-1.0-0", "WeasyPrint cannot load Pango")]
    if ffi.harfbuzz_subset is None or not ffi.harfbuzz.hb_version_atleast(4, 1, 0):
        return [
            Missing(
                "libharfbuzz-subset0", "HarfBuzz-Subset (4.1 or later) is missing: fonts would be subset by fontTools"
            )
        ]
    return []


def embedded_font_names(html: str) -> set[str]:
    """The base names of the fonts WeasyPrint embeds for `html`, without the subset tag ("LiberationSans-Bold")."""
    from pypdf import PdfReader
    from pypdf.generic import DictionaryObject
    from weasyprint import HTML

    reader = PdfReader(io.BytesIO(HTML(string=html).write_pdf()))
    names = set()
    for page in reader.pages:
        resources = page["/Resources"].get_object()
        fonts = resources.get("/Font") if isinstance(resources, DictionaryObject) else None
        fonts = fonts.get_object() if fonts is not None else None
        if not isinstance(fonts, DictionaryObject):
            continue
        for font in fonts.values():
            names.add(re.sub(r"^[A-Z]{6}\+", "", str(font.get_object()["/BaseFont"]).lstrip("/")))
    return names


def _check_fonts() -> list[Missing]:
    spans = "".join(
        f"<p style=\"font-family: '{PDF_FONT_FAMILY}'; font-weight: {weight}; font-style: {style}\">Aa</p>"
        for weight, style in PDF_FONT_STYLES
    )
    names = embedded_font_names(f"<!DOCTYPE html><html><body>{spans}</body></html>")
    # WeasyPrint writes "Liberation-Sans-Bold"; compare letters only.
    wanted = re.sub("[^a-z]", "", PDF_FONT_FAMILY.lower())
    found = {name for name in names if re.sub("[^a-z]", "", name.lower()).startswith(wanted)}
    if len(found) < len(PDF_FONT_STYLES):
        return [
            Missing("fonts-liberation2", f"{PDF_FONT_FAMILY} is not installed in every style (found {sorted(names)})")
        ]
    return []


def missing_renderer_dependencies() -> list[Missing]:
    missing = _check_libraries()
    if missing and missing[0].package.startswith("libpango"):
        return missing
    return missing + _check_fonts()


def install_line(missing: list[Missing]) -> str:
    return "apt-get install -y " + " ".join(item.package for item in missing)
