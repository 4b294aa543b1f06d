"""Migration 0007: an edition's rows move from two JSON documents on the edition to EditionRow, and back."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("publishing", "0006_edition_attempt_progress_request_key")]
AFTER = [("publishing", "0007_edition_rows")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_the_rows_and_entries_of_every_edition_move_to_a_row_each_in_table_order_and_back() -> None:
    rows = [
        {"reference": "SL/25/2", "organisation": "Leicester City Council"},
        {"reference": "SL/25/10", "organisation": "Blaby District Council"},
        {"reference": "SL/25/11", "organisation": "Rutland County Council"},
    ]
    # SL/25/11 was published before entry pages existed for it: no entry.
    entries = {"SL/25/2": {"reference": "SL/25/2", "title": "Two"}, "SL/25/10": {"reference": "SL/25/10"}}
    try:
        old = _migrate(BEFORE)
        register = old.get_model("publishing", "Register").objects.get_or_create(
            slug="sub-licences",
            defaults={
                "title": "Sub Licence Release Register",
                "organisation_name": "NHS Test ICB",
                "introduction": "Introduction.",
                "contact_email": "ig@example.org",
                "privacy_notice_url": "https://example.org/privacy",
                "cadence": "quarterly",
            },
        )[0]
        Edition = old.get_model("publishing", "Edition")

        def published(day: dt.date, period: str, **snapshot: Any) -> Any:
            return Edition.objects.create(
                register=register,
                slug=day.isoformat(),
                status="published",
                trigger="command",
                last_updated=day,
                period=period,
                **snapshot,
            )

        edition = published(dt.date(2025, 10, 22), "2025/26 Q3", rows=rows, entries=entries, row_count=3)
        empty = published(dt.date(2025, 7, 1), "2025/26 Q2")

        new = _migrate(AFTER)
        stored = new.get_model("publishing", "EditionRow").objects.order_by("sort_key", "id")
        assert [(row.edition_id, row.reference, row.row, row.entry) for row in stored] == [
            (edition.pk, "SL/25/2", rows[0], entries["SL/25/2"]),
            (edition.pk, "SL/25/10", rows[1], entries["SL/25/10"]),
            (edition.pk, "SL/25/11", rows[2], None),
        ]
        assert not stored.filter(edition_id=empty.pk).exists()

        old = _migrate(BEFORE)
        restored = old.get_model("publishing", "Edition").objects.get(pk=edition.pk)
        assert restored.rows == rows and restored.entries == entries
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
