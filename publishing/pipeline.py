"""The work of publishing an edition, on storage: no database, no Celery.

An edition's files are made of parts, each a job that one process does in bounded memory:
- the PDF's pieces (publishing.pdf: the front matter, then a chunk of rows each), content-addressed: a piece is
  stored under the hash of what it shows and of the template version, so a piece that did not change since any
  earlier edition or attempt is not rendered again. The same job builds the piece's segment for its place in the
  document (its slot): the piece's objects, numbered and packed as the PDF will hold them, which depend on the
  piece and its slot only, and are stored beside it under its key and slot;
- the text formats (HTML fragment, CSV, JSON), each streamed to a file a chunk of rows at a time;
- once the pieces are rendered and their pages counted, the furniture stamped on every page (the running header
  and footer, then the page numbers in parallel batches), content-addressed likewise;
- then one join: the segments' bytes copied into the edition's PDF, with the furniture and what depends on the
  whole document.

Jobs hand each other storage keys (Django's storage API), never local paths, so that each can run on any worker.
publishing.tasks runs the jobs as a Celery chord on every worker; without a broker, run_local runs them in a
process pool here. publishing.services keeps the edition's state (lease, progress, publication) in the database.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import io
import json
import logging
import multiprocessing
import multiprocessing.forkserver
import os
import socket
import tempfile
from collections.abc import Callable, Generator, Iterable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
from typing import IO, Any, BinaryIO, cast

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from publishing import pdf
from publishing.render import WRITERS, EditionContent

logger = logging.getLogger(__name__)

PIECES = "publishing/pieces"
WORK = "publishing/work"
TEXT_FORMATS = tuple(WRITERS)
# Spooled output: kept in memory up to this size, then in a temporary file.
SPOOL_BYTES = 8 * 1024 * 1024


def _piece(key: str, suffix: str) -> str:
    return f"{PIECES}/{key[:2]}/{key}.{suffix}"


def work_name(edition_id: int, attempt: int, fmt: str) -> str:
    """Where an attempt's assembled files wait until the edition is published (never served from there)."""
    return f"{WORK}/{edition_id}/{attempt}/edition.{fmt}"


def _replace(name: str, content: File[Any]) -> None:
    if default_storage.exists(name):
        default_storage.delete(name)
    saved = default_storage.save(name, content)
    if saved != name:
        raise OSError(f"Storage saved {name} as {saved}: another run is writing the same file")


def _store_specs(specs: Iterable[pdf.Spec]) -> list[str]:
    keys = []
    for spec in specs:
        key = pdf.piece_key(spec)
        name = _piece(key, "json")
        if not default_storage.exists(name):
            default_storage.save(name, ContentFile(json.dumps(spec, ensure_ascii=False).encode()))
        keys.append(key)
    return keys


def prepare(content: EditionContent, *, chunk_rows: int) -> list[str]:
    """Plan the PDF's pieces and store each one's spec (its input) under its key. Returns the keys, in order."""
    return _store_specs(pdf.plan(content, chunk_rows=chunk_rows))


def prepare_furniture(content: EditionContent, keys: Sequence[str]) -> list[str]:
    """Once every piece is rendered, so that the number of pages is known: plan the furniture stamped on them
    (publishing.pdf.furniture_specs) and store its specs. Returns their keys, in order."""
    return _store_specs(pdf.furniture_specs(content, total=sum(piece_pages(key) for key in keys)))


def piece_ready(key: str) -> bool:
    return default_storage.exists(_piece(key, "done"))


def _marker(key: str) -> dict[str, Any]:
    with default_storage.open(_piece(key, "done"), "rb") as handle:
        content = handle.read().decode()
    if content.startswith("{"):
        return dict(json.loads(content))
    # A marker written before it counted pages names the PDF only.
    import pikepdf

    with default_storage.open(content, "rb") as stored, pikepdf.open(cast(BinaryIO, stored)) as document:
        return {"name": content, "pages": len(document.pages)}


def piece_pages(key: str) -> int:
    return int(_marker(key)["pages"])


def render_piece(key: str) -> None:
    """Render one piece from its stored spec. Its .done marker, written last, names the complete PDF and counts
    its pages: a worker killed half-way through writing leaves no marker, and the piece is rendered again."""
    if piece_ready(key):
        return
    import pikepdf

    with default_storage.open(_piece(key, "json"), "rb") as handle:
        spec = json.load(handle)
    data = pdf.render_spec(spec)
    with pikepdf.open(io.BytesIO(data)) as document:
        pages = len(document.pages)
    saved = default_storage.save(_piece(key, "pdf"), ContentFile(data))
    # Which process rendered it, for whoever looks into a slow or failed publication.
    marker = json.dumps({"name": saved, "pages": pages, "by": f"{socket.gethostname()}:{os.getpid()}"}, sort_keys=True)
    default_storage.save(_piece(key, "done"), ContentFile(marker.encode()))


def _open_piece(key: str) -> IO[bytes]:
    return default_storage.open(_marker(key)["name"], "rb")


def _segment(key: str, slot: int, suffix: str) -> str:
    """A piece's segment for a slot: named by the piece's key (which covers the assembler's version), so that it
    is pruned with the piece."""
    return _piece(key, f"{slot}.{suffix}")


def segment_ready(key: str, slot: int) -> bool:
    return default_storage.exists(_segment(key, slot, "segment.json"))


def missing_segments(keys: Sequence[str]) -> list[tuple[str, int]]:
    """(key, slot) of each piece whose segment for its slot is not built: render_segment's arguments."""
    return [(key, slot) for slot, key in enumerate(keys) if not segment_ready(key, slot)]


def render_segment(key: str, slot: int) -> None:
    """Render one piece (unless it is stored), then build its segment for `slot`, which the join copies as it is.
    The segment's metadata, written last, names its bytes and marks it complete (as a piece's marker does)."""
    render_piece(key)
    if segment_ready(key, slot):
        return
    with _open_piece(key) as piece, tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        segment = pdf.build_segment(piece, slot, spool)
        spool.seek(0)
        segment["name"] = default_storage.save(_segment(key, slot, "segment"), File(spool, name="segment"))
    metadata = json.dumps(segment, sort_keys=True).encode()
    default_storage.save(_segment(key, slot, "segment.json"), ContentFile(metadata))


def _segments(keys: Sequence[str]) -> Generator[tuple[pdf.Segment, IO[bytes]], None, None]:
    """The segments of the pieces, in order, each opened as the join reaches it."""
    for slot, key in enumerate(keys):
        with default_storage.open(_segment(key, slot, "segment.json"), "rb") as handle:
            segment = json.load(handle)
        with default_storage.open(segment["name"], "rb") as data:
            yield segment, data


def write_format(content: EditionContent, fmt: str, name: str) -> None:
    """One text format, streamed a chunk of rows at a time to a spooled file, then to storage."""
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        WRITERS[fmt](content, spool)
        spool.seek(0)
        _replace(name, File(spool, name=os.path.basename(name)))


def _require(keys: Sequence[str], what: str) -> None:
    missing = [key for key in keys if not piece_ready(key)]
    if missing:
        raise FileNotFoundError(f"{len(missing)} of the edition's {len(keys)} {what} are not rendered")


def assemble_pdf(content: EditionContent, keys: Sequence[str], name: str) -> None:
    """Join the stored segments of the pieces into the edition's PDF with its stored furniture, and store it under
    `name`. Of `content`, only what the furniture and the PDF's /ID show is read: not its rows."""
    _require(keys, "PDF pieces")
    missing = missing_segments(keys)
    if missing:
        raise FileNotFoundError(f"{len(missing)} of the edition's {len(keys)} PDF segments are not built")
    furniture_keys = prepare_furniture(content, keys)
    _require(furniture_keys, "furniture renders")
    furniture = [_open_piece(key) for key in furniture_keys]
    try:
        with (
            tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool,
            contextlib.closing(_segments(keys)) as segments,
        ):
            pdf.join(
                segments,
                static=furniture[0],
                numbers=furniture[1:],
                out=spool,
                identifier=pdf.pdf_identifier(content),
            )
            spool.seek(0)
            _replace(name, File(spool, name=os.path.basename(name)))
    finally:
        for file in furniture:
            file.close()


def discard_work(edition_id: int) -> None:
    """Remove an edition's assembled files once published (or failed): pieces stay for the next edition."""
    try:
        attempts, _ = default_storage.listdir(f"{WORK}/{edition_id}")
    except FileNotFoundError:
        return
    for attempt in attempts:
        folder = f"{WORK}/{edition_id}/{attempt}"
        for filename in default_storage.listdir(folder)[1]:
            default_storage.delete(f"{folder}/{filename}")


def prune_pieces(*, keep: set[str], before: dt.datetime) -> int:
    """Delete the stored pieces (and their specs, markers and segments) that are not in `keep` and were written before
    `before`: pieces are a cache, rendered again when needed, and would otherwise grow with every edition. The age
    guard spares the pieces of a render in progress. Returns the number of pieces deleted."""
    try:
        folders, _ = default_storage.listdir(PIECES)
    except FileNotFoundError:
        return 0
    deleted: set[str] = set()
    for folder in folders:
        for filename in default_storage.listdir(f"{PIECES}/{folder}")[1]:
            key = filename.split(".", 1)[0]
            name = f"{PIECES}/{folder}/{filename}"
            if key in keep or default_storage.get_modified_time(name) >= before:
                continue
            default_storage.delete(name)
            deleted.add(key)
    return len(deleted)


Job = tuple[Callable[..., None], tuple[Any, ...]]


def _processes() -> int:
    return settings.PUBLISH_LOCAL_PROCESSES or os.cpu_count() or 1


# What a pool process must share with this one beyond the environment it starts from: where files are stored
# (the tests change it at run time). The jobs read nothing else from the settings.
_SHARED_SETTINGS = ("MEDIA_ROOT", "STORAGES")


def settle_worker() -> None:
    """Call once a process that renders has imported what it needs (a pool process, a Celery worker process).

    A render allocates millions of objects, so Python's collector runs often, and each full collection walks every
    object the process holds: Django's, WeasyPrint's and pikepdf's too, which live as long as the process and are
    never garbage. gc.freeze() moves them out of the collector's sight: measured on 250-row chunks, a chunk costs
    about 15% less CPU time (0.82 s instead of 0.97 s). Nothing is kept that would not have been: they would be
    collected only when the process ends. What a render allocates is collected as before. Garbage is collected
    first, so that none of it is frozen with them."""
    gc.collect()
    gc.freeze()


def _start_pool_process(shared: dict[str, Any]) -> None:
    import django

    django.setup()
    changed = {name: value for name, value in shared.items() if getattr(settings, name, None) != value}
    if changed:
        # Through override_settings, whose signals reset the storages that have already read the old values.
        from django.test.utils import override_settings

        override_settings(**changed).enable()
    settle_worker()


def _context() -> multiprocessing.context.ForkServerContext:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["publishing.pool_start", "weasyprint", "pikepdf", "publishing.pdf"])
    return context


def start_pool_server() -> None:
    """Start the pool's fork server now, if it is not running yet. Importing Django, WeasyPrint and pikepdf takes it
    about two seconds, which it spends in the background while this process takes the edition's snapshot, instead
    of when the pool is first needed. It serves every pool this process starts, until the process ends."""
    _context()
    multiprocessing.forkserver.ensure_running()


def _pool(processes: int) -> ProcessPoolExecutor:
    """Processes started by a fork server (a small, clean process), not forked from this one: a child forked here
    would start with this process's memory, the edition's snapshot included, and count it as its own. The server
    has Django set up and WeasyPrint and pikepdf imported already (publishing.pool_start), so a child starts in a
    few milliseconds."""
    context = _context()
    shared = {name: getattr(settings, name) for name in _SHARED_SETTINGS}
    return ProcessPoolExecutor(
        max_workers=processes, mp_context=context, initializer=_start_pool_process, initargs=(shared,)
    )


def run_local(
    jobs: Sequence[Job],
    *,
    on_done: Callable[[], None],
    here: Sequence[Job] = (),
    parallel: bool = True,
    isolated: bool = False,
) -> None:
    """Run the jobs in a pool of processes on this machine (no broker: `make run`), calling on_done as each
    finishes. The jobs touch no database and hand each other storage keys, as Celery tasks would. The jobs `here`
    run in this process meanwhile: they read the database (the text formats read the edition's rows), which a pool
    process may not see (the tests' in-memory SQLite). A small edition (not `parallel`) renders here: a pool
    would cost more than it saves. `isolated` runs even a single job in a process of its own, so that the memory
    it needs is returned when it ends (the assembly of a large edition)."""
    pooled = parallel and _processes() > 1 and (len(jobs) > 1 or bool(here))
    if not jobs or not (pooled or isolated):
        for function, args in [*jobs, *here]:
            function(*args)
            on_done()
        return
    with _pool(min(_processes(), len(jobs))) as pool:
        pending = {pool.submit(function, *args) for function, args in jobs}
        try:
            for function, args in here:
                function(*args)
                on_done()
        except BaseException:
            for other in pending:
                other.cancel()
            raise
        while pending:
            done, pending = wait(pending, return_when=FIRST_EXCEPTION)
            for future in done:
                if future.exception() is not None:
                    for other in pending:
                        other.cancel()
                    future.result()
                on_done()
