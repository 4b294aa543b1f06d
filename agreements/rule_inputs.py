"""The version of the rules' inputs: it grows with every committed write to a table the rules read, however the
write is made (a service, the admin, a bulk update, a many-to-many add, raw SQL), so that what the rules find about
the whole register can be kept until then (agreements.selectors.kept_until_inputs_change).

Database triggers on those tables add a row to RuleInputsChange, a table only ever added to:
- on PostgreSQL, one row per writing transaction (a statement trigger, and a transaction-local setting that says
  the transaction has added its row). An INSERT waits for no other transaction's lock, so no writer ever waits on
  another through these triggers;
- on SQLite, which has one writer at a time and no statement triggers, one row per row written.
The version is the sum of the rows' weights: a count of committed changes, which grows whatever order transactions
commit in (the greatest id would not: a transaction that took an id earlier may commit later). compact() folds the
rows into one of their summed weight, nightly.

install() makes the triggers that are missing after every migrate (post_migrate), as SQLite drops a table's triggers
when a migration rebuilds the table, and counts one change of a random weight each time.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.db import connection, connections, transaction
from django.db.models import Sum

from agreements.models import RuleInputsChange

# Every table that agreements.rules and the findings kept by agreements.selectors read. The app's other tables
# (amendments, documents, reference sequences, object permissions, sent reminders) are not read by the rules;
# tests/agreements/test_rule_inputs.py fails when the app gains a table that is neither here nor named there.
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
CHANGES = RuleInputsChange._meta.db_table
SQLITE_EVENTS = ("INSERT", "UPDATE", "DELETE")
# Rows deleted per statement when compacting (SQLite bounds a statement's parameters).
COMPACT_BATCH = 500
# How long making a missing trigger waits for its table's lock before the migrate fails (PostgreSQL).
LOCK_TIMEOUT = "10s"
# Names of their own: migration 0014 drops the triggers of the first design (0013), which had the names
# agreements_rule_inputs_<table>_<event>.
_FUNCTION = "agreements_rule_inputs_count"

_POSTGRESQL_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {_FUNCTION}() RETURNS trigger AS $$
BEGIN
    IF current_setting('agreements.rule_inputs_txid', true) IS DISTINCT FROM txid_current()::text THEN
        PERFORM set_config('agreements.rule_inputs_txid', txid_current()::text, true);
        INSERT INTO {CHANGES} (weight) VALUES (1);
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql
"""  # noqa: S608 - the names are this module's constants


def trigger_name(table: str, event: str = "") -> str:
    suffix = f"_{event.lower()}" if event else ""
    return f"agreements_rule_inputs_count_{table.removeprefix('agreements_')}{suffix}"


def install(*, using: str = "default", **kwargs: Any) -> None:
    """Make the triggers that are missing (a post_migrate receiver; nothing before the migration that makes the
    changes table, or after it is reversed). Then count one change of a random weight: a write made while a table
    had lost its triggers (SQLite, during a migration that rebuilt it) still moves the version, and a database that
    was emptied (flush) does not count through versions it had before. Existing triggers are left alone: making
    one locks its table, which a running site is using (PostgreSQL waits at most LOCK_TIMEOUT for that lock)."""
    database = connections[using]
    existing = set(database.introspection.table_names())
    if CHANGES not in existing:
        return
    tables = [table for table in TABLES if table in existing]
    with transaction.atomic(using=using), database.cursor() as cursor:
        if database.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'agreements_rule_inputs_count_%%'")
            made = {row[0] for row in cursor.fetchall()}
            missing = [table for table in tables if trigger_name(table) not in made]
            if missing:
                cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
                cursor.execute(_POSTGRESQL_FUNCTION)
            for table in missing:
                cursor.execute(
                    f"CREATE TRIGGER {trigger_name(table)} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                    f"FOR EACH STATEMENT EXECUTE FUNCTION {_FUNCTION}()"
                )
        elif database.vendor == "sqlite":
            count = f"INSERT INTO {CHANGES} (weight) VALUES (1)"  # noqa: S608 - this module's names
            for table in tables:
                for event in SQLITE_EVENTS:
                    name = trigger_name(table, event)
                    cursor.execute(f"CREATE TRIGGER IF NOT EXISTS {name} AFTER {event} ON {table} BEGIN {count}; END")
        else:
            raise NotImplementedError(
                f"The rules' input triggers are written for PostgreSQL and SQLite, not {database.vendor}"
            )
        cursor.execute(f"INSERT INTO {CHANGES} (weight) VALUES (%s)", [secrets.randbelow(2**31) + 1])  # noqa: S608


def uninstall(schema_editor: Any) -> None:
    """Drop the triggers (before the migration that made the changes table is reversed)."""
    vendor = schema_editor.connection.vendor
    existing = set(schema_editor.connection.introspection.table_names())
    for table in [table for table in TABLES if table in existing]:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger_name(table)} ON {table}")
        else:
            for event in SQLITE_EVENTS:
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger_name(table, event)}")
    if vendor == "postgresql":
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {_FUNCTION}()")


def version() -> str | None:
    """The version of the rules' inputs, or None inside a transaction: what it reads may include its own writes,
    which are not committed and may yet be rolled back, so nothing it finds may be kept."""
    if connection.in_atomic_block:
        return None
    total = RuleInputsChange.objects.aggregate(total=Sum("weight"))["total"] or 0
    return str(total)


def compact() -> int:
    """Fold the committed rows into one of their summed weight, leaving the version as it is: exactly the rows
    locked here, so that a row another transaction commits meanwhile is neither lost nor counted twice. Returns the
    number of rows folded."""
    with transaction.atomic():
        rows = list(RuleInputsChange.objects.select_for_update().order_by("pk").values_list("pk", "weight"))
        if len(rows) < 2:
            return 0
        ids = [pk for pk, _ in rows]
        for start in range(0, len(ids), COMPACT_BATCH):
            RuleInputsChange.objects.filter(pk__in=ids[start : start + COMPACT_BATCH]).delete()
        RuleInputsChange.objects.create(weight=sum(weight for _, weight in rows))
    return len(rows)
