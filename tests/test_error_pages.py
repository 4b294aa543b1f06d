import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/no-such-page/", "/registers/no-such-register/"])
def test_unknown_pages_get_the_nhs_not_found_page(client: Client, settings, url: str) -> None:
    settings.DEBUG = False
    response = client.get(url)
    assert response.status_code == 404
    html = response.content.decode()
    assert "<h1>Page not found</h1>" in html
    assert 'class="nhsuk-header' in html


def test_server_errors_get_a_plain_nhs_page(settings) -> None:
    from django.template.loader import render_to_string

    html = render_to_string("500.html")  # rendered without a request, as Django's handler does
    assert "Sorry, there is a problem with the service" in html
    assert 'class="nhsuk-footer"' in html


def test_development_mode_shows_the_nhs_error_pages_unless_debug_pages_are_asked_for(client: Client, settings) -> None:
    # What `make run` gives (DEBUG=true without DEBUG_PAGES): development mode, Django's debug pages off.
    settings.DEVELOPMENT, settings.DEBUG = True, False
    html = client.get("/no-such-entry/").content.decode()
    assert "<h1>Page not found</h1>" in html and "Using the URLconf" not in html
    settings.DEBUG = True  # DEBUG_PAGES=true
    assert "Using the URLconf" in client.get("/no-such-entry/").content.decode()
