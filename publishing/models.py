"""Registers and their editions.

An Edition is a frozen publication: its rows (EditionRow, a row each) and the register's wording are copied in when
it is snapshotted, and its files (HTML fragment, PDF, CSV, JSON) are stored with their size and SHA-256 before it
becomes public.
Writes go through publishing.services; public pages read published editions only.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import ExpressionWrapper, Q

from publishing.registers import REGISTER_KINDS, Cadence, RegisterKind, register_kind


class Register(models.Model):
    slug = models.SlugField(max_length=50, unique=True, choices=[(slug, slug) for slug in REGISTER_KINDS])
    title = models.CharField(max_length=200)
    organisation_name = models.CharField(
        "Organisation named on the register",
        max_length=200,
        help_text="For example NHS Leicester, Leicestershire and Rutland",
    )
    introduction = models.TextField(help_text="Plain English. Leave a blank line between paragraphs.")
    contact_email = models.EmailField("Contact email address")
    privacy_notice_url = models.URLField("Privacy notice web address", max_length=500)
    privacy_notice_title = models.CharField(
        "Privacy notice link text",
        max_length=200,
        default="Public Privacy Notice",
        help_text="For example the notice's file name, as the published register shows it",
    )
    # The rest of the register's own wording in the PDF (shared/seeds/000_*), frozen into each edition.
    heading = models.CharField(
        "Heading of the register",
        max_length=200,
        blank=True,
        help_text="Above the table, for example Sub Licensing Release Register. Leave blank to use the title.",
    )
    table_lead = models.TextField("Lead-in to the table", max_length=1000, blank=True)
    privacy_notice_sentence = models.CharField(
        "Sentence before the privacy notice link",
        max_length=500,
        blank=True,
        help_text="For example: For further information on how we use data, please refer to our Public Privacy Notice",
    )
    team_name = models.CharField(
        "Team to contact", max_length=200, blank=True, help_text="For example Corporate Governance Team"
    )
    contact_sentence = models.CharField(
        "Contact sentence",
        max_length=500,
        blank=True,
        help_text="Shown above the email address. Write {team} where the team's name goes.",
    )
    cadence = models.CharField(max_length=20, choices=Cadence.CHOICES)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if "{team}" in self.contact_sentence and not self.team_name.strip():
            raise ValidationError({"team_name": "Enter the team's name: the contact sentence names it with {team}"})

    @property
    def kind(self) -> RegisterKind:
        return register_kind(self.slug)


def edition_upload_to(instance: EditionFile, filename: str) -> str:
    edition = instance.edition
    return f"registers/{edition.register.slug}/{edition.pk}/{filename}"


class Edition(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Preview (not published)"
        RENDERING = "rendering", "Rendering"
        PUBLISHED = "published", "Published"
        FAILED = "failed", "Failed"
        WITHDRAWN = "withdrawn", "Withdrawn"

    class Trigger(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        STAFF = "staff", "Publish now"
        COMMAND = "command", "Command line"
        PREVIEW = "preview", "Preview"

    register = models.ForeignKey(Register, on_delete=models.PROTECT, related_name="editions")
    # Permanent, in public URLs: the last-updated date, with -2, -3 when a day has more than one edition.
    slug = models.SlugField(max_length=40)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RENDERING)
    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    last_updated = models.DateField("Last updated")
    period = models.CharField(max_length=20, help_text="For example 2025/26 Q3")
    # Set only by scheduled runs: the unique key that makes a quarter publish at most one scheduled edition.
    scheduled_period = models.CharField(max_length=20, blank=True, default="", editable=False)
    # The register's wording, frozen when the snapshot is taken; the rows are EditionRows, frozen with it.
    metadata = models.JSONField(default=dict)
    columns = models.JSONField(default=list)
    row_count = models.PositiveIntegerField(default=0)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    snapshot_at = models.DateTimeField(null=True, blank=True)
    # A render holds a lease, renewed as each part finishes; a worker killed mid-render leaves a lease that runs out,
    # and the sweep starts a new attempt. Only the current attempt may publish, so an edition is published once.
    claimed_until = models.DateTimeField(null=True, blank=True)
    attempt = models.PositiveIntegerField(default=0, editable=False)
    # Progress of the current attempt, for the staff page: parts are the PDF's pieces and the text formats.
    parts_done = models.PositiveIntegerField(default=0, editable=False)
    parts_total = models.PositiveIntegerField(default=0, editable=False)
    # The form that asked for the edition ("Publish now", "Preview"): a second press of the same form finds it.
    request_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    published_at = models.DateTimeField(null=True, blank=True, db_index=True)
    error = models.TextField(blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    withdrawal_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["-published_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["register", "slug"], name="edition_unique_slug"),
            models.UniqueConstraint(
                fields=["register", "scheduled_period"],
                condition=~Q(scheduled_period=""),
                name="edition_one_scheduled_per_period",
            ),
        ]
        indexes = [models.Index(fields=["register", "status", "-published_at"])]
        permissions = [("publish_edition", "Publish or withdraw an edition")]

    def __str__(self) -> str:
        return f"{self.register.title}, {self.slug} ({self.get_status_display()})"

    @property
    def published_by_label(self) -> str:
        if self.trigger == self.Trigger.SCHEDULED:
            return "Scheduled"
        return self.requested_by.get_username() if self.requested_by else "System"

    @property
    def day_number(self) -> int:
        """1 for the day's first edition, 2 for "2025-10-22-2" and so on: what tells editions of a day apart."""
        prefix = self.last_updated.isoformat() if self.last_updated else ""
        suffix = self.slug[len(prefix) + 1 :] if prefix and self.slug.startswith(prefix + "-") else ""
        return int(suffix) if suffix.isdigit() else 1

    @property
    def is_public(self) -> bool:
        return self.status == self.Status.PUBLISHED

    @property
    def file_stem(self) -> str:
        return f"{self.register.kind.file_stem}-{self.slug}"

    @property
    def contact_text(self) -> str:
        """The register's own contact sentence, as frozen in this edition (the same words as its PDF)."""
        from publishing.render import contact_text

        return contact_text(
            sentence=self.metadata.get("contact_sentence", ""), team_name=self.metadata.get("team_name", "")
        )

    @property
    def privacy_notice_text(self) -> str:
        from publishing.render import privacy_notice_text

        return privacy_notice_text(
            sentence=self.metadata.get("privacy_notice_sentence", ""),
            organisation_name=self.metadata.get("organisation_name", ""),
        )

    def stored_rows(self, *, entries: str = "all") -> StoredRows:
        """The edition's rows, read a batch at a time as they are iterated."""
        return StoredRows(self.pk, self.row_count, entries=entries)

    def entry(self, reference: str) -> dict[str, Any] | None:
        """The public entry of the edition's row with that reference, or None."""
        found = EditionRow.objects.filter(edition=self, reference=reference, entry__isnull=False)
        return found.values_list("entry", flat=True).first()

    @property
    def introduction_paragraphs(self) -> list[str]:
        text = (self.metadata.get("introduction") or "").replace("\r\n", "\n")
        return [part.strip() for part in text.split("\n\n") if part.strip()]


class EditionRow(models.Model):
    """One row of an edition's table, with its public entry, frozen when the edition is snapshotted.

    Rows are rows of their own, not one document on the edition, so that an edition of any size is written and
    read a batch at a time (publishing holds one batch in memory, whatever the register's size), an entry page
    reads its one row, and updating the edition's state does not rewrite its rows (SQLite rewrites a whole row)."""

    edition = models.ForeignKey(Edition, on_delete=models.CASCADE, related_name="+")
    # The row's place in the table: the bytes of the register's sort key (publishing.registers.sort_bytes), in the
    # same order; ties keep the order rows were written in (their pk).
    sort_key = models.BinaryField()
    # The agreement's reference: its entry page's address, and the key "what changed" matches rows on.
    reference = models.CharField(max_length=100)
    row = models.JSONField()
    # The public fields its entry page shows (registers.public_entry); null when it has none (editions published
    # before entry pages existed).
    entry = models.JSONField(null=True)

    class Meta:
        indexes = [
            models.Index(fields=["edition", "sort_key", "id"], name="edition_row_order"),
            models.Index(fields=["edition", "reference"], name="edition_row_reference"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} in edition {self.edition_id}"


# Rows read from the database at a time: publishing holds one batch of an edition's rows in memory.
ROW_BATCH = 2000
# What StoredRows reads of each row's entry (publishing.render.ENTRIES_READ gives the one each writer needs).
ENTRY_MODES = ("none", "keys", "all")


class StoredRows:
    """An edition's rows in table order, read from the database a batch at a time each time they are iterated:
    what publishing.render.EditionContent holds for an edition that is stored. It pickles as the edition's id,
    for a worker to read again. `entries` says what pairs() reads of each row's entry: nothing ("none"), whether
    it has one ("keys": an empty dict if so), or the entry ("all")."""

    def __init__(self, edition_id: int, count: int, *, entries: str = "all") -> None:
        if entries not in ENTRY_MODES:
            raise ValueError(f"entries must be one of {ENTRY_MODES}")
        self.edition_id, self.count, self.entries = edition_id, count, entries

    def __repr__(self) -> str:
        return f"StoredRows(edition {self.edition_id}, {self.count} rows)"

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[dict[str, str]]:
        return self._read("row", flat=True)

    def reading(self, entries: str) -> StoredRows:
        return StoredRows(self.edition_id, self.count, entries=entries)

    def pairs(self) -> Iterator[tuple[dict[str, str], dict[str, Any] | None]]:
        """Each row with its entry (None when it has none, or when `entries` is "none")."""
        if self.entries == "none":
            return ((row, None) for row in self)
        if self.entries == "keys":
            has_entry = ExpressionWrapper(Q(entry__isnull=False), output_field=models.BooleanField())
            return ((row, {} if has else None) for row, has in self._read("row", has_entry))
        return self._read("row", "entry")

    def references(self) -> Iterator[str]:
        """The references of the rows that have an entry, in table order."""
        return self._read("reference", flat=True, with_entry=True)

    def _read(self, *fields: Any, flat: bool = False, with_entry: bool = False) -> Iterator[Any]:
        rows = EditionRow.objects.filter(edition_id=self.edition_id)
        if with_entry:
            rows = rows.filter(entry__isnull=False)
        return rows.order_by("sort_key", "id").values_list(*fields, flat=flat).iterator(chunk_size=ROW_BATCH)


class EditionFile(models.Model):
    class Format(models.TextChoices):
        HTML = "html", "HTML"
        PDF = "pdf", "PDF"
        CSV = "csv", "CSV"
        JSON = "json", "JSON"

    CONTENT_TYPES = {
        "html": "text/html; charset=utf-8",
        "pdf": "application/pdf",
        "csv": "text/csv; charset=utf-8",
        "json": "application/json",
    }

    edition = models.ForeignKey(Edition, on_delete=models.PROTECT, related_name="files")
    format = models.CharField(max_length=10, choices=Format.choices)
    file = models.FileField(upload_to=edition_upload_to, max_length=255)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField("SHA-256", max_length=64)

    class Meta:
        ordering = ["edition", "format"]
        constraints = [models.UniqueConstraint(fields=["edition", "format"], name="edition_file_unique_format")]

    def __str__(self) -> str:
        return f"{self.edition} {self.format}"

    @property
    def content_type(self) -> str:
        return self.CONTENT_TYPES[self.format]
