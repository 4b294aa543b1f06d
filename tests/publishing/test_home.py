import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_home_page_uses_the_nhs_template_and_says_what_the_portal_is(client) -> None:
    response = client.get(reverse("publishing:home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="en-GB">' in html
    assert 'class="nhsuk-skip-link"' in html and 'href="#maincontent"' in html
    assert 'class="nhsuk-header' in html
    assert '<main class="nhsuk-main-wrapper" id="maincontent">' in html
    assert 'class="nhsuk-footer"' in html
    assert "NHS Leicester, Leicestershire and Rutland" in html
    assert "<h1>Who we share data with</h1>" in html
    assert "nhsuk-frontend.min.css" in html


def test_staff_area_needs_sign_in(client) -> None:
    response = client.get("/staff/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_admin_is_there(client) -> None:
    assert client.get("/admin/").status_code == 302
