"""Public pages rendered once and served as stored files.

Published editions never change, so their pages (the home page, each register's current page and archive, each
edition's page, each entry page) are rendered when an edition becomes current or is withdrawn, by the public views
themselves, and kept in the default storage, never on a worker's own disk, so that an S3-compatible store serves a
cluster as var/media/ serves `make run`. PublicPagesMiddleware serves them before any session or database work.

Storage layout, under public-pages/:
  blobs/<sha256>.html          one page's bytes, named by their SHA-256: write once, never changed
  sets/<sha256>.json           {url tail: page} for the entry pages of one edition, content-addressed likewise
  manifests/<sha256>.json      one generation: every page's path, the entry sets, the state it was rendered from
  CURRENT                      the pointer: "<manifest sha256>\\n", the only name that is ever replaced
  LATEST                       the same, kept while CURRENT is removed, for the next refresh to reuse its pieces

A change is atomic for a reader: the new pages, sets and manifest are written under new names first, and only then
is the pointer switched. The moment a publication or withdrawal commits, the pointer is removed (public_pages_changed),
so that until the new generation is written every page comes from the dynamic views, which read the database and
are always right; a reader never sees a withdrawn edition's stored page after the withdrawal, nor a mix of
generations. A torn or missing pointer, manifest or page (a crash half-way, a store without atomic writes) is
detected by its length and SHA-256 and answered by the dynamic view in the same way.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseNotModified
from django.template.loader import render_to_string
from django.urls import resolve, reverse

from publishing.converters import reference_to_url
from publishing.models import Edition, Register

logger = logging.getLogger(__name__)

ROOT = "public-pages"
POINTER = f"{ROOT}/CURRENT"
# The last generation written, kept when the pointer is removed, so that the next refresh reuses its pieces.
LATEST = f"{ROOT}/LATEST"
# Bump when the way pages are stored or served changes, so that a deployment never serves another one's layout.
FORMAT = "1"
# The response headers a stored page keeps from the view that rendered it; the middleware adds the rest.
KEPT_HEADERS = ("Content-Type", "Cache-Control")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_ENTRY_PATH = re.compile(r"^(/registers/[^/]+/(?:editions/[^/]+/)?entries/)(.+)$")


# ---------------------------------------------------------------------------------------------------------
# What a stored page depends on besides the database: the templates, the view code and the static files' names.


def _sources() -> list[Path]:
    """The files whose change changes what the public views render."""
    import publishing.selectors
    import publishing.views
    import register.context_processors

    files: list[Path] = []
    for directory in cast("list[Path]", settings.TEMPLATES[0]["DIRS"]):
        files.extend(path for path in Path(directory).rglob("*.html") if path.is_file())
    for module in (publishing.views, publishing.selectors, register.context_processors):
        if module.__file__:
            files.append(Path(module.__file__))
    return sorted(files)


def _stamp() -> tuple[tuple[str, int, int], ...]:
    """A cheap fingerprint of the sources (names, sizes, modification times), to notice an edit in development."""
    stamp = []
    for path in _sources():
        info = path.stat()
        stamp.append((str(path), info.st_size, info.st_mtime_ns))
    return tuple(stamp)


_version_cache: dict[tuple[tuple[str, int, int], ...], str] = {}
_version_lock = threading.Lock()


def site_version() -> str:
    """What the stored pages of this deployment are rendered with: templates, view code, static file names and the
    portal's branding. Pages rendered by another version are never served: they would link to stale assets."""
    stamp = _stamp()
    with _version_lock:
        cached = _version_cache.get(stamp)
        if cached:
            return cached
    digest = hashlib.sha256(FORMAT.encode())
    for name, _size, _mtime in stamp:
        digest.update(name.rsplit("/", 1)[-1].encode())
        digest.update(Path(name).read_bytes())
    # base.html names the static files and the branding; rendering it captures both (hashed names in production).
    digest.update(render_to_string("base.html", request=_anonymous_request("/")).encode())
    version = digest.hexdigest()
    with _version_lock:
        _version_cache.clear()
        _version_cache[stamp] = version
    return version


# ---------------------------------------------------------------------------------------------------------
# Rendering: through the public views themselves, as an anonymous visitor sees them, so the bytes are the same.


@dataclass(frozen=True)
class StoredPage:
    sha256: str
    size: int
    headers: dict[str, str]

    def as_json(self) -> list[Any]:
        return [self.sha256, self.size, self.headers]

    @classmethod
    def from_json(cls, value: list[Any]) -> StoredPage:
        return cls(sha256=value[0], size=value[1], headers=dict(value[2]))


def _blob_name(sha256: str) -> str:
    return f"{ROOT}/blobs/{sha256}.html"


def _write_once(name: str, content: bytes) -> None:
    """Names are content hashes: a name that exists already holds these bytes."""
    if not default_storage.exists(name):
        saved = default_storage.save(name, ContentFile(content))
        if saved != name:
            # Another process wrote the same bytes at the same moment; ours is a spare copy.
            default_storage.delete(saved)


def _anonymous_request(path: str) -> HttpRequest:
    request = HttpRequest()
    request.method = "GET"
    request.path = request.path_info = path
    request.META = {"SERVER_NAME": "localhost", "SERVER_PORT": "80", "REQUEST_METHOD": "GET", "PATH_INFO": path}
    request.user = AnonymousUser()
    return request


def _resolved_request(path: str) -> HttpRequest:
    request = _anonymous_request(path)
    request.resolver_match = resolve(path)
    return request


def render_page(path: str) -> StoredPage | None:
    """Render one public path as an anonymous visitor gets it, and store it. None if it is not a 200 page."""
    request = _resolved_request(path)
    match = request.resolver_match
    assert match is not None
    return _stored(match.func(request, *match.args, **match.kwargs))


def _stored(response: HttpResponseBase) -> StoredPage | None:
    if response.status_code != 200 or response.streaming:
        return None
    content = cast(HttpResponse, response).content
    sha256 = hashlib.sha256(content).hexdigest()
    _write_once(_blob_name(sha256), content)
    headers = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
    return StoredPage(sha256=sha256, size=len(content), headers=headers)


def _store_json(kind: str, value: Any) -> str:
    content = json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
    sha256 = hashlib.sha256(content).hexdigest()
    _write_once(f"{ROOT}/{kind}/{sha256}.json", content)
    return sha256


def _load_json(kind: str, sha256: str) -> Any:
    with default_storage.open(f"{ROOT}/{kind}/{sha256}.json", "rb") as handle:
        content = handle.read()
    if hashlib.sha256(content).hexdigest() != sha256:
        raise ValueError(f"{kind}/{sha256} is incomplete")
    return json.loads(content)


# ---------------------------------------------------------------------------------------------------------
# Generations: what the public sees, and the switch from one to the next.


def _published(register: Register) -> list[Edition]:
    return list(
        Edition.objects.filter(register=register, status=Edition.Status.PUBLISHED)
        .defer("columns", "metadata")
        .order_by("-published_at", "-pk")
    )


def _state() -> tuple[str, list[tuple[Register, list[Edition]]]]:
    """The published state the pages depend on, and its fingerprint."""
    registers = [(register, _published(register)) for register in Register.objects.order_by("pk")]
    described = [
        [register.pk, register.slug, register.title, [[e.pk, e.slug, str(e.published_at)] for e in editions]]
        for register, editions in registers
    ]
    return hashlib.sha256(json.dumps(described).encode()).hexdigest(), registers


def _read_pointer(name: str = POINTER) -> str | None:
    try:
        with default_storage.open(name, "rb") as handle:
            content = handle.read(100).decode("ascii", "replace")
    except (FileNotFoundError, OSError):
        return None
    # A pointer caught half-written lacks its newline: treat it as no pointer at all.
    if len(content) != 65 or not content.endswith("\n") or not _HEX64.fullmatch(content[:64]):
        return None
    return content[:64]


def _replace(name: str, content: bytes) -> None:
    default_storage.delete(name)
    default_storage.save(name, ContentFile(content))


def _lock_registers() -> None:
    """Serialise pointer writes: on the register rows (PostgreSQL), or the write lock that SQLite's IMMEDIATE
    transactions take when they begin."""
    list(Register.objects.select_for_update().order_by("pk").values_list("pk", flat=True))


def public_pages_invalidate() -> None:
    """Stop serving stored pages at once: every public page comes from its view until the next generation."""
    with transaction.atomic():
        # Waits for a refresh that is switching the pointer, so that its pointer cannot outlive this removal.
        _lock_registers()
        default_storage.delete(POINTER)


def public_pages_changed() -> None:
    """Call inside the transaction that publishes or withdraws an edition. When it commits, stored pages stop being
    served at once, and a task renders the new generation."""

    def on_commit() -> None:
        public_pages_invalidate()
        if settings.PUBLIC_PAGES_SERVE:
            from publishing import tasks

            tasks.refresh_public_pages.delay()

    # Robust: the publication has committed whatever happens here. If storing the pages fails (it is logged), every
    # public page comes from its view until the next refresh, which is slower but right.
    transaction.on_commit(on_commit, robust=True)


def _commit(manifest: dict[str, Any], fingerprint: str) -> bool:
    """Switch the pointer to a manifest rendered from `fingerprint`, unless the published state moved on since.

    Refreshes serialise here on the register rows (on SQLite, on the write lock that an IMMEDIATE transaction takes),
    so that an older refresh can never overwrite the pointer of a newer one: each checks the state under the lock.
    """
    sha256 = _store_json("manifests", manifest)
    with transaction.atomic():
        _lock_registers()
        current_fingerprint, _ = _state()
        if current_fingerprint != fingerprint:
            return False
        _replace(LATEST, f"{sha256}\n".encode())
        _replace(POINTER, f"{sha256}\n".encode())
    return True


@dataclass
class _Refresh:
    version: str
    fingerprint: str
    previous_units: dict[str, Any]
    units: dict[str, Any] = field(default_factory=dict)
    rendered: int = 0

    def __post_init__(self) -> None:
        self.units.update(self.previous_units)

    def unit(self, key: str, build: Callable[[], Any]) -> Any:
        """A piece of the site, rendered once for its inputs (named by `key`) and reused by later generations."""
        if key not in self.units:
            self.units[key] = build()
        return self.units[key]

    def page(self, path: str) -> list[Any] | None:
        self.rendered += 1
        page = render_page(path)
        return page.as_json() if page else None

    def store(self, path: str, response: HttpResponse) -> list[Any] | None:
        """A page that the caller rendered (with data it read once for many pages)."""
        self.rendered += 1
        page = _stored(response)
        return page.as_json() if page else None


def _entry_set(refresh: _Refresh, edition: Edition, *, current: bool) -> str:
    """Render every entry page of an edition (as current or as archived) and store their index. The edition is
    read once, its rows' references a batch at a time, and each page reads its own row."""
    from publishing.views import entry_response

    loaded = Edition.objects.select_related("register").get(pk=edition.pk)
    register_slug = loaded.register.slug
    pages: dict[str, Any] = {}
    for reference in loaded.stored_rows().references():
        if current:
            path = reverse("publishing:entry", args=[register_slug, reference])
        else:
            path = reverse("publishing:edition_entry", args=[register_slug, loaded.slug, reference])
        page = refresh.store(path, entry_response(_resolved_request(path), loaded, reference, current=current))
        if page:
            pages[f"{reference_to_url(reference)}/"] = page
    return _store_json("sets", pages)


def public_pages_refresh() -> dict[str, int] | None:
    """Render the public pages of the published state and switch to them. Unchanged pieces are reused.

    Three generations are written in turn, so that the most read pages are served from storage soonest: the
    registers' and editions' pages, then the current editions' entries, then the archived editions' entries.
    Returns counts, or None when the state changed meanwhile (the change's own refresh takes over).
    """
    version = site_version()
    fingerprint, registers = _state()
    previous: dict[str, Any] = {}
    latest = _read_pointer(LATEST)
    if latest:
        try:
            previous = _load_json("manifests", latest)
        except (OSError, ValueError):
            previous = {}
    unchanged = previous.get("version") == version and previous.get("fingerprint") == fingerprint
    if unchanged and previous.get("complete") and _read_pointer() == latest:
        return {"pages": 0, "entries": 0}
    published = {str(edition.pk) for _, editions in registers for edition in editions}
    refresh = _Refresh(
        version=version,
        fingerprint=fingerprint,
        # Pieces of editions still published, rendered by this version: an edition that becomes current again
        # after a withdrawal finds its pages of before.
        previous_units={
            key: value
            for key, value in previous.get("units", {}).items()
            if previous.get("version") == version and key.split(":")[1] in published
        },
    )
    pages: dict[str, Any] = {}
    entries: dict[str, str] = {}

    def manifest(*, complete: bool) -> dict[str, Any]:
        return {
            "version": version,
            "fingerprint": fingerprint,
            "complete": complete,
            "pages": pages,
            "entries": entries,
            "units": refresh.units,
        }

    home = refresh.page(reverse("publishing:home"))
    if home:
        pages[reverse("publishing:home")] = home
    for register, editions in registers:
        register_path = reverse("publishing:register", args=[register.slug])
        archive = refresh.page(reverse("publishing:archive", args=[register.slug]))
        if archive:
            pages[reverse("publishing:archive", args=[register.slug])] = archive
        if not editions:
            page = refresh.page(register_path)
            if page:
                pages[register_path] = page
        for index, edition in enumerate(editions):
            current = index == 0
            previous_pk = editions[index + 1].pk if index + 1 < len(editions) else 0
            path = reverse("publishing:edition", args=[register.slug, edition.slug])
            page = refresh.unit(
                f"edition:{edition.pk}:{int(current)}:{previous_pk}", functools.partial(refresh.page, path)
            )
            if page:
                pages[path] = page
                if current:
                    # The current register page and the current edition's page are rendered alike (current=True).
                    pages[register_path] = page
    pages_rendered = refresh.rendered
    if not _commit(manifest(complete=False), fingerprint):
        return None

    for current in (True, False):
        for register, editions in registers:
            for index, edition in enumerate(editions):
                if (index == 0) != current:
                    continue
                entry_set = refresh.unit(
                    f"entries:{edition.pk}:{int(current)}",
                    functools.partial(_entry_set, refresh, edition, current=current),
                )
                entries[reverse("publishing:edition", args=[register.slug, edition.slug]) + "entries/"] = entry_set
                if current:
                    entries[reverse("publishing:register", args=[register.slug]) + "entries/"] = entry_set
        if not _commit(manifest(complete=not current), fingerprint):
            return None
    return {"pages": pages_rendered, "entries": refresh.rendered - pages_rendered}


# ---------------------------------------------------------------------------------------------------------
# Serving


class _Bytes:
    """Page bytes by SHA-256, bounded in total size. Pages never change, so what is cached is never stale."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.items: OrderedDict[str, bytes] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, sha256: str, size: int) -> bytes | None:
        with self.lock:
            content = self.items.get(sha256)
            if content is not None:
                self.items.move_to_end(sha256)
                return content
        try:
            with default_storage.open(_blob_name(sha256), "rb") as handle:
                content = handle.read(size + 1)
        except OSError:
            return None
        if len(content) != size or hashlib.sha256(content).hexdigest() != sha256:
            return None
        if size <= self.max_bytes // 4:
            with self.lock:
                if sha256 not in self.items:
                    self.items[sha256] = content
                    self.size += size
                while self.size > self.max_bytes:
                    _, dropped = self.items.popitem(last=False)
                    self.size -= len(dropped)
        return content


@dataclass
class _Generation:
    manifest_sha256: str
    pages: dict[str, StoredPage]
    entry_sets: dict[str, str]
    loaded_sets: dict[str, dict[str, StoredPage]] = field(default_factory=dict)


class PublicPages:
    """What one process knows of the stored pages: the generation it serves, re-read at most every few seconds."""

    def __init__(self, *, recheck_seconds: float, cache_bytes: int) -> None:
        self.recheck_seconds = recheck_seconds
        self.blobs = _Bytes(cache_bytes)
        self.generation: _Generation | None = None
        self.checked_at = float("-inf")
        self.lock = threading.Lock()

    def _generation(self) -> _Generation | None:
        now = time.monotonic()
        if now - self.checked_at < self.recheck_seconds:
            return self.generation
        with self.lock:
            self.checked_at = now
            pointer = _read_pointer()
            if pointer is None:
                self.generation = None
            elif self.generation is None or self.generation.manifest_sha256 != pointer:
                self.generation = self._load(pointer)
            return self.generation

    def _load(self, pointer: str) -> _Generation | None:
        try:
            manifest = _load_json("manifests", pointer)
        except (OSError, ValueError):
            return None
        if manifest.get("version") != site_version():
            return None
        return _Generation(
            manifest_sha256=pointer,
            pages={path: StoredPage.from_json(value) for path, value in manifest["pages"].items()},
            entry_sets=manifest["entries"],
        )

    def find(self, path: str) -> StoredPage | None:
        generation = self._generation()
        if generation is None:
            return None
        page = generation.pages.get(path)
        if page is not None:
            return page
        match = _ENTRY_PATH.match(path)
        if match is None:
            return None
        prefix, tail = match.groups()
        set_sha256 = generation.entry_sets.get(prefix)
        if set_sha256 is None:
            return None
        entry_set = generation.loaded_sets.get(set_sha256)
        if entry_set is None:
            try:
                raw = _load_json("sets", set_sha256)
            except (OSError, ValueError):
                return None
            entry_set = {key: StoredPage.from_json(value) for key, value in raw.items()}
            generation.loaded_sets[set_sha256] = entry_set
        return entry_set.get(tail)

    def content(self, page: StoredPage) -> bytes | None:
        return self.blobs.get(page.sha256, page.size)


def _etag_matches(header: str, etag: str) -> bool:
    return header.strip() == "*" or etag in [tag.strip().removeprefix("W/") for tag in header.split(",")]


class PublicPagesMiddleware:
    """Serves the stored public pages to visitors without a session, before any session or database work.

    Placed before SessionMiddleware. A visitor with a session or pending messages (a signed-in member of staff sees
    their name in the header) gets the dynamic page, as does any path or method without a stored page.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.pages = PublicPages(
            recheck_seconds=settings.PUBLIC_PAGES_RECHECK_SECONDS,
            cache_bytes=settings.PUBLIC_PAGES_CACHE_MB * 1024 * 1024,
        )
        self.cookies = (settings.SESSION_COOKIE_NAME, "messages")

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self._stored(request) if settings.PUBLIC_PAGES_SERVE else None
        return response if response is not None else self.get_response(request)

    def _stored(self, request: HttpRequest) -> HttpResponseBase | None:
        if request.method not in ("GET", "HEAD") or any(name in request.COOKIES for name in self.cookies):
            return None
        path = request.path_info
        if path != "/" and not path.startswith("/registers/"):
            return None
        page = self.pages.find(path)
        if page is None:
            return None
        etag = f'"{page.sha256}"'
        response: HttpResponseBase
        if _etag_matches(request.headers.get("If-None-Match", ""), etag):
            response = HttpResponseNotModified()
            if "Cache-Control" in page.headers:
                response["Cache-Control"] = page.headers["Cache-Control"]
        else:
            content = self.pages.content(page)
            if content is None:
                return None
            response = HttpResponse(b"" if request.method == "HEAD" else content)
            response["Content-Length"] = str(page.size)
            for name, value in page.headers.items():
                response[name] = value
        response["ETag"] = etag
        # What the middleware after this one would have added to the dynamic page.
        response["Vary"] = "Cookie"
        response["X-Frame-Options"] = settings.X_FRAME_OPTIONS
        return response


def stored_paths() -> Iterable[str]:
    """Every path the current generation serves from storage (for tests and the command's report)."""
    pointer = _read_pointer()
    if pointer is None:
        return []
    manifest = _load_json("manifests", pointer)
    paths = list(manifest["pages"])
    for prefix, set_sha256 in manifest["entries"].items():
        paths.extend(prefix + tail for tail in _load_json("sets", set_sha256))
    return paths
