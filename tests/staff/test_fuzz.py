"""A fuzz pass over every staff form: every POST URL the URL configuration has, found as tests/staff/test_urls.py
finds them, gets a fixed corpus of hostile values as an IG approver. Nothing may answer 500, and an answer that is
not a redirect (a refusal, a form shown again with errors) must leave every table as it was: no half-saved row.

Each form's own fields and starting values are read from the pages that hold it (an action such as "approve"
has its form on the agreement's page), so the hostile values reach the field checks and the services, not only
a form missing everything. A fixed corpus rather than random generation: the same run every time, and a failure
names the value. Runs on SQLite and, in .ci/run's second pass, on PostgreSQL.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import Resolver404, resolve

from agreements import roles
from tests.factories import UserFactory
from tests.staff.test_urls import STAFF_URLS, _url, demo  # noqa: F401 - demo is a fixture

pytestmark = pytest.mark.django_db

CORPUS = [
    # Digits that are not 0-9: "²".isdigit() is True and int("²") raises; int() reads "٣" as 3.
    "²",
    "٣",
    "\uff11\uff12",  # fullwidth 12
    # Spaces that are not " ", and a value of spaces only.
    "\u00a0",
    "\u2003\u3000",
    " ",
    # NUL, which PostgreSQL refuses in text.
    "\x00",
    "Leeds\x00Council",
    # Right-to-left and override marks around text.
    "\u200f\u202eLeeds\u202c",
    "x" * 10_000,
    # Huge and negative numbers, where ids and counts are expected.
    "9" * 30,
    str(2**63),
    "-1",
    "-9223372036854775809",
    "0",
    "1.5",
    "1e400",
    # Wrong types, as a client that is not the page might send them.
    "true",
    "[1, 2]",
    '{"pk": 1}',
    "SL/\u0662\u0665/\u0661",  # SL/25/1 in Arabic-Indic digits
    "2025-02-30",
    '=HYPERLINK("http://example.com")',
    "<script>alert(1)</script>",
]

# Fields sent to a URL whose form no page shows.
GUESSED_FIELDS = {"reason", "title", "party_rows", "creation_key", "page", "q", "confirm"}

# The apps whose tables a refused POST must leave alone.
DOMAIN_APPS = ("agreements", "publishing", "audit", "auth", "guardian")


class _Forms(HTMLParser):
    """The POST forms of a page: for each, its action and the values a person submitting it unchanged sends."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.page = page
        self.forms: list[tuple[str, dict[str, list[str]], set[str]]] = []
        self._form: tuple[str, dict[str, list[str]], set[str]] | None = None
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._radios: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "form":
            if a.get("method", "get").lower() == "post":
                self._form = (a.get("action") or self.page, {}, set())
                self._radios = {}
            return
        if self._form is None or not (name := a.get("name")) or name == "csrfmiddlewaretoken":
            if tag == "option" and self._select is not None:
                self._options.append((a.get("value", ""), "selected" in a))
            return
        _, values, names = self._form
        names.add(name)
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind in {"submit", "button", "image", "file"}:
                return
            if kind == "radio":
                self._radios.setdefault(name, a.get("value", "on"))
                if "checked" in a:
                    values[name] = [a.get("value", "on")]
            elif kind == "checkbox":
                if "checked" in a:
                    values.setdefault(name, []).append(a.get("value", "on"))
            else:
                values[name] = [a.get("value", "")]
        elif tag == "select":
            self._select, self._options = name, []
        elif tag == "textarea":
            self._textarea = name
            values[name] = [""]

    def handle_data(self, data: str) -> None:
        if self._form is not None and self._textarea is not None:
            self._form[1][self._textarea][0] += data

    def handle_endtag(self, tag: str) -> None:
        if self._form is None:
            return
        if tag == "textarea":
            self._textarea = None
        elif tag == "select" and self._select is not None:
            chosen = [value for value, selected in self._options if selected] or [
                value for value, _ in self._options if value
            ][:1]
            self._form[1][self._select] = chosen
            self._select = None
        elif tag == "form":
            for name, value in self._radios.items():
                self._form[1].setdefault(name, [value])
            self.forms.append(self._form)
            self._form = None


def _counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.app_label in DOMAIN_APPS
    }


def _post_forms(client: Client, urls: list[str]) -> dict[str, tuple[dict[str, list[str]], set[str]]]:
    """Every POST form found on the staff pages, by the path it posts to."""
    found: dict[str, tuple[dict[str, list[str]], set[str]]] = {}
    for url in urls:
        page = client.get(url)
        if page.streaming or "html" not in page.get("Content-Type", ""):
            continue
        parser = _Forms(url)
        parser.feed(page.content.decode())
        for action, values, names in parser.forms:
            path = action.split("?")[0]
            known_values, known_names = found.setdefault(path, ({}, set()))
            for name, value in values.items():
                known_values.setdefault(name, value)
            known_names |= names
    return found


def _cases(baseline: dict[str, list[str]], names: set[str]) -> list[tuple[str, dict[str, Any]]]:
    fields = sorted(names | set(baseline))
    cases: list[tuple[str, dict[str, Any]]] = [("no fields at all", {}), ("the form as shown", dict(baseline))]
    for value in CORPUS:
        cases.append((f"every field {value[:12]!r}", dict.fromkeys(fields, value)))
    # One field at a time, the rest as the page gave them: the hostile value reaches the checks past the others.
    # (Party rows 2 onwards are the same fields as row 1: skipped here to keep the pass quick.)
    for index, name in enumerate(name for name in fields if not re.fullmatch(r"party_([2-9]|\d\d+)_\w+", name)):
        value = CORPUS[index % len(CORPUS)]
        cases.append((f"{name}={value[:12]!r}", {**baseline, name: value}))
    cases.append(
        ("every field repeated", {name: [*baseline.get(name, ["1"]), "-1", "²"] for name in fields}),
    )
    cases.append(
        ("a file in every field", {name: SimpleUploadedFile("x.bin", b"\x00\xff" * 10) for name in fields}),
    )
    return cases


def test_hostile_values_in_every_staff_form_never_give_a_server_error_nor_a_half_saved_row(
    demo: dict[str, Any],  # noqa: F811 - the fixture imported above
) -> None:
    approver = UserFactory(username="fuzz-approver", role=roles.IG_APPROVER)
    client = Client(raise_request_exception=False)
    client.force_login(approver)
    urls = [
        _url(route, demo)
        for _, route in STAFF_URLS
        if "<token>" not in route and "<fmt>" not in route and "<document_pk>" not in route
    ]
    forms = _post_forms(client, urls)
    # Every POST URL of the URL configuration, even one whose form no page shows now (an action not open to the
    # record in its present state): it gets the usual fields of the staff forms.
    for url in urls:
        forms.setdefault(url, ({}, GUESSED_FIELDS))
    offenders: list[str] = []
    posted = 0
    before = _counts()
    for path, (baseline, names) in sorted(forms.items()):
        try:
            resolve(path)
        except Resolver404:
            continue
        if not path.startswith("/staff/"):
            continue
        # An action without fields (preview, publish) is posted once: each post would only repeat the first.
        for label, data in _cases(baseline, names) if names else [("no fields at all", {})]:
            response = client.post(path, data)
            posted += 1
            if response.status_code == 405:
                break  # a page that takes no POST: the first case, no fields, says so
            if response.status_code >= 500:
                offenders.append(f"POST {path} with {label}: {response.status_code}")
            after = _counts()
            if response.status_code not in {301, 302, 303} and after != before:
                changed = {table: (before[table], after[table]) for table in after if after[table] != before[table]}
                offenders.append(f"POST {path} with {label}: answered {response.status_code} but wrote {changed}")
            before = after
    assert not offenders, "\n".join(offenders)
    # The pass reached the forms: the big ones were found with their fields, and nobody was signed out.
    assert len(forms.get("/staff/agreements/new-sub-licence/", ({}, set()))[1]) > 15
    assert posted > 300
    assert client.get("/staff/").status_code == 200
    assert re.search(r"fuzz-approver|Sign out", client.get("/staff/").content.decode())
