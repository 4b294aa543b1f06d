"""Fixtures for the data-request log: the IG team's roles, a county council asked by a consortium of districts,
and a partner contact for one of the districts."""

from __future__ import annotations

from typing import Any

import pytest

from agreements.services import partner_contact_grant
from datarequests.models import DataRequest
from tests.datarequests.factories import make_request
from tests.factories import OrganisationFactory, UserFactory


@pytest.fixture
def officer() -> Any:
    return UserFactory(username="officer", first_name="Olive", last_name="Officer", role="IG officer")


@pytest.fixture
def officer2() -> Any:
    return UserFactory(username="officer2", role="IG officer")


@pytest.fixture
def approver() -> Any:
    return UserFactory(username="approver", first_name="Abel", last_name="Approver", role="IG approver")


@pytest.fixture
def auditor() -> Any:
    return UserFactory(username="auditor", role="Auditor")


@pytest.fixture
def county() -> Any:
    return OrganisationFactory(name="Leicestershire County Council", ods_code="E10000018")


@pytest.fixture
def districts() -> list[Any]:
    return [OrganisationFactory(name="Blaby District Council", ods_code="E07000129"),
            OrganisationFactory(name="Rutland County Council", ods_code="E06000017")]  # fmt: skip


@pytest.fixture
def outsider_org() -> Any:
    return OrganisationFactory(name="Somewhere Else Council", ods_code="E99999999")


@pytest.fixture
def partner(districts: list[Any]) -> Any:
    user = UserFactory(username="blaby_contact")
    partner_contact_grant(actor=None, user=user, organisation=districts[0])
    return user


@pytest.fixture
def other_partner(outsider_org: Any) -> Any:
    user = UserFactory(username="elsewhere_contact")
    partner_contact_grant(actor=None, user=user, organisation=outsider_org)
    return user


@pytest.fixture
def request_(officer: Any, county: Any, districts: list[Any]) -> DataRequest:
    return make_request(officer, county, districts)
