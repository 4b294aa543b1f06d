"""Render the public pages of what is published now, and serve them from storage (publishing/pages.py)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from publishing import pages


class Command(BaseCommand):
    help = (
        "Render the stored public pages of the published editions. Publications and withdrawals do this by "
        "themselves; run it after a deployment that changes templates, so that the new pages are stored at once."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        counts = pages.public_pages_refresh()
        if counts is None:
            raise CommandError("The published editions changed while the pages were rendered; run it again.")
        self.stdout.write(f"Public pages stored: {counts['pages']} pages and {counts['entries']} entry pages rendered.")
