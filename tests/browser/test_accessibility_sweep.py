"""axe over every page, not only those the journeys pass through: each staff page an approver can open (found from
the URL configuration, as tests/staff/test_urls.py does), each form shown with its errors, and every public page
of both registers. WCAG 2.2 AA, no violations."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command

from agreements import services
from agreements.models import Agreement
from publishing.models import Edition
from tests.browser.conftest import AXE_OPTIONS, _axe, follow
from tests.factories import UserFactory
from tests.staff.test_urls import STAFF_URLS, _url

pytestmark = pytest.mark.django_db(transaction=True)


def _violations(page: Any) -> list[str]:
    results = _axe.run(page, options=AXE_OPTIONS).response["violations"]
    return [f"{v['id']}: {v['help']} at {[n['target'] for n in v['nodes']][:3]}" for v in results]


# The sweep in three parts of about the same length, which `make test` runs side by side (pytest-xdist): every
# other staff page each, then the forms with their errors and the public pages.
PARTS = ["staff pages, first of two", "staff pages, second of two", "forms with errors, and public pages"]


@pytest.mark.parametrize("part", range(len(PARTS)), ids=PARTS)
def test_every_page_is_accessible(page: Any, sign_in: Any, settings: Any, part: int) -> None:
    settings.DEVELOPMENT = True
    call_command("load_demo")
    call_command("publish_register", "sub-licences")
    call_command("publish_register", "information-sharing")
    # The IG lead: everything an approver opens, plus the Users page and the audit log.
    approver = UserFactory(username="sweep-approver", role="IG lead")
    assert approver.has_perm("publishing.publish_edition")
    sub_licences = Edition.objects.get(register__slug="sub-licences", status=Edition.Status.PUBLISHED)
    # An amendment under review, so that its page (live beside proposed, the rules, the next edition) is swept.
    amendment = services.amendment_propose(
        actor=UserFactory(username="sweep-officer", role="IG officer"),
        agreement=Agreement.objects.get(reference="SL/25/1"),
        fields={"data_level": "anonymised"},
        reason="Anonymised data is enough",
    )
    values = {
        "amendment_pk": amendment.pk,
        "pk_agreement": _agreement_pk("SL/25/1"),
        "pk_organisation": _organisation_pk("509"),
        "pk_linkage": _linkage_pk(),
        "pk_edition": sub_licences.pk,
        "pk_user": _user_pk("ig-officer"),
        "document_pk": 0,
        "register": "sub-licences",
        "reference": "SL/25/1",
        "fmt": "pdf",
        "token": "none",
        **_data_request_values(),
    }

    problems: dict[str, list[str]] = {}
    checked = []

    def check(url: str, status: int = 200) -> None:
        # Ask first, with the page's cookies: POST-only actions answer 405, downloads are not pages.
        probe = page.request.get(url, max_redirects=0)
        if probe.status != status or "html" not in probe.headers.get("content-type", ""):
            return
        page.goto(url)
        page.wait_for_load_state()
        checked.append(url)
        if found := _violations(page):
            problems[url] = found

    sign_in("sweep-approver")
    if part < 2:
        routes = [
            route
            for _name, route in STAFF_URLS
            # Not a download, nor a page that only exists during an import.
            if not ("<document_pk>" in route or "<token>" in route or "<fmt>" in route)
        ]
        for route in routes[part::2]:
            check(_url(route, values))
        for url in ["/accounts/security/", "/accounts/security/password/"][part::2]:
            check(url)
        assert len(checked) >= 20, checked
        assert not problems, "\n".join(f"{url}:\n  " + "\n  ".join(found) for url, found in problems.items())
        return

    # Forms as they look with errors: submit each empty.
    for url in [
        "/staff/organisations/new/",
        "/staff/agreements/new/",
        "/staff/agreements/new-sub-licence/",
        "/staff/linkages/new/",
        "/staff/import/",
        "/staff/requests/new/",
        f"/staff/requests/{values['pk_request']}/items/new/",
        "/staff/meetings/new/",
        "/staff/users/invite/",
    ]:
        page.goto(url)
        page.locator("main form button[type=submit], main form input[type=submit]").last.click()
        page.wait_for_load_state()
        assert page.locator(".nhsuk-error-summary").count() == 1, url
        checked.append(url + " (with errors)")
        if found := _violations(page):
            problems[url + " (with errors)"] = found

    page.context.clear_cookies()
    for url in [
        "/",
        "/registers/sub-licences/",
        "/registers/sub-licences/editions/",
        f"/registers/sub-licences/editions/{sub_licences.slug}/",
        "/registers/sub-licences/entries/SL/25/1/",
        "/registers/information-sharing/",
        "/registers/information-sharing/editions/",
        "/accounts/login/",
        "/accounts/password-reset/",
    ]:
        check(url)
    check("/no-such-page/", status=404)
    first_entry = page.goto("/registers/information-sharing/") and page.locator("table tbody a").first
    if first_entry:
        follow(page, first_entry)
        checked.append(page.url)
        if found := _violations(page):
            problems[page.url] = found

    assert len(checked) >= 15, checked
    assert not problems, "\n".join(f"{url}:\n  " + "\n  ".join(found) for url, found in problems.items())


def _agreement_pk(reference: str) -> int:
    from agreements.models import Agreement

    return Agreement.objects.get(reference=reference).pk


def _organisation_pk(ods_code: str) -> int:
    from agreements.models import Organisation

    return Organisation.objects.get(ods_code=ods_code).pk


def _linkage_pk() -> int:
    from agreements.models import Linkage

    linkage = Linkage.objects.first()
    assert linkage is not None
    return linkage.pk


def _data_request_values() -> dict[str, Any]:
    """The demo's consortium request (seed 003), one of its line items and decisions, its group and a meeting."""
    from datarequests.models import DataRequest, DataSharingGroup, Decision, Meeting

    data_request = DataRequest.objects.get(reference="DR/25/1")
    return {
        "pk_request": data_request.pk,
        "item_pk": data_request.line_items.first().pk,
        "decision_pk": Decision.objects.filter(line_item__request=data_request).first().pk,
        "pk_group": DataSharingGroup.objects.get().pk,
        "pk_meeting": Meeting.objects.first().pk,
    }


def _user_pk(username: str) -> int:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=username).pk
