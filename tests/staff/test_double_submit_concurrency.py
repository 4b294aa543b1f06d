"""Ten submits of one form at once, with one creation key, on a real PostgreSQL server (.ci/run's second pass):
each must land on the one record the first created. (One of ten used to get "Agreement with this Creation key
already exists": it found no record, waited for the reference lock, then met the winner's row.)"""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from agreements import roles, services
from agreements.models import Agreement, Organisation, ReferenceSequence
from audit.models import AuditEvent
from tests.conftest import ON_POSTGRES
from tests.factories import OrganisationFactory, UserFactory
from tests.staff.test_agreements import _sub_licence_data

SUBMITS = 10

pytestmark = [
    pytest.mark.skipif(not ON_POSTGRES, reason="concurrent transactions; needs DATABASE_URL=postgres://…"),
    pytest.mark.django_db(transaction=True),
]


def _all_at_once(work: Any) -> list[Any]:
    start = threading.Barrier(SUBMITS)

    def run(index: int) -> Any:
        try:
            start.wait()
            return work(index)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=SUBMITS) as pool:
        return list(pool.map(run, range(SUBMITS)))  # re-raises any thread's error


def test_ten_concurrent_submits_of_one_sub_licence_form_all_land_on_the_one_record() -> None:
    officer = UserFactory(username="officer", role=roles.IG_OFFICER)
    data = _sub_licence_data(OrganisationFactory())
    clients = []
    for _ in range(SUBMITS):
        client = Client(raise_request_exception=False)
        client.force_login(officer)
        clients.append(client)

    responses = _all_at_once(lambda index: clients[index].post(reverse("staff:sub_licence_create"), data))

    agreement = Agreement.objects.get()
    expected = reverse("staff:agreement_detail", args=[agreement.pk])
    assert [(r.status_code, r.get("Location")) for r in responses] == [(302, expected)] * SUBMITS
    assert agreement.reference.startswith("SL/") and agreement.reference.endswith("/1")
    # The losers' allocations were rolled back: the next sub-licence is number 2, and there is one history entry.
    assert ReferenceSequence.objects.get().last_number == 1
    assert AuditEvent.objects.filter(subject_id=agreement.pk, action="created").count() == 1


def test_ten_concurrent_creations_of_one_organisation_return_the_one_record() -> None:
    officer = UserFactory(username="officer", role=roles.IG_OFFICER)
    key = uuid.uuid4()
    fields = {"name": "Rutland County Council", "ods_code": "465", "kind": "local_authority"}

    made = _all_at_once(lambda index: services.organisation_create(actor=officer, fields=fields, creation_key=key).pk)

    assert made == [Organisation.objects.get().pk] * SUBMITS
