"""The renderer's system dependencies: present on this machine, and reported with the apt-get line when not."""

import pytest
from django.core.management import CommandError, call_command
from weasyprint.text import ffi

from publishing import renderer_check


def test_this_machine_has_every_library_and_font_the_pdf_needs() -> None:
    # Fails, rather than letting the PDF tests pass with other fonts or another subsetter.
    missing = renderer_check.missing_renderer_dependencies()
    assert missing == [], renderer_check.install_line(missing)


def test_a_missing_harfbuzz_subset_is_named_with_its_package(monkeypatch) -> None:
    monkeypatch.setattr(ffi, "harfbuzz_subset", None)
    missing = renderer_check.missing_renderer_dependencies()
    assert [item.package for item in missing] == ["libharfbuzz-subset0"]
    with pytest.raises(CommandError, match=r"apt-get install -y libharfbuzz-subset0"):
        call_command("check_renderer")


def test_a_missing_font_is_named_with_its_package(monkeypatch) -> None:
    monkeypatch.setattr(renderer_check, "PDF_FONT_FAMILY", "No Such Sans")
    missing = renderer_check.missing_renderer_dependencies()
    assert [item.package for item in missing] == ["fonts-liberation2"]
    assert renderer_check.install_line(missing) == "apt-get install -y fonts-liberation2"
