"""The rules' inputs version (RuleInputs, changed by database triggers) and the findings kept until it changes
(selectors.kept_until_inputs_change): kept between views, found again after any change, however it was made."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from importlib import import_module
from typing import Any

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from agreements import roles, selectors
from agreements.models import Agreement, Dataset, Linkage, Organisation, RuleInputs
from tests.factories import (
    DatasetFactory,
    LinkageFactory,
    OrganisationFactory,
    SubLicenceFactory,
    UserFactory,
)

MIGRATION = import_module("agreements.migrations.0013_rule_inputs")
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
    "agreements_ruleinputs",
}


@pytest.fixture
def version_row(transactional_db: None) -> None:
    """The row as migrate leaves it: a transactional test before this one may have flushed it (PostgreSQL
    truncates, which fires no trigger)."""
    MIGRATION.create_version(apps, None)


def _version() -> str | None:
    return RuleInputs.objects.filter(pk=1).values_list("version", flat=True).first()


def test_every_table_of_the_app_is_an_input_or_named_as_not_one() -> None:
    tables = {model._meta.db_table for model in apps.get_app_config("agreements").get_models(include_auto_created=True)}
    assert set(MIGRATION.TABLES) | NOT_INPUTS == tables
    assert not set(MIGRATION.TABLES) & NOT_INPUTS


@pytest.mark.django_db
def test_each_input_table_has_its_triggers() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgrelid::regclass::text FROM pg_trigger WHERE tgname LIKE 'agreements_rule_inputs_%'"
            )
            expected = sorted(MIGRATION.TABLES)
        else:
            cursor.execute(
                "SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'agreements_rule_inputs_%'"
            )
            # One for each of insert, update and delete.
            expected = sorted(MIGRATION.TABLES * 3)
        assert sorted(row[0] for row in cursor.fetchall()) == expected


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
def test_any_change_to_an_input_changes_the_version_as_it_commits(write: str) -> None:
    made = {"dataset": DatasetFactory(), "linkage": LinkageFactory(), "sub_licence": SubLicenceFactory()}
    before = _version()
    assert before
    WRITES[write](made)
    assert _version() not in (before, None)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("version_row")
def test_findings_are_kept_until_an_input_changes_or_the_day_does() -> None:
    today = timezone.localdate()
    calls: list[int] = []

    def find() -> int:
        calls.append(1)
        return Organisation.objects.count()

    assert selectors.kept_until_inputs_change("test:count", today, find) == 0
    assert selectors.kept_until_inputs_change("test:count", today, find) == 0
    assert len(calls) == 1
    OrganisationFactory()
    assert selectors.kept_until_inputs_change("test:count", today, find) == 1
    assert len(calls) == 2
    selectors.kept_until_inputs_change("test:count", today + dt.timedelta(days=1), find)
    assert len(calls) == 3


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("version_row")
def test_what_a_rolled_back_transaction_found_is_never_served() -> None:
    today = timezone.localdate()

    def find() -> int:
        return Organisation.objects.count()

    assert selectors.kept_until_inputs_change("test:count", today, find) == 0

    class Undo(Exception):
        pass

    with pytest.raises(Undo), transaction.atomic():
        OrganisationFactory()
        assert selectors.kept_until_inputs_change("test:count", today, find) == 1
        raise Undo
    assert selectors.kept_until_inputs_change("test:count", today, find) == 0
    OrganisationFactory()
    assert selectors.kept_until_inputs_change("test:count", today, find) == 1


@pytest.mark.django_db(transaction=True)
def test_without_the_version_row_nothing_is_kept_until_a_write_brings_it_back() -> None:
    today = timezone.localdate()
    calls: list[int] = []

    def find() -> int:
        calls.append(1)
        return len(calls)

    RuleInputs.objects.all().delete()
    assert selectors.kept_until_inputs_change("test:calls", today, find) == 1
    assert selectors.kept_until_inputs_change("test:calls", today, find) == 2
    OrganisationFactory()
    assert _version()
    assert selectors.kept_until_inputs_change("test:calls", today, find) == 3
    assert selectors.kept_until_inputs_change("test:calls", today, find) == 3


@pytest.mark.django_db
def test_the_dashboard_shows_a_rule_failing_as_soon_as_a_bulk_update_breaks_it() -> None:
    sub_licence = SubLicenceFactory(reference="SL/25/8")
    client = Client()
    client.force_login(UserFactory(username="officer", role=roles.IG_OFFICER))
    page = client.get(reverse("staff:dashboard")).content.decode()
    assert "SL/25/8</a>: The sub-licence shares" not in page
    Agreement.objects.filter(pk=sub_licence.pk).update(data_level="identifiable")
    page = client.get(reverse("staff:dashboard")).content.decode()
    assert "SL/25/8</a>: The sub-licence shares Identifiable data" in page
