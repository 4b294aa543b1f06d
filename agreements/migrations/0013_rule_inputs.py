"""The rules' inputs version (agreements.models.RuleInputs) and the triggers that change it.

On PostgreSQL the triggers are deferred to the commit (constraint triggers), and change the row once per
transaction: a transaction takes the row's lock only as it commits, after every other lock it holds, so two
transactions writing the same agreements cannot deadlock on it. On SQLite, which has one writer at a time, they
run with each row written.
"""

from django.db import migrations, models

# Every table that agreements.rules and the findings kept by agreements.selectors read. The tables of the app
# left out (amendments, documents, reference sequences, object permissions, sent reminders) are not read by the
# rules; tests/agreements/test_rule_inputs.py fails when a new table is neither here nor there.
TABLES = [
    "agreements_organisation",
    "agreements_purpose",
    "agreements_dataset",
    "agreements_agreement",
    "agreements_agreement_purposes",
    "agreements_agreement_datasets",
    "agreements_party",
    "agreements_permittedpurpose",
    "agreements_linkage",
    "agreements_linkage_datasets",
    "agreements_linkage_purposes",
]

_POSTGRESQL_FUNCTION = """
CREATE OR REPLACE FUNCTION agreements_rule_inputs_changed() RETURNS trigger AS $$
BEGIN
    IF current_setting('agreements.rule_inputs_txid', true) IS DISTINCT FROM txid_current()::text THEN
        PERFORM set_config('agreements.rule_inputs_txid', txid_current()::text, true);
        INSERT INTO agreements_ruleinputs (id, version) VALUES (1, replace(gen_random_uuid()::text, '-', ''))
            ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version;
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql
"""

# An update, then an insert if the row is gone: not one INSERT OR REPLACE, which an outer INSERT OR IGNORE (Django's
# many-to-many add) would turn into an insert that ignores the row it finds.
_SQLITE_CHANGE = (
    "UPDATE agreements_ruleinputs SET version = lower(hex(randomblob(16))) WHERE id = 1; "
    "INSERT INTO agreements_ruleinputs (id, version) SELECT 1, lower(hex(randomblob(16))) "
    "WHERE NOT EXISTS (SELECT 1 FROM agreements_ruleinputs WHERE id = 1)"
)


def _trigger(table: str, event: str) -> str:
    return f"agreements_rule_inputs_{table.removeprefix('agreements_')}_{event.lower()}"


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(_POSTGRESQL_FUNCTION)
        for table in TABLES:
            schema_editor.execute(
                f"CREATE CONSTRAINT TRIGGER {_trigger(table, 'change')} AFTER INSERT OR UPDATE OR DELETE ON {table} "
                "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION agreements_rule_inputs_changed()"
            )
    elif vendor == "sqlite":
        for table in TABLES:
            for event in ("INSERT", "UPDATE", "DELETE"):
                schema_editor.execute(
                    f"CREATE TRIGGER {_trigger(table, event)} AFTER {event} ON {table} BEGIN {_SQLITE_CHANGE}; END"
                )
    else:
        raise NotImplementedError(f"The rules' input triggers are written for PostgreSQL and SQLite, not {vendor}")


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {_trigger(table, 'change')} ON {table}")
        schema_editor.execute("DROP FUNCTION IF EXISTS agreements_rule_inputs_changed()")
    elif vendor == "sqlite":
        for table in TABLES:
            for event in ("INSERT", "UPDATE", "DELETE"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {_trigger(table, event)}")


def create_version(apps, schema_editor):
    """The row, with a first version (idempotent: the tests seed it again after a flush)."""
    import secrets

    RuleInputs = apps.get_model("agreements", "RuleInputs")
    RuleInputs.objects.get_or_create(pk=1, defaults={"version": secrets.token_hex(16)})


class Migration(migrations.Migration):
    dependencies = [("agreements", "0012_dashboard_list_indexes")]

    operations = [
        migrations.CreateModel(
            name="RuleInputs",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("version", models.CharField(max_length=32)),
            ],
        ),
        migrations.RunPython(create_version, migrations.RunPython.noop),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
