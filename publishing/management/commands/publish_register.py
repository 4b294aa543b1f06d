"""Publish a register from the command line, as the scheduled job does; or render a preview PDF to a file."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from publishing import pdf, selectors, services
from publishing.models import Edition
from publishing.registers import REGISTER_KINDS, register_kind


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2025-10-22") from None


class Command(BaseCommand):
    help = "Snapshot, render and publish a new edition of a public register."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("register", help=f"The register's slug: {', '.join(REGISTER_KINDS)}")
        parser.add_argument(
            "--preview", metavar="FILE.pdf", help="Render the PDF of what would be published to FILE; publish nothing"
        )
        parser.add_argument(
            "--if-none", action="store_true", help="Publish only if the register has never been published"
        )
        parser.add_argument(
            "--dated",
            type=_date,
            metavar="YYYY-MM-DD",
            help="Print this date on the edition (its last-updated date and address) while showing today's rows; "
            "the demo dates its first edition as the published register it reproduces",
        )

    def handle(
        self, *args: Any, register: str, preview: str | None, if_none: bool, dated: dt.date | None, **options: Any
    ) -> None:
        try:
            register_kind(register)
        except LookupError as error:
            raise CommandError(str(error)) from None
        register_obj = services.register_ensure(slug=register)
        if preview:
            self._preview(register_obj, Path(preview), dated)
            return
        if if_none and selectors.edition_current(register=register_obj):
            self.stdout.write(f"{register_obj.title} is already published; nothing to do.")
            return
        try:
            edition = services.edition_publish(
                register=register_obj,
                on=dated,
                rows_on=timezone.localdate() if dated else None,
                trigger=Edition.Trigger.COMMAND,
            )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from None
        if edition.status != Edition.Status.PUBLISHED:
            raise CommandError(f"The edition was not published ({edition.get_status_display()}): {edition.error}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Published {register_obj.title}, edition {edition.slug}: "
                f"{edition.row_count} {'entry' if edition.row_count == 1 else 'entries'}, "
                f"/registers/{register_obj.slug}/"
            )
        )

    def _preview(self, register_obj: Any, path: Path, dated: dt.date | None) -> None:
        if path.suffix.lower() != ".pdf":
            raise CommandError("The preview file name must end in .pdf")
        if not path.parent.is_dir():
            raise CommandError(f"There is no folder {path.parent}")
        content = services.edition_preview_content(register=register_obj, on=dated)
        path.write_bytes(pdf.render_in_process(content, chunk_rows=settings.PUBLISH_CHUNK_ROWS))
        self.stdout.write(self.style.SUCCESS(f"Wrote a preview of {register_obj.title} to {path}"))
