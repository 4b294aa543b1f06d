"""The Django admin is for superusers only; every model's list, add and change page must render."""

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.test import RequestFactory
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client, settings):
    settings.DEBUG = True
    from demo.agreements import load_demo

    load_demo(with_accounts=False)
    call_command("publish_register", "sub-licences")  # so that an edition's change page is rendered too
    client.superuser = UserFactory(username="root", is_superuser=True, is_staff=True)
    client.force_login(client.superuser)
    return client


def _models() -> list:
    return [model for model in admin.site._registry if model._meta.app_label in {"agreements", "publishing"}]


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


def test_the_admin_is_closed_to_staff_roles(client) -> None:
    officer = UserFactory(username="officer", role="IG officer", is_staff=True)
    client.force_login(officer)
    response = client.get(reverse("admin:agreements_agreement_changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
