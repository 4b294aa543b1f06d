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


def test_home_page_lists_registers_with_their_last_updated_date(page) -> None:
    import datetime as dt

    from tests.publishing.factories import publish, seed_sub_licence

    seed_sub_licence()
    publish(on=dt.date(2025, 10, 22))
    page.goto("/")
    link = page.get_by_role("link", name="Sub Licence Release Register")
    assert link.is_visible()
    assert page.get_by_text("Last updated 22 October 2025").is_visible()
    assert_accessible(page)
    link.click()
    assert page.locator("h1").inner_text() == "Sub Licence Release Register"
    assert_accessible(page)
