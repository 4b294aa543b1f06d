"""The Django admin is for superusers only; every model's list, add and change page must render; it never writes
a workflow field or an audit row itself, and what it may change goes through the services, with an audit row."""

from collections.abc import Iterator

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.db import transaction
from django.test import RequestFactory, override_settings
from django.urls import reverse

from agreements.models import Agreement, Dataset, Organisation
from audit.models import AuditEvent
from publishing.models import Register
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo_register(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[None]:
    """The demo register and one published edition, built once for the module (publishing is the slow part)
    inside a transaction that is rolled back afterwards; each test runs in its own savepoint within it."""
    from demo.agreements import load_demo

    media = override_settings(MEDIA_ROOT=tmp_path_factory.mktemp("admin-media"))
    with django_db_blocker.unblock(), media, transaction.atomic():
        load_demo(with_accounts=False)
        call_command("publish_register", "sub-licences")  # so that an edition's change page is rendered too
        yield
        transaction.set_rollback(True)


@pytest.fixture
def superuser_client(client, demo_register):
    client.superuser = UserFactory(username="root", is_superuser=True, is_staff=True)
    client.force_login(client.superuser)
    return client


def _models() -> list:
    labels = {"agreements", "publishing", "audit"}
    return [model for model in admin.site._registry if model._meta.app_label in labels]


@pytest.mark.parametrize("model", _models(), ids=lambda m: m._meta.label)
def test_every_admin_page_renders_for_a_superuser(superuser_client, model) -> None:
    info = (model._meta.app_label, model._meta.model_name)
    assert superuser_client.get(reverse("admin:{}_{}_changelist".format(*info))).status_code == 200
    obj = model.objects.first()
    if obj is not None:
        change = superuser_client.get(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))
        assert change.status_code == 200
    # Read-only models (the audit log, reference data) refuse "add" with 403; every other add form must render.
    request = RequestFactory().get("/")
    request.user = superuser_client.superuser
    can_add = admin.site._registry[model].has_add_permission(request)
    add = superuser_client.get(reverse("admin:{}_{}_add".format(*info)))
    assert add.status_code == (200 if can_add else 403)


def _form(client, url: str) -> dict:
    """The admin change form's current values, as a browser would post them back."""
    response = client.get(url)
    form = response.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if isinstance(value, list | tuple):
            data[name] = [str(v) for v in value]
        elif value is None:
            data[name] = ""
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        else:
            data[name] = field.prepare_value(value) if hasattr(field, "prepare_value") else value
    for formset in response.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        data.update({management.add_prefix(k): v for k, v in management.initial.items()})
        for inline_form in formset.formset.forms:
            data.update({bound.html_name: bound.value() for bound in inline_form if bound.value() is not None})
    return data


def test_an_agreement_change_in_the_admin_goes_through_the_service_and_cannot_touch_the_workflow(
    superuser_client,
) -> None:
    # An agreement in review (an approved one changes only through an amendment: the next test).
    agreement = Agreement.objects.get(reference="DSA-LLR-2026-002")
    url = reverse("admin:agreements_agreement_change", args=[agreement.pk])
    data = {**_form(superuser_client, url), "title": "Retitled by a superuser", "status": "draft"}
    data["reference"] = "HACKED/1"
    response = superuser_client.post(url, data)
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.title == "Retitled by a superuser"
    assert (agreement.status, agreement.reference) == (Agreement.Status.IN_REVIEW, "DSA-LLR-2026-002")
    event = AuditEvent.objects.filter(agreement=agreement).first()
    assert event.action == AuditEvent.Action.UPDATED and event.actor == superuser_client.superuser
    assert event.reason == "Changed in the Django admin" and event.changes["Title"][1] == "Retitled by a superuser"
    assert agreement.last_edited_by == superuser_client.superuser


def test_an_approved_agreement_changes_in_the_admin_only_in_its_trivial_fields(superuser_client) -> None:
    agreement = Agreement.objects.get(reference="SL/25/1")
    url = reverse("admin:agreements_agreement_change", args=[agreement.pk])
    form = _form(superuser_client, url)
    assert "title" not in form and "end_date" not in form and "owner" in form
    superuser_client.post(url, {**form, "title": "Retitled by a superuser"})
    agreement.refresh_from_db()
    assert agreement.title != "Retitled by a superuser"


def test_organisation_dataset_and_register_edits_in_the_admin_leave_audit_rows(superuser_client) -> None:
    organisation = Organisation.objects.get(ods_code="509")
    url = reverse("admin:agreements_organisation_change", args=[organisation.pk])
    assert superuser_client.post(url, {**_form(superuser_client, url), "website": "https://www.leicester.gov.uk"})
    assert AuditEvent.objects.filter(organisation=organisation, action="updated").exists()
    other = Organisation.objects.exclude(pk=organisation.pk).first()
    response = superuser_client.post(url, {**_form(superuser_client, url), "name": other.name.upper()})
    assert response.status_code == 200  # refused by the service, shown on the form
    dataset = Dataset.objects.first()
    url = reverse("admin:agreements_dataset_change", args=[dataset.pk])
    superuser_client.post(url, {**_form(superuser_client, url), "description": "Described in the admin"})
    assert AuditEvent.objects.filter(subject_id=dataset.pk, subject_label=str(dataset), action="updated").exists()
    register = Register.objects.get(slug="sub-licences")
    url = reverse("admin:publishing_register_change", args=[register.pk])
    superuser_client.post(url, {**_form(superuser_client, url), "contact_email": "ig-team@nhs.net"})
    register.refresh_from_db()
    assert register.contact_email == "ig-team@nhs.net"
    assert AuditEvent.objects.filter(action=AuditEvent.Action.REGISTER_CHANGED, actor=superuser_client.superuser)


def test_audit_rows_cannot_be_changed_or_deleted_even_by_a_superuser(superuser_client) -> None:
    event = AuditEvent.objects.first()
    url = reverse("admin:audit_auditevent_change", args=[event.pk])
    assert superuser_client.post(url, {"reason": "rewritten"}).status_code == 403
    assert superuser_client.post(reverse("admin:audit_auditevent_delete", args=[event.pk])).status_code == 403


def test_the_admin_is_closed_to_staff_roles(client) -> None:
    officer = UserFactory(username="officer", role="IG officer", is_staff=True)
    client.force_login(officer)
    response = client.get(reverse("admin:agreements_agreement_changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_amendments_are_shown_read_only_in_the_admin(superuser_client) -> None:
    from agreements import services
    from agreements.models import Amendment

    officer = UserFactory(username="officer", role="IG officer")
    agreement = Agreement.objects.get(reference="SL/25/1")
    amendment = services.amendment_propose(
        actor=officer, agreement=agreement, fields={"title": "Renamed"}, reason="Clearer"
    )
    url = reverse("admin:agreements_amendment_change", args=[amendment.pk])
    page = superuser_client.get(url)
    assert page.status_code == 200 and "Clearer" in page.content.decode()
    assert 'name="_save"' not in page.content.decode()
    assert superuser_client.post(url, {"reason": "rewritten"}).status_code == 403
    assert superuser_client.post(reverse("admin:agreements_amendment_delete", args=[amendment.pk])).status_code == 403
    assert superuser_client.get(reverse("admin:agreements_amendment_add")).status_code == 403
    amendment.refresh_from_db()
    assert (amendment.reason, Amendment.objects.count()) == ("Clearer", 1)
