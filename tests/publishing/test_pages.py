"""Stored public pages (publishing/pages.py): the same bytes as the views, served without session or database."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client

from agreements import roles
from publishing import pages, services
from publishing.models import Edition
from tests.factories import UserFactory
from tests.publishing.factories import (
    SEED_DAY,
    information_sharing_register,
    partner,
    publish,
    seed_sub_licence,
    shared_agreement,
    sub_licence,
)

pytestmark = pytest.mark.django_db

BASE = "/registers/sub-licences/"


def from_view(path: str) -> Any:
    """The page from its view: any session cookie sends a visitor there. A client of its own, since the session
    middleware answers an unknown session cookie by deleting it, which the test client keeps as an empty one."""
    return Client().get(path, HTTP_COOKIE="sessionid=none")


@pytest.fixture
def site() -> tuple[Edition, Edition]:
    seed_sub_licence(start_date=dt.date(2025, 4, 1))
    first = publish(on=dt.date(2025, 7, 1))
    # A reference that needs the "~" spelling in its URL, and markup that must stay escaped.
    sub_licence(reference="SL/25/2", sub_licensee=partner(name="<b>Bold</b> & Sons", ods_code="RX1"))
    sub_licence(reference="A//9")
    second = publish(on=SEED_DAY)
    shared_agreement(partners=[partner(name="Rutland County Council", ods_code="RUT")], reference="ISA-1")
    services.edition_publish(register=information_sharing_register(), on=SEED_DAY, trigger="command")
    assert pages.public_pages_refresh() is not None
    return first, second


def _stored(response: Any) -> bool:
    """Served by the middleware: it alone sends an ETag on pages, and the request never reached the session."""
    return response.has_header("ETag") and not hasattr(response.wsgi_request, "session")


EXPECTED_PATHS = [
    "/",
    BASE,
    f"{BASE}editions/",
    f"{BASE}editions/2025-07-01/",
    f"{BASE}editions/2025-10-22/",
    f"{BASE}entries/SL/25/1/",
    f"{BASE}entries/SL/25/2/",
    f"{BASE}entries/A~~9/",
    f"{BASE}editions/2025-10-22/entries/SL/25/2/",
    f"{BASE}editions/2025-10-22/entries/A~~9/",
    f"{BASE}editions/2025-07-01/entries/SL/25/1/",
    "/registers/information-sharing/",
    "/registers/information-sharing/entries/ISA-1/",
]


def test_every_public_page_is_stored_and_byte_identical_to_its_view(client, site) -> None:
    stored_paths = set(pages.stored_paths())
    assert set(EXPECTED_PATHS) <= stored_paths
    for path in sorted(stored_paths):
        fast = client.get(path)
        dynamic = from_view(path)
        assert fast.status_code == dynamic.status_code == 200, path
        assert _stored(fast) and not _stored(dynamic), path
        assert fast.content == dynamic.content, path
        for header in ("Content-Type", "Cache-Control", "Content-Length", "Vary", "X-Frame-Options"):
            assert fast[header] == dynamic[header], (path, header)
        assert fast["ETag"] == f'"{hashlib.sha256(fast.content).hexdigest()}"'


def test_stored_pages_touch_neither_database_nor_session(client, site, django_assert_num_queries) -> None:
    client.get(BASE)  # the process loads the generation once
    with django_assert_num_queries(0):
        response = client.get(BASE)
        entry = client.get(f"{BASE}entries/SL/25/2/")
    assert _stored(response) and _stored(entry)
    assert "Set-Cookie" not in response.headers and not response.cookies
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; Sons" in response.content.decode()
    assert response["Cache-Control"] == "public, max-age=300"


def test_strong_etags_answer_304_and_head_has_no_body(client, site) -> None:
    response = client.get(BASE)
    etag = response["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    not_modified = client.get(BASE, HTTP_IF_NONE_MATCH=f'"other", {etag}')
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert not_modified["ETag"] == etag and not_modified["Cache-Control"] == "public, max-age=300"
    assert client.get(BASE, HTTP_IF_NONE_MATCH='"other"').status_code == 200
    head = client.head(BASE)
    assert head.status_code == 200 and head.content == b"" and head["Content-Length"] == str(len(response.content))


def test_staff_signed_in_see_the_dynamic_page_with_their_name(client, site) -> None:
    client.force_login(UserFactory(username="officer-jo"))
    response = client.get(BASE)
    assert response.status_code == 200 and not _stored(response)
    assert "officer-jo" in response.content.decode()


def test_unknown_paths_and_other_methods_go_to_the_views(client, site) -> None:
    assert client.get(f"{BASE}entries/SL/25/404/").status_code == 404
    assert client.get(f"{BASE}editions/2024-01-01/").status_code == 404
    assert client.post(BASE).status_code == 405
    # The "~" spelling of a plain reference still redirects to the one canonical address.
    assert client.get(f"{BASE}entries/SL~25~1/").status_code == 301


def test_a_withdrawal_replaces_the_pages_at_commit(client, site, django_capture_on_commit_callbacks) -> None:
    _first, second = site
    approver = UserFactory(role=roles.IG_APPROVER)
    with django_capture_on_commit_callbacks(execute=True):
        services.edition_withdraw(actor=approver, edition=second, reason="Wrong partner listed")
    # Gone at once, and stored again for the new state by the task the commit queued (eager in tests).
    for path in (f"{BASE}editions/2025-10-22/", f"{BASE}entries/SL/25/2/", f"{BASE}editions/2025-10-22/entries/A~~9/"):
        assert client.get(path).status_code == 404, path
    current = client.get(BASE)
    assert _stored(current)
    assert "Last updated 1 July 2025" in current.content.decode()
    assert current.content == from_view(BASE).content
    # The first edition is current again: its entries are back at the current addresses.
    assert _stored(client.get(f"{BASE}entries/SL/25/1/"))
    assert f"{BASE}editions/2025-10-22/" not in pages.stored_paths()


def test_a_new_edition_replaces_the_pages_at_commit(client, site, django_capture_on_commit_callbacks) -> None:
    sub_licence(reference="SL/25/3")
    with django_capture_on_commit_callbacks(execute=True):
        publish(on=dt.date(2025, 12, 1))
    current = client.get(BASE)
    assert _stored(current) and "Last updated 1 December 2025" in current.content.decode()
    assert _stored(client.get(f"{BASE}entries/SL/25/3/"))
    archived = client.get(f"{BASE}editions/2025-10-22/")
    assert _stored(archived) and "This is an earlier edition" in archived.content.decode()
    for path in pages.stored_paths():
        assert client.get(path).content == from_view(path).content, path


def test_a_refresh_overtaken_by_a_withdrawal_never_switches_to_stale_pages(client, site, monkeypatch) -> None:
    _first, second = site
    real_render = pages.render_page
    rendered: list[str] = []

    def render_while_withdrawn(path: str) -> Any:
        if not rendered:
            # The withdrawal commits while the refresh renders from the state it read before.
            services.edition_withdraw(actor=UserFactory(role=roles.IG_APPROVER), edition=second, reason="Wrong row")
        rendered.append(path)
        return real_render(path)

    pages.public_pages_invalidate()
    monkeypatch.setattr(pages, "render_page", render_while_withdrawn)
    assert pages.public_pages_refresh() is None
    assert client.get(f"{BASE}editions/2025-10-22/").status_code == 404
    assert not _stored(client.get(BASE))
    assert "Last updated 1 July 2025" in client.get(BASE).content.decode()


def test_a_torn_pointer_or_page_falls_back_to_the_view(client, site) -> None:
    page = client.get(BASE)
    sha256 = page["ETag"].strip('"')
    blob = f"public-pages/blobs/{sha256}.html"
    default_storage.delete(blob)
    default_storage.save(blob, ContentFile(page.content[:100]))
    fresh = Client()
    response = fresh.get(BASE)
    assert response.status_code == 200 and not _stored(response) and response.content == page.content

    default_storage.delete(pages.POINTER)
    default_storage.save(pages.POINTER, ContentFile(b"0123456789abcdef"))
    response = fresh.get("/")
    assert response.status_code == 200 and not _stored(response)


def test_pages_of_another_version_are_not_served(client, site, monkeypatch) -> None:
    assert _stored(client.get(BASE))
    monkeypatch.setattr(pages, "site_version", lambda: "a-later-deployment")
    fresh = Client()
    assert not _stored(fresh.get(BASE))
    # The deployment's refresh (make run, the compose migrate step) renders them again for the new version.
    assert pages.public_pages_refresh() is not None
    assert _stored(fresh.get(BASE))


def test_a_refresh_reuses_what_did_not_change(site, monkeypatch) -> None:
    assert pages.public_pages_refresh() == {"pages": 0, "entries": 0}
    pages.public_pages_invalidate()
    # Only the home page, the archives and the unpublished register's page are rendered again; no entry page.
    counts = pages.public_pages_refresh()
    assert counts is not None and counts["entries"] == 0
    assert counts["pages"] <= 3


def test_serving_can_be_switched_off(client, site, settings) -> None:
    settings.PUBLIC_PAGES_SERVE = False
    assert not _stored(client.get(BASE))
