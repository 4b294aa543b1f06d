"""A guard over EVERY staff URL, found from the URL configuration rather than listed by hand, so that a page added
later cannot forget its permission check. The per-area matrices (tests/staff/test_permissions.py,
tests/staff/test_registers.py, tests/staff/test_imports.py, tests/agreements/test_linkages.py) say
what each role may do; this says what nobody without a role may do."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from agreements import services
from agreements.models import Agreement, Linkage
from datarequests.models import DataRequest, DataSharingGroup, Decision, Meeting
from publishing.models import Edition
from publishing.services import register_ensure
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# Pages a signed-in user with no role may open: they list only what the user may see, which here is nothing.
OPEN_TO_ANY_SIGNED_IN_USER = {
    "staff:dashboard",
    "staff:organisation_list",
    "staff:agreement_list",
    "staff:datarequest_list",
}


def _staff_patterns() -> list[tuple[str, str]]:
    """(namespaced name, route) for every URL under /staff/."""
    found = []

    def walk(patterns: list[Any], prefix: str, namespace: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern), pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and pattern.name:
                route = prefix + str(pattern.pattern)
                if route.startswith("staff/"):
                    found.append((f"{namespace}:{pattern.name}", route))

    walk(get_resolver().url_patterns, "", "")
    return sorted(set(found))


STAFF_URLS = _staff_patterns()


@pytest.fixture
def demo(settings) -> dict[str, Any]:
    settings.DEVELOPMENT = True
    call_command("load_demo")
    # An edition row is all the guard needs; rendering one for each of the 80 cases would only cost time.
    edition = Edition.objects.create(
        register=register_ensure(slug="sub-licences"),
        slug="2025-10-22",
        status=Edition.Status.PUBLISHED,
        trigger=Edition.Trigger.COMMAND,
        last_updated=dt.date(2025, 10, 22),
        period="2025/26 Q3",
    )
    sub_licence = Agreement.objects.get(reference="SL/25/1")
    officer = UserFactory(username="officer-for-documents", role="IG officer")
    document = services.document_add(
        actor=officer,
        agreement=sub_licence,
        upload=SimpleUploadedFile("signed.pdf", b"%PDF-1.7\n%%EOF\n", content_type="application/pdf"),
        title="Signed copy",
        kind="signed_copy",
    )
    amendment = services.amendment_propose(
        actor=officer, agreement=sub_licence, fields={"title": "Amended title"}, reason="A proposed change"
    )
    data_request = DataRequest.objects.get(reference="DR/25/1")
    return {
        "pk_request": data_request.pk,
        "item_pk": data_request.line_items.first().pk,
        "decision_pk": Decision.objects.filter(line_item__request=data_request).first().pk,
        "pk_group": DataSharingGroup.objects.first().pk,
        "pk_meeting": Meeting.objects.first().pk,
        "action": "acknowledge",
        "amendment_pk": amendment.pk,
        "pk_agreement": sub_licence.pk,
        "pk_organisation": sub_licence.parties.get(role="sub_licensee").organisation_id,
        "pk_linkage": Linkage.objects.first().pk,
        "pk_edition": edition.pk,
        "pk_user": officer.pk,
        "document_pk": document.pk,
        "register": "sub-licences",
        "reference": "SL/25/1",
        "fmt": "pdf",
        "token": "not-a-real-token",
    }


def _url(route: str, values: dict[str, Any]) -> str:
    """Fill a route's parameters with real objects: <int:pk> takes the id of the object its section is about."""
    section = route.split("/")[1]
    pk_for = {
        "organisations": "pk_organisation",
        "agreements": "pk_agreement",
        "linkages": "pk_linkage",
        "registers": "pk_edition",
        "requests": "pk_request",
        "data-sharing-groups": "pk_group",
        "meetings": "pk_meeting",
        "users": "pk_user",
    }

    def fill(match: re.Match[str]) -> str:
        name = match.group(2)
        if name == "pk":
            return str(values[pk_for[section]])
        return str(values[name])

    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", fill, route)


def test_the_guard_sees_every_part_of_the_staff_area() -> None:
    names = {name for name, _ in STAFF_URLS}
    for expected in ["staff:agreement_approve", "staff:import", "staff:linkage_activate", "staff:register_publish"]:
        assert expected in names
    assert len(STAFF_URLS) >= 40


# One test per kind of visitor, walking every URL and reporting every offender at once: the demo is loaded once
# for all the URLs rather than once per URL.


def test_anonymous_visitors_are_sent_to_sign_in(demo: dict[str, Any]) -> None:
    """A view may refuse a method outright (405: a POST-only action, a read-only page) before asking who you are,
    which reveals nothing. Every other answer must be the way to sign in, and at least one method must give it."""
    offenders = []
    for name, route in STAFF_URLS:
        url = _url(route, demo)
        responses = {method: getattr(Client(), method)(url) for method in ("get", "post")}
        for method, response in responses.items():
            to_sign_in = response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")
            if not (to_sign_in or response.status_code == 405):
                offenders.append(f"{method.upper()} {url} ({name}) gave {response.status_code}")
        if all(response.status_code == 405 for response in responses.values()):
            offenders.append(f"{url} ({name}) never asks anonymous visitors to sign in")
    assert not offenders, "\n".join(offenders)


def test_a_signed_in_user_with_no_role_sees_and_changes_nothing(demo: dict[str, Any]) -> None:
    client = Client()
    client.force_login(UserFactory(username="no-role"))
    before = list(Agreement.objects.order_by("pk").values_list("status", "title"))
    offenders = []
    for name, route in STAFF_URLS:
        url = _url(route, demo)
        get, post = client.get(url), client.post(url, {"reason": "trying", "title": "x"})
        if name in OPEN_TO_ANY_SIGNED_IN_USER:
            if get.status_code != 200 or "SL/25/1" in get.content.decode():
                offenders.append(f"GET {url} ({name}) gave {get.status_code} or showed SL/25/1")
            continue
        for method, response in (("GET", get), ("POST", post)):
            if response.status_code not in {403, 404, 405}:
                offenders.append(f"{method} {url} ({name}) gave {response.status_code}")
    assert not offenders, "\n".join(offenders)
    assert list(Agreement.objects.order_by("pk").values_list("status", "title")) == before


# What a careless paste or a hostile client might send in any field.
NASTY = ["abc", "-1", " ", "<script>alert(1)</script>", "9" * 30, "2025-13-45", "x" * 10_001, "\x00", "=1+1", "1.5"]


def test_bad_input_in_any_field_of_any_staff_page_never_gives_a_server_error(demo: dict[str, Any]) -> None:
    """Every field a page's form has (plus the hidden ones a client can forge), filled with each nasty value, sent
    as a POST and as a query string, by a superuser (who gets past every permission check to the form itself)."""
    client = Client(raise_request_exception=False)
    client.force_login(UserFactory(username="root", is_superuser=True, is_staff=True))
    offenders = []
    for name, route in STAFF_URLS:
        if "<token>" in route or "<fmt>" in route or "<document_pk>" in route:
            continue  # an import's own upload, and downloads: no form to fill
        url = _url(route, demo)
        page = client.get(url)
        # A download (the exports) or JSON has no form to read, but is still probed below. (Not response.close():
        # that sends request_finished, which closes the test's database connection on PostgreSQL.)
        html = "" if page.streaming or "html" not in page.get("Content-Type", "") else page.content.decode()
        fields = set(re.findall(r'name="([a-z_0-9]+)"', html)) - {"csrfmiddlewaretoken"}
        fields |= {"party_rows", "reason", "title", "page", "q"}
        for bad in NASTY:
            data = dict.fromkeys(fields, bad)
            for method in ("get", "post"):
                response = getattr(client, method)(url, data)
                if response.status_code >= 500:
                    offenders.append(f"{method.upper()} {url} ({name}) with {bad[:12]!r}: {response.status_code}")
    assert not offenders, "\n".join(offenders)


def test_the_password_alone_opens_no_staff_page_only_the_second_step(demo: dict[str, Any]) -> None:
    """A superuser (who would get past every permission check) who has passed only the password: every staff URL,
    and the admin, answers nothing but a redirect to the second step, whether they have a device yet or not."""
    from django.contrib.auth.models import User

    from tests.conftest import force_login_password_only, second_factor_device

    enrolled = UserFactory(username="root-enrolled", is_superuser=True, is_staff=True)
    second_factor_device(enrolled)
    cases = [
        (enrolled, "/accounts/verify/?next="),
        (UserFactory(username="root-new", is_superuser=True), "/accounts/set-up/?next="),
    ]
    urls = [_url(route, demo) for _, route in STAFF_URLS] + ["/admin/", "/admin/auth/user/", "/accounts/security/"]
    offenders = []
    for user, second_step in cases:
        assert isinstance(user, User)
        client = Client()
        force_login_password_only(client, user)
        for url in urls:
            for method in ("get", "post"):
                response = getattr(client, method)(url)
                if not (response.status_code == 302 and response["Location"].startswith(second_step)):
                    offenders.append(f"{method.upper()} {url} as {user.username} gave {response.status_code}")
    assert not offenders, "\n".join(offenders)
