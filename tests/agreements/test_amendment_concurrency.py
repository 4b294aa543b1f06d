"""Two people proposing an amendment to one agreement at the same moment, on a real PostgreSQL server (.ci/run's
second pass): one amendment is made, the other person is refused, and nothing is merged."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from agreements import services
from agreements.models import Amendment
from tests.conftest import ON_POSTGRES
from tests.factories import SubLicenceFactory, UserFactory

THREADS = 6


@pytest.mark.skipif(not ON_POSTGRES, reason="row locking is what is under test; needs DATABASE_URL=postgres://…")
@pytest.mark.django_db(transaction=True)
def test_concurrent_proposals_make_one_amendment_and_refuse_the_others() -> None:
    agreement = SubLicenceFactory(title="Live")
    officers = [UserFactory(username=f"officer{n}", role="IG officer") for n in range(THREADS)]
    start = threading.Barrier(THREADS)

    def propose(index: int) -> str:
        try:
            start.wait()
            services.amendment_propose(
                actor=officers[index], agreement=agreement, fields={"title": f"Title {index}"}, reason="Rename"
            )
            return "made"
        except ValidationError as error:
            assert "already has an amendment in progress" in error.messages[0]
            return "refused"
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        outcomes = list(pool.map(propose, range(THREADS)))

    assert sorted(outcomes) == ["made"] + ["refused"] * (THREADS - 1)
    amendment = Amendment.objects.get()
    assert list(amendment.contributors.all()) == [amendment.author]
    assert amendment.fields["title"] == f"Title {officers.index(amendment.author)}"
    agreement.refresh_from_db()
    assert agreement.title == "Live"
