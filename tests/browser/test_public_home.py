import pytest

from tests.browser.conftest import assert_accessible, follow

pytestmark = pytest.mark.django_db(transaction=True)


def test_home_page_is_accessible_and_links_to_sign_in(page) -> None:
    page.goto("/")
    assert page.locator("h1").inner_text() == "Who we share data with"
    assert_accessible(page)
    follow(page, page.get_by_role("link", name="Staff sign in"))
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
    follow(page, link)
    assert page.locator("h1").inner_text() == "Sub Licence Release Register"
    assert_accessible(page)


@pytest.mark.parametrize("slug", ["sub-licences", "information-sharing"])
def test_a_register_reads_on_a_320_pixel_phone_without_scrolling_sideways(page, slug: str) -> None:
    import datetime as dt

    from tests.publishing.factories import (
        information_sharing_register,
        publish,
        seed_sub_licence,
        statutory_return,
    )

    seed_sub_licence()
    statutory_return()
    register = information_sharing_register() if slug == "information-sharing" else None
    publish(register, on=dt.date(2025, 10, 22))
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(f"/registers/{slug}/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    # The rows stack: each cell shows its column's label beside it.
    assert page.locator(".nhsuk-table-responsive__heading").first.is_visible()
    assert page.get_by_role("heading", name="Download this edition").is_visible()
    assert_accessible(page)
