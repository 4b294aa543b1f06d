"""Sub-licence references under concurrent requests, on a real PostgreSQL server (.ci/run's second pass)."""

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from agreements import roles, services
from agreements.models import Agreement, DataLevel
from tests.conftest import ON_POSTGRES
from tests.factories import OrganisationFactory, UserFactory

THREADS = 8
PER_THREAD = 5


@pytest.mark.skipif(not ON_POSTGRES, reason="row locking is what is under test; needs DATABASE_URL=postgres://…")
@pytest.mark.django_db(transaction=True)
def test_concurrent_sub_licence_creation_never_duplicates_a_reference() -> None:
    officer = UserFactory(username="officer", role=roles.IG_OFFICER)
    partners = [OrganisationFactory() for _ in range(THREADS)]
    start = threading.Barrier(THREADS)

    def create_many(index: int) -> list[str]:
        try:
            start.wait()
            return [
                services.sub_licence_create(
                    actor=officer,
                    sub_licensee=partners[index],
                    fields={
                        "title": f"Sub-licence {index}-{n}",
                        "start_date": dt.date(2025, 10, 22),
                        "data_level": DataLevel.PSEUDONYMISED,
                        "article_6_basis": Agreement.Article6.PUBLIC_TASK,
                        "common_law_basis": Agreement.CommonLaw.NOT_CONFIDENTIAL,
                    },
                    agreed_on=dt.date(2025, 10, 22),
                ).reference
                for n in range(PER_THREAD)
            ]
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        results = list(pool.map(create_many, range(THREADS)))  # re-raises any thread's error

    references = [reference for batch in results for reference in batch]
    expected = {f"SL/25/{n}" for n in range(1, THREADS * PER_THREAD + 1)}
    assert len(references) == THREADS * PER_THREAD
    assert set(references) == expected
    assert Agreement.objects.filter(kind=Agreement.Kind.SUB_LICENCE).count() == THREADS * PER_THREAD
