import pytest

from tests.browser.conftest import assert_accessible

pytestmark = pytest.mark.django_db(transaction=True)


def test_home_page_is_accessible_and_links_to_sign_in(page) -> None:
    page.goto("/")
    assert page.locator("h1").inner_text() == "Who we share data with"
    assert_accessible(page)
    page.get_by_role("link", name="Staff sign in").click()
    assert page.locator("h1").inner_text() == "Sign in"
    assert_accessible(page)
