"""A real worker on Redis, killed with SIGKILL in the middle of a publication: the edition is published once, by
the next worker, re-using the chunks already rendered; nothing is public meanwhile (README, "Reliability").

The workers are separate processes (a kill must take the process and its children), so they need the test
database on PostgreSQL: `.ci/run`'s second pass."""

from __future__ import annotations

import datetime as dt
import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone
from pypdf import PdfReader

from agreements import roles, rules
from publishing import pipeline, services
from publishing.models import Edition
from register.celery import app
from tests.conftest import ON_POSTGRES
from tests.factories import UserFactory
from tests.publishing import pdf_structure
from tests.publishing.factories import partner, rows_of, sub_licence, sub_licence_register

ROOT = Path(__file__).resolve().parents[2]
ROWS, CHUNK_ROWS = 16, 2

pytestmark = [
    pytest.mark.broker,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not ON_POSTGRES, reason="the workers are other processes: the test database must be PostgreSQL"),
]


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


class Workers:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.running: list[subprocess.Popen[bytes]] = []
        self.env = {
            **os.environ,
            "DEBUG": "true",
            "DATABASE_URL": _database_url(),
            "MEDIA_ROOT": str(settings.MEDIA_ROOT),
            "PUBLISH_CHUNK_ROWS": str(CHUNK_ROWS),
            # Short, so that the test waits seconds rather than the production minutes.
            "PUBLISH_LEASE_SECONDS": "4",
            "PUBLISH_SWEEP_SECONDS": "2",
            "HOLD_FILE": str(self.held),
        }

    @property
    def held(self) -> Path:
        """The key of the chunk that the first worker holds until it is killed (tests.publishing.hold_one_chunk)."""
        return self.tmp_path / "held-chunk"

    def start(self, name: str, *, beat: bool = False, hold: bool = False) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "celery", "-A", "register", "worker", "-P", "prefork", "-c", "2"]
        command += ["-n", f"{name}-{os.getpid()}@%h", "--without-gossip", "--without-mingle", "--loglevel=INFO"]
        if beat:
            command += ["-B", "-s", str(self.tmp_path / "beat-schedule")]
        if hold:
            command += ["--include", "tests.publishing.hold_one_chunk"]
        log = (self.tmp_path / f"{name}.log").open("wb")
        worker = subprocess.Popen(  # noqa: S603 - our own command
            command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.running.append(worker)
        return worker

    def kill(self, worker: subprocess.Popen[bytes]) -> None:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)

    def stop_all(self) -> None:
        for worker in self.running:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
                try:
                    worker.wait(30)
                except subprocess.TimeoutExpired:
                    os.killpg(worker.pid, signal.SIGKILL)
                    worker.wait(10)


def _empty_the_broker() -> None:
    # Unacknowledged messages (a killed worker's) would come back in five minutes, to whatever runs then; queued
    # ones, sent by an earlier test's work after its worker stopped, would run against this test's database.
    redis.Redis.from_url(app.conf.broker_url).delete("unacked", "unacked_index", "unacked_mutex")
    app.control.purge()


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[Workers]:
    _empty_the_broker()
    running = Workers(tmp_path)
    try:
        yield running
    finally:
        running.stop_all()
        _empty_the_broker()


def _wait(predicate, *, seconds: float, what: str, state=lambda: "") -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out after {seconds} s waiting for {what}\n{state()}")
        time.sleep(0.05)


def _pieces() -> dict[str, float]:
    folder = Path(settings.MEDIA_ROOT) / "publishing" / "pieces"
    return {str(path): path.stat().st_mtime for path in folder.rglob("*.done")} if folder.exists() else {}


def test_a_worker_killed_mid_publication_costs_only_its_chunk_and_the_edition_is_published_once(workers) -> None:
    today = timezone.localdate()
    for _ in range(ROWS):
        sub_licence(start_date=dt.date(2024, 4, 1), sub_licensee=partner(dspt_assessment_year=rules.dspt_year(today)))
    approver = UserFactory(username="approver", role=roles.IG_APPROVER)

    # A publish request while an edition renders returns that edition and sends nothing: there must be none.
    assert not Edition.objects.exists(), list(Edition.objects.values("pk", "status", "trigger", "attempt"))
    first = workers.start("first", hold=True)
    edition = services.edition_request(actor=approver, register=sub_licence_register())

    def rendering_started() -> bool:
        edition.refresh_from_db()
        assert edition.status == Edition.Status.RENDERING, (edition.status, edition.error)
        # Two parts done, and one chunk held in the middle of its render: the kill takes that chunk.
        return edition.parts_done >= 2 and workers.held.exists() and workers.held.read_text() != ""

    def state() -> str:
        # What to look at when it times out: the edition, the queue, and what the worker said.
        queued = redis.Redis.from_url(app.conf.broker_url).llen(app.conf.task_default_queue)
        log = (workers.tmp_path / "first.log").read_text(errors="replace")[-3000:]
        fields = ("status", "attempt", "parts_done", "parts_total", "trigger", "error")
        return f"edition: {[getattr(edition, name) for name in fields]}; queued: {queued}\nfirst.log:\n{log}"

    _wait(rendering_started, seconds=120, what="the first worker to render two parts and hold a chunk", state=state)
    workers.kill(first)
    edition.refresh_from_db()
    assert edition.status == Edition.Status.RENDERING and edition.attempt == 1
    assert not edition.files.exists()
    done_before = _pieces()
    assert done_before, "no piece was rendered before the kill"
    lost = workers.held.read_text()
    assert not pipeline.piece_ready(lost), "the held chunk was rendered before the kill"

    # A worker is available again (with beat, as the README runs them): the edition completes, once.
    started = time.monotonic()
    workers.start("second", beat=True)

    def published() -> bool:
        edition.refresh_from_db()
        return edition.status != Edition.Status.RENDERING

    _wait(published, seconds=240, what="the second worker to publish the edition")
    recovered_in = time.monotonic() - started
    assert edition.status == Edition.Status.PUBLISHED, edition.error
    # The chunk killed was never acknowledged: the sweep started the edition again, which rendered it.
    assert edition.attempt >= 2 and pipeline.piece_ready(lost)
    assert recovered_in < 300
    assert Edition.objects.count() == 1 and edition.files.count() == 4
    # The pieces rendered before the kill were kept, not rendered again.
    after = _pieces()
    assert {path: after[path] for path in done_before} == done_before
    # The front matter and the chunks, then the furniture: the running header and footer, and the page numbers.
    assert len(after) == ROWS // CHUNK_ROWS + 1 + 2

    data = edition.files.get(format="pdf").file.read()
    assert pdf_structure.check(data).problems == []
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    for row in rows_of(edition):
        assert row["reference"] in text
