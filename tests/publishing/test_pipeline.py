"""The publication pipeline without a broker: chunks in a local process pool, files through storage, pieces
re-used across editions (content-addressed), and the same bytes as an in-memory render."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from django.core.files.storage import default_storage

from publishing import pdf, pipeline, render, services
from publishing.models import Edition
from tests.publishing import pdf_structure
from tests.publishing.factories import SEED_DAY, publish, sub_licence

pytestmark = pytest.mark.django_db


@pytest.fixture
def seven_rows(settings):
    settings.PUBLISH_CHUNK_ROWS = 2
    return [sub_licence(reference=f"SL/25/{n}") for n in range(1, 8)]


def test_chunks_render_in_a_local_process_pool_and_publish_the_in_memory_bytes(
    settings, seven_rows, django_capture_on_commit_callbacks
) -> None:
    import json

    settings.PUBLISH_LOCAL_PROCESSES = 2
    with django_capture_on_commit_callbacks(execute=True):
        edition = publish()
    assert edition.status == Edition.Status.PUBLISHED, edition.error
    # Each piece's marker says which process rendered it: the front matter and four chunks of two rows in two pool
    # processes (started by a fork server, not this process); the furniture (two small renders: the running header
    # and footer, then the page numbers) here, as a pool would cost more than it saves.
    markers = [json.loads(path.read_text()) for path in (Path(settings.MEDIA_ROOT) / pipeline.PIECES).rglob("*.done")]
    by = [marker["by"].rsplit(":", 1)[1] for marker in markers]
    pieces = [pid for pid in by if pid != str(os.getpid())]
    assert len(markers) == 7 and len(pieces) == 5 and len(set(pieces)) == 2 and by.count(str(os.getpid())) == 2
    assert edition.parts_done == edition.parts_total == 5 + 3 + 1 + 2

    expected = render.render_edition(services.edition_content(edition), chunk_rows=2)
    for stored in edition.files.all():
        assert stored.file.read() == expected[stored.format].content, stored.format
        assert stored.sha256 == expected[stored.format].sha256
    data = edition.files.get(format="pdf").file.open("rb").read()
    structure = pdf_structure.check(data)
    assert structure.problems == [] and structure.tables == 1 and structure.body_rows == 7
    # The work files are gone once published; the pieces stay for the next edition.
    assert not list((Path(settings.MEDIA_ROOT) / pipeline.WORK).rglob("edition.*"))


def test_a_pool_process_keeps_the_collector_off_what_it_imported() -> None:
    """publishing.pipeline.settle_worker: a pool process freezes what it imported, which makes a chunk cheaper."""
    import gc

    with pipeline._pool(1) as pool:
        assert pool.submit(gc.get_freeze_count).result(timeout=60) > 0


def test_a_publish_that_may_need_the_pool_starts_its_server_before_the_snapshot(settings, monkeypatch) -> None:
    settings.PUBLISH_CHUNK_ROWS = 2
    calls = []
    monkeypatch.setattr(pipeline, "start_pool_server", lambda: calls.append("pool server"))
    real_snapshot = services._snapshot
    monkeypatch.setattr(services, "_snapshot", lambda *args: calls.append("snapshot") or real_snapshot(*args))
    # The parent agreement and three sub-licences: no more agreements than two chunks of rows, no pool.
    for n in range(1, 4):
        sub_licence(reference=f"SL/25/{n}")
    publish()
    assert calls == ["snapshot"]
    sub_licence(reference="SL/25/4")
    publish(on=SEED_DAY + dt.timedelta(days=1))
    assert calls == ["snapshot", "pool server", "snapshot"]


def test_republishing_renders_only_the_chunk_that_changed_and_gives_a_full_render_s_bytes(
    settings, seven_rows, monkeypatch
) -> None:
    settings.PUBLISH_LOCAL_PROCESSES = 1
    first = publish()
    partner = seven_rows[4].parties.get().organisation
    partner.name = "Renamed Partner NHS Trust"
    partner.save()

    rendered = []
    real = pdf.render_spec

    def counting(spec, **options):
        rendered.append(spec)
        return real(spec, **options)

    monkeypatch.setattr(pdf, "render_spec", counting)
    second = publish()
    assert second.pk != first.pk and second.status == Edition.Status.PUBLISHED
    # Only the chunk holding the renamed partner; then the footer for the assembled pages.
    pieces = [spec for spec in rendered if spec.get("furniture") is None]
    assert [row[1] for spec in pieces for row in spec["parts"][0]["rows"]] == [
        "Renamed Partner NHS Trust",
        seven_rows[5].parties.get().organisation.name,
    ]
    monkeypatch.setattr(pdf, "render_spec", real)
    cold = pdf.render_in_process(services.edition_content(second), chunk_rows=2)
    assert second.files.get(format="pdf").file.read() == cold


def test_republishing_rebuilds_only_the_changed_chunk_s_segment_and_gives_a_cold_publish_s_bytes(
    settings, seven_rows, monkeypatch, tmp_path
) -> None:
    settings.PUBLISH_LOCAL_PROCESSES = 1
    publish()
    partner = seven_rows[4].parties.get().organisation
    partner.name = "Renamed Partner NHS Trust"
    partner.save()

    built = []
    real = pdf.build_segment

    def counting(piece, slot, out):
        built.append(slot)
        return real(piece, slot, out)

    monkeypatch.setattr(pdf, "build_segment", counting)
    second = publish()
    assert second.status == Edition.Status.PUBLISHED, second.error
    # The renamed partner's row is the fifth: the third chunk of two rows, after the front matter.
    assert built == [3]
    republished = second.files.get(format="pdf").file.read()

    # Every piece, segment and furniture render made again in an empty media folder, then joined.
    built.clear()
    settings.MEDIA_ROOT = str(tmp_path / "cold")
    content = services.edition_content(second, with_entries=False)
    keys = pipeline.prepare(content, chunk_rows=2)
    for key, slot in pipeline.missing_segments(keys):
        pipeline.render_segment(key, slot)
    for key in pipeline.prepare_furniture(content, keys):
        pipeline.render_piece(key)
    pipeline.assemble_pdf(content, keys, "cold.pdf")
    assert built == [0, 1, 2, 3, 4]
    with default_storage.open("cold.pdf", "rb") as cold:
        assert cold.read() == republished
    assert pdf_structure.check(republished).problems == []


def test_the_text_formats_stream_the_same_bytes_as_whole_documents() -> None:
    import csv
    import io
    import json

    from tests.publishing.test_render import SEED_ROW, content

    rows = [{**SEED_ROW, "reference": f"SL/25/{n}", "organisation": f"=Org {n}"} for n in range(1, 1203)]
    edition = content(rows, entries={"SL/25/7": {"reference": "SL/25/7", "parties": []}})
    data = json.loads(render.render_json(edition))
    assert data["row_count"] == 1202 and len(data["rows"]) == 1202 and data["rows"][-1]["reference"] == "SL/25/1202"
    assert data["entries"] == [
        {"reference": "SL/25/7", "parties": [], "url": "/registers/sub-licences/editions/2025-10-22/entries/SL/25/7/"}
    ]
    table = list(csv.reader(io.StringIO(render.render_csv(edition).decode("utf-8-sig"))))
    assert len(table) == 1203 and table[1202][1] == "'=Org 1202"
    html = io.BytesIO()
    render.write_html_fragment(edition, html)
    assert html.getvalue().decode().count("<tr ") == 1203


def test_the_daily_prune_keeps_the_current_edition_s_pieces_and_deletes_the_rest_once_old(settings, seven_rows) -> None:
    import datetime as dt

    from django.utils import timezone

    settings.PUBLISH_LOCAL_PROCESSES = 1
    publish()
    partner = seven_rows[4].parties.get().organisation
    partner.name = "Renamed Partner NHS Trust"
    partner.save()
    current = publish()
    folder = Path(settings.MEDIA_ROOT) / pipeline.PIECES

    def keys() -> set[str]:
        return {path.name.split(".")[0] for path in folder.rglob("*.done")}

    before = keys()
    content = services.edition_content(current)
    wanted = set(pipeline.prepare(content, chunk_rows=2))
    wanted |= set(pipeline.prepare_furniture(content, sorted(wanted)))
    # The first edition's chunk with the old name is used by no current edition: the only one to go.
    assert len(before - wanted) == 1
    # Too recent: nothing is deleted (a render may be using it).
    assert services.pieces_prune() == 0 and keys() == before
    assert services.pieces_prune(now=timezone.now() + dt.timedelta(days=8)) == 1
    assert keys() == wanted
    assert not [path for path in folder.rglob("*") if path.is_file() and path.name.split(".")[0] not in wanted]
    # The next edition still publishes, re-using every piece kept.
    assert publish().status == Edition.Status.PUBLISHED


@pytest.mark.parametrize("fmt", pipeline.TEXT_FORMATS)
def test_each_text_format_is_sent_only_the_entries_it_reads_and_writes_the_same_bytes(fmt) -> None:
    import io

    from tests.publishing.test_render import SEED_ROW, content

    rows = [{**SEED_ROW, "reference": f"SL/25/{n}"} for n in range(1, 4)]
    entries = {"SL/25/2": {"reference": "SL/25/2", "parties": [], "summary": "Two"}}
    edition = content(rows, entries=entries, link_column="reference")
    whole, trimmed = io.BytesIO(), io.BytesIO()
    render.WRITERS[fmt](edition, whole)
    sent = render.for_writer(edition, fmt)
    render.WRITERS[fmt](sent, trimmed)
    assert trimmed.getvalue() == whole.getvalue()
    # The HTML links the rows that have an entry (it needs their keys); the CSV reads none; the JSON every one.
    assert sent.entries == {"html": {"SL/25/2": {}}, "csv": {}, "json": edition.entries}[fmt]
    if fmt == "html":
        assert whole.getvalue().count(b'href="entries/') == 1
