"""The version of the rules' inputs (agreements.rule_inputs: changes counted by database triggers) and the findings
kept until it changes (selectors.kept_until_inputs_change): kept between views, found again after any committed
change however it was made, never kept from inside a transaction. Transactional tests: the writes commit, as they
do in production (on PostgreSQL the version is only as good as what commits)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from agreements import roles, rule_inputs, selectors, tasks
from agreements.models import Agreement, Dataset, Linkage, Organisation, Party, RuleInputsChange
from tests.conftest import ON_POSTGRES
from tests.factories import (
    AgreementFactory,
    DatasetFactory,
    LinkageFactory,
    OrganisationFactory,
    SubLicenceFactory,
    UserFactory,
)

# Tables of the app that the rules do not read: a change to them leaves the findings as they are.
NOT_INPUTS = {
    "agreements_amendment",
    "agreements_amendment_contributors",
    "agreements_document",
    "agreements_referencesequence",
    "agreements_organisationuserobjectpermission",
    "agreements_organisationgroupobjectpermission",
    "agreements_agreementuserobjectpermission",
    "agreements_agreementgroupobjectpermission",
    "agreements_sentreminder",
    "agreements_ruleinputschange",
}


def test_every_table_of_the_app_is_an_input_or_named_as_not_one() -> None:
    tables = {model._meta.db_table for model in apps.get_app_config("agreements").get_models(include_auto_created=True)}
    assert set(rule_inputs.TABLES) | NOT_INPUTS == tables
    assert not set(rule_inputs.TABLES) & NOT_INPUTS


def _triggers() -> list[tuple[str, str]]:
    """(table, definition) of each counting trigger."""
    with connection.cursor() as cursor:
        if ON_POSTGRES:
            cursor.execute(
                "SELECT tgrelid::regclass::text, pg_get_triggerdef(oid) FROM pg_trigger "
                "WHERE tgname LIKE 'agreements_rule_inputs_%%'"
            )
        else:
            cursor.execute(
                "SELECT tbl_name, sql FROM sqlite_master "
                "WHERE type = 'trigger' AND name LIKE 'agreements_rule_inputs_%'"
            )
        return sorted(cursor.fetchall())


def _triggered_tables() -> list[str]:
    return [table for table, _ in _triggers()]


def _expected_triggers() -> list[str]:
    # PostgreSQL: one statement trigger per table; SQLite: one for each of insert, update and delete.
    return sorted(rule_inputs.TABLES * (1 if ON_POSTGRES else len(rule_inputs.SQLITE_EVENTS)))


@pytest.mark.django_db
def test_each_input_table_has_its_triggers_which_add_a_change() -> None:
    assert _triggered_tables() == _expected_triggers()
    for _, definition in _triggers():
        assert "agreements_rule_inputs_count" in definition
        if ON_POSTGRES:
            assert "AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE" in definition
            assert "FOR EACH STATEMENT" in definition
        else:
            assert "INSERT INTO agreements_ruleinputschange" in definition


@pytest.mark.django_db(transaction=True)
def test_the_triggers_are_made_again_after_a_migrate_when_a_table_lost_them() -> None:
    # As SQLite does when a migration rebuilds a table (AlterField): its triggers go with the old table.
    with connection.cursor() as cursor:
        if ON_POSTGRES:
            cursor.execute(
                f"DROP TRIGGER {rule_inputs.trigger_name('agreements_organisation')} ON agreements_organisation"
            )
        else:
            for event in rule_inputs.SQLITE_EVENTS:
                cursor.execute(f"DROP TRIGGER {rule_inputs.trigger_name('agreements_organisation', event)}")
    assert "agreements_organisation" not in _triggered_tables()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    assert _triggered_tables() == _expected_triggers()


def _raw_update() -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE agreements_agreement SET title = 'Changed by hand'")


WRITES: dict[str, Callable[[dict[str, Any]], object]] = {
    "a new partner": lambda made: OrganisationFactory(),
    "a bulk update": lambda made: Organisation.objects.update(dspt_status=Organisation.DsptStatus.NOT_MET),
    "a deleted dataset": lambda made: Dataset.objects.filter(pk=made["dataset"].pk).delete(),
    "a dataset added to a linkage": lambda made: made["linkage"].datasets.add(made["dataset"]),
    "a linkage's status": lambda made: Linkage.objects.filter(pk=made["linkage"].pk).update(status="active"),
    "raw SQL": lambda made: _raw_update(),
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("write", list(WRITES))
def test_any_committed_change_to_an_input_changes_the_version(write: str) -> None:
    made = {"dataset": DatasetFactory(), "linkage": LinkageFactory(), "sub_licence": SubLicenceFactory()}
    before = rule_inputs.version()
    assert before is not None
    WRITES[write](made)
    after = rule_inputs.version()
    assert after is not None and int(after) > int(before)


@pytest.mark.django_db(transaction=True)
def test_findings_are_kept_until_an_input_changes_or_the_day_does() -> None:
    today = timezone.localdate()
    calls: list[int] = []

    def find() -> list[str]:
        calls.append(1)
        return list(Organisation.objects.order_by("name").values_list("name", flat=True))

    assert selectors.kept_until_inputs_change("test:names", today, find) == []
    assert selectors.kept_until_inputs_change("test:names", today, find) == []
    assert len(calls) == 1
    OrganisationFactory(name="Added")
    assert selectors.kept_until_inputs_change("test:names", today, find) == ["Added"]
    assert len(calls) == 2
    selectors.kept_until_inputs_change("test:names", today + dt.timedelta(days=1), find)
    assert len(calls) == 3


@pytest.mark.django_db(transaction=True)
def test_nothing_found_inside_a_transaction_is_kept() -> None:
    today = timezone.localdate()

    def find() -> list[str]:
        return list(Organisation.objects.order_by("name").values_list("name", flat=True))

    assert selectors.kept_until_inputs_change("test:names", today, find) == []

    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction.atomic():
        OrganisationFactory(name="Rolled back")
        assert selectors.kept_until_inputs_change("test:names", today, find) == ["Rolled back"]
        raise Undo
    assert selectors.kept_until_inputs_change("test:names", today, find) == []
    # As many writes as the rolled-back transaction made: the version it would have had, had it been counted.
    OrganisationFactory(name="Committed")
    assert selectors.kept_until_inputs_change("test:names", today, find) == ["Committed"]


@pytest.mark.django_db(transaction=True)
def test_compacting_keeps_the_version_and_later_changes_still_count() -> None:
    for _ in range(3):
        OrganisationFactory()
    before = rule_inputs.version()
    assert RuleInputsChange.objects.count() >= 3
    assert tasks.compact_rule_inputs() >= 3
    assert RuleInputsChange.objects.count() == 1
    assert rule_inputs.version() == before
    assert rule_inputs.compact() == 0
    OrganisationFactory()
    assert int(rule_inputs.version() or 0) > int(before or 0)


@pytest.mark.django_db(transaction=True)
def test_the_dashboard_keeps_the_rules_findings_and_shows_a_bulk_update_at_once() -> None:
    sub_licence = SubLicenceFactory(reference="SL/25/8")
    client = Client()
    client.force_login(UserFactory(username="officer", role=roles.IG_OFFICER))
    with CaptureQueriesContext(connection) as first:
        page = client.get(reverse("staff:dashboard")).content.decode()
    assert "SL/25/8</a>: The sub-licence shares" not in page
    with CaptureQueriesContext(connection) as second:
        again = client.get(reverse("staff:dashboard")).content.decode()
    # Kept: the rules' queries are not run again, and the page says the same.
    assert len(second) < len(first)
    assert again.count("SL/25/8") == page.count("SL/25/8")
    assert "is Not Met" not in page
    Agreement.objects.filter(pk=sub_licence.pk).update(data_level="identifiable")
    page = client.get(reverse("staff:dashboard")).content.decode()
    assert "SL/25/8</a>: The sub-licence shares Identifiable data" in page
    # The linkages' and partners' section is kept and found again likewise.
    Organisation.objects.filter(parties__agreement=sub_licence).update(dspt_status=Organisation.DsptStatus.NOT_MET)
    page = client.get(reverse("staff:dashboard")).content.decode()
    assert "DSPT status for" in page and "is Not Met" in page


@pytest.mark.skipif(not ON_POSTGRES, reason="row locks and foreign keys checked at commit: PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_writers_of_the_same_rows_do_not_deadlock_through_the_version() -> None:
    """One transaction holds a partner's row (select_for_update, as the services do) while another, adding an
    agreement with that partner, waits at its commit for the foreign key's check on it. Counting the change must add
    no lock of its own that the first then waits for."""
    other, shared = OrganisationFactory(name="Other"), OrganisationFactory(name="Shared")
    errors: dict[str, str | None] = {}
    locked, committing = threading.Event(), threading.Event()

    def holder() -> None:
        try:
            with transaction.atomic():
                Organisation.objects.select_for_update().get(pk=shared.pk)
                Organisation.objects.filter(pk=shared.pk).update(name="Shared, renamed")
                locked.set()
                committing.wait(5)
                time.sleep(0.5)  # the other is now waiting at its commit on the shared row
            errors["holder"] = None
        except Exception as error:
            errors["holder"] = repr(error)
        finally:
            connection.close()

    def adder() -> None:
        try:
            locked.wait(5)
            with transaction.atomic():
                agreement = AgreementFactory()
                Party.objects.create(agreement=agreement, organisation=other, role=Party.Role.RECIPIENT)
                Party.objects.create(agreement=agreement, organisation=shared, role=Party.Role.PROVIDER)
                committing.set()
            errors["adder"] = None
        except Exception as error:
            errors["adder"] = repr(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=holder), threading.Thread(target=adder)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == {"holder": None, "adder": None}


@pytest.mark.django_db(transaction=True)
def test_a_database_with_the_first_design_moves_to_the_count_and_back() -> None:
    """Migration 0014 drops the triggers of 0013 (one version row, changed at commit: it could deadlock writers on
    PostgreSQL), which reused their names on PostgreSQL; the counting triggers come with the next migrate."""
    from django.core.management import call_command
    from django.db.migrations.executor import MigrationExecutor

    def migrate(target: str) -> None:
        MigrationExecutor(connection).migrate([("agreements", target)])

    def names() -> set[str]:
        with connection.cursor() as cursor:
            if ON_POSTGRES:
                cursor.execute("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'agreements_rule_inputs_%%'")
            else:
                cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            return {row[0] for row in cursor.fetchall() if row[0].startswith("agreements_rule_inputs_")}

    try:
        migrate("0013_rule_inputs")
        first = names()
        assert first and not any(name.startswith("agreements_rule_inputs_count_") for name in first)
        migrate("0014_rule_inputs_changes")
        assert names() == set()
    finally:
        call_command("migrate", verbosity=0)
    assert _triggered_tables() == _expected_triggers()
    before = rule_inputs.version()
    OrganisationFactory()
    assert int(rule_inputs.version() or 0) > int(before or 0)
