"""Stop `make run` and `make test` early, with the apt-get line, when the PDF renderer lacks a system package."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from publishing.renderer_check import install_line, missing_renderer_dependencies


class Command(BaseCommand):
    help = "Check the system libraries and fonts the PDF renderer needs; print the apt-get line for any missing."

    def handle(self, *args: Any, **options: Any) -> None:
        missing = missing_renderer_dependencies()
        if missing:
            reasons = "\n".join(f"  - {item.package}: {item.why}" for item in missing)
            raise CommandError(
                f"The PDF renderer is missing system packages:\n{reasons}\n"
                f"Install them with:\n  {install_line(missing)}"
            )
        self.stdout.write("PDF renderer: Pango, HarfBuzz-Subset and Liberation Sans are installed.")
