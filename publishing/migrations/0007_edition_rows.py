"""An edition's rows move from two JSON documents on the edition (rows, entries) to EditionRow, a row each."""

import django.db.models.deletion
from django.db import migrations, models

BATCH = 2000


def _place(index):
    # publishing.registers.sort_bytes((index,)): the rows were stored in table order.
    return b"\x01" + (index + 2**63).to_bytes(8, "big")


def rows_to_table(apps, schema_editor):
    Edition = apps.get_model("publishing", "Edition")
    EditionRow = apps.get_model("publishing", "EditionRow")
    for edition_id in Edition.objects.values_list("pk", flat=True).iterator():
        rows, entries = Edition.objects.values_list("rows", "entries").get(pk=edition_id)
        entries = entries or {}
        batch = []
        for index, row in enumerate(rows or []):
            reference = row.get("reference", "")
            batch.append(
                EditionRow(
                    edition_id=edition_id,
                    sort_key=_place(index),
                    reference=reference,
                    row=row,
                    entry=entries.get(reference) if reference else None,
                )
            )
            if len(batch) == BATCH:
                EditionRow.objects.bulk_create(batch)
                batch = []
        EditionRow.objects.bulk_create(batch)


def table_to_rows(apps, schema_editor):
    Edition = apps.get_model("publishing", "Edition")
    EditionRow = apps.get_model("publishing", "EditionRow")
    for edition in Edition.objects.iterator():
        stored = EditionRow.objects.filter(edition=edition).order_by("sort_key", "id")
        edition.rows = [row.row for row in stored]
        edition.entries = {row.reference: row.entry for row in stored if row.entry is not None}
        edition.save(update_fields=["rows", "entries"])


class Migration(migrations.Migration):

    dependencies = [
        ("publishing", "0006_edition_attempt_progress_request_key"),
    ]

    operations = [
        migrations.CreateModel(
            name="EditionRow",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("sort_key", models.BinaryField()),
                ("reference", models.CharField(max_length=100)),
                ("row", models.JSONField()),
                ("entry", models.JSONField(null=True)),
                (
                    "edition",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="+", to="publishing.edition"
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(fields=["edition", "sort_key", "id"], name="edition_row_order"),
                    models.Index(fields=["edition", "reference"], name="edition_row_reference"),
                ],
            },
        ),
        migrations.RunPython(rows_to_table, table_to_rows),
        migrations.RemoveField(model_name="edition", name="entries"),
        migrations.RemoveField(model_name="edition", name="rows"),
    ]
