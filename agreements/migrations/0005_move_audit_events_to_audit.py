"""The audit trail moves to its own app (audit.AuditEvent), with a generic reference to the record, so that every
domain (publishing, data requests, sign-in) writes to the same trail. Every existing row is copied, then the old
table is dropped."""

from django.db import migrations

SUBJECTS = ("agreement", "organisation", "linkage")


def copy_events(apps, schema_editor):
    Old = apps.get_model("agreements", "AuditEvent")
    New = apps.get_model("audit", "AuditEvent")
    ContentType = apps.get_model("contenttypes", "ContentType")
    types = {
        name: ContentType.objects.get_or_create(app_label="agreements", model=name)[0] for name in SUBJECTS
    }
    labels = {
        "agreement": lambda o: f"{o.reference}: {o.title}",
        "organisation": lambda o: f"{o.name} ({o.ods_code})",
        "linkage": lambda o: o.title,
    }
    batch = []
    for old in Old.objects.select_related(*SUBJECTS).order_by("pk").iterator(chunk_size=2000):
        name = next((n for n in SUBJECTS if getattr(old, f"{n}_id")), None)
        subject = getattr(old, name) if name else None
        batch.append(
            New(
                at=old.at,
                actor_id=old.actor_id,
                action=old.action,
                subject_type=types[name] if name else None,
                subject_id=subject.pk if subject else None,
                subject_label=labels[name](subject)[:300] if subject else "",
                reason=old.reason,
                changes=old.changes,
            )
        )
        if len(batch) >= 2000:
            New.objects.bulk_create(batch)
            batch = []
    New.objects.bulk_create(batch)
    # auto_now_add set "at" to now on bulk_create; put back each row's own time, in the same order.
    for old, new in zip(
        Old.objects.order_by("pk").values_list("at", flat=True).iterator(),
        New.objects.order_by("pk").values_list("pk", flat=True).iterator(),
        strict=False,
    ):
        New.objects.filter(pk=new).update(at=old)


class Migration(migrations.Migration):
    dependencies = [
        ("agreements", "0004_document_uploaded_by_optional"),
        ("audit", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(copy_events, migrations.RunPython.noop),
        migrations.DeleteModel(name="AuditEvent"),
    ]
