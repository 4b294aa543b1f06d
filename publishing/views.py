"""Public pages. They read stored editions only, never live agreements."""

from __future__ import annotations

from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseNotModified,
    HttpResponsePermanentRedirect,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

from publishing import selectors
from publishing.models import Edition, EditionFile

DOWNLOAD_FORMATS = ("pdf", "csv", "json")
# The current edition can change at any publication, so pages and "latest" files are cached briefly; a
# withdrawal must leave public caches within minutes too, which rules out long-lived "immutable" files.
PAGE_MAX_AGE = 300
EDITION_FILE_MAX_AGE = 3600


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    response = render(request, "publishing/home.html", {"registers": selectors.registers_with_current()})
    patch_cache_control(response, public=True, max_age=PAGE_MAX_AGE)
    return response


def _downloads(edition: Edition, *, latest: bool) -> list[dict[str, object]]:
    files = selectors.edition_files(edition=edition)
    return [
        {
            "format": name,
            "label": EditionFile.Format(name).label,
            "size": files[name].size,
            "url": reverse("publishing:latest_file", args=[edition.register.slug, name])
            if latest
            else reverse("publishing:edition_file", args=[edition.register.slug, edition.slug, name]),
        }
        for name in DOWNLOAD_FORMATS
        if name in files
    ]


def _edition_page(request: HttpRequest, edition: Edition, *, current: bool) -> HttpResponse:
    context = {
        "register": edition.register,
        "edition": edition,
        "current": current,
        "table_html": selectors.edition_html(edition=edition),
        "changes": selectors.edition_changes(edition=edition),
        "downloads": _downloads(edition, latest=current),
    }
    response = render(request, "publishing/register.html", context)
    patch_cache_control(response, public=True, max_age=PAGE_MAX_AGE)
    return response


@require_safe
def register_current(request: HttpRequest, register: str) -> HttpResponse:
    register_obj = selectors.register_get(slug=register)
    edition = selectors.edition_current(register=register_obj)
    if edition is None:
        return render(request, "publishing/register_empty.html", {"register": register_obj})
    return _edition_page(request, edition, current=True)


@require_safe
def edition_detail(request: HttpRequest, register: str, edition: str) -> HttpResponse:
    register_obj = selectors.register_get(slug=register)
    edition_obj = selectors.edition_published_get(register=register_obj, slug=edition)
    current = selectors.edition_current(register=register_obj, summary=True)
    return _edition_page(request, edition_obj, current=bool(current and current.pk == edition_obj.pk))


@require_safe
def edition_archive(request: HttpRequest, register: str) -> HttpResponse:
    register_obj = selectors.register_get(slug=register)
    editions = list(selectors.editions_published(register=register_obj))
    response = render(
        request,
        "publishing/archive.html",
        {"register": register_obj, "editions": editions, "current": editions[0] if editions else None},
    )
    patch_cache_control(response, public=True, max_age=PAGE_MAX_AGE)
    return response


def _entry_page(
    request: HttpRequest, edition: Edition, reference: str, *, current: bool, canonical: str
) -> HttpResponse:
    if request.path != canonical:
        # The "~" spelling of a plain reference: one entry, one address.
        return HttpResponsePermanentRedirect(canonical)
    return entry_response(request, edition, reference, current=current)


def entry_response(request: HttpRequest, edition: Edition, reference: str, *, current: bool) -> HttpResponse:
    """An entry's page; the stored public pages render every entry of an edition through here."""
    entry = selectors.edition_entry(edition=edition, reference=reference)
    context = {"register": edition.register, "edition": edition, "entry": entry, "current": current}
    response = render(request, "publishing/entry.html", context)
    patch_cache_control(response, public=True, max_age=PAGE_MAX_AGE)
    return response


@require_safe
def entry_current(request: HttpRequest, register: str, reference: str) -> HttpResponse:
    """An agreement's entry in the current edition: what the current register page links to."""
    register_obj = selectors.register_get(slug=register)
    edition = selectors.edition_current(register=register_obj)
    if edition is None:
        raise Http404("This register has not been published yet")
    canonical = reverse("publishing:entry", args=[register_obj.slug, reference])
    return _entry_page(request, edition, reference, current=True, canonical=canonical)


@require_safe
def entry_in_edition(request: HttpRequest, register: str, edition: str, reference: str) -> HttpResponse:
    """An agreement's entry as one edition published it: permanent, like the edition."""
    register_obj = selectors.register_get(slug=register)
    edition_obj = selectors.edition_published_get(register=register_obj, slug=edition)
    current = selectors.edition_current(register=register_obj, summary=True)
    canonical = reverse("publishing:edition_entry", args=[register_obj.slug, edition_obj.slug, reference])
    is_current = bool(current and current.pk == edition_obj.pk)
    return _entry_page(request, edition_obj, reference, current=is_current, canonical=canonical)


def serve_edition_file(
    request: HttpRequest, edition: Edition, fmt: str, *, max_age: int, public: bool
) -> HttpResponseBase:
    """A stored file with its permanent download name, an ETag from its SHA-256 and cache headers."""
    if fmt not in DOWNLOAD_FORMATS:
        raise Http404("No such format")
    stored = selectors.edition_file(edition=edition, format=fmt)
    etag = f'"{stored.sha256}"'
    if etag in [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]:
        response: HttpResponseBase = HttpResponseNotModified()
    else:
        response = FileResponse(
            stored.file.open("rb"),
            content_type=stored.content_type,
            as_attachment=fmt != "pdf",
            filename=f"{edition.file_stem}.{fmt}",
        )
        if fmt == "pdf":
            # Open PDFs in the browser, but still save them under the edition's name.
            response["Content-Disposition"] = f'inline; filename="{edition.file_stem}.pdf"'
        response["Content-Length"] = str(stored.size)
    response["ETag"] = etag
    if public:
        patch_cache_control(response, public=True, max_age=max_age)
    else:
        patch_cache_control(response, private=True, no_store=True)
    return response


@require_safe
def latest_file(request: HttpRequest, register: str, fmt: str) -> HttpResponseBase:
    register_obj = selectors.register_get(slug=register)
    edition = selectors.edition_current(register=register_obj, summary=True)
    if edition is None:
        raise Http404("This register has not been published yet")
    return serve_edition_file(request, edition, fmt, max_age=PAGE_MAX_AGE, public=True)


@require_safe
def edition_file(request: HttpRequest, register: str, edition: str, fmt: str) -> HttpResponseBase:
    register_obj = selectors.register_get(slug=register)
    edition_obj = selectors.edition_published_get(register=register_obj, slug=edition)
    return serve_edition_file(request, edition_obj, fmt, max_age=EDITION_FILE_MAX_AGE, public=True)
