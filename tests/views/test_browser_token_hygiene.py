"""In headless Chromium: the access email's link works, and the token leaves the URL.

What a real browser keeps (its address bar, history, the Referer it sends) is
what the tester found the token in.
"""

import re

import pytest
from django.core import mail

from payments.services.access_links import resend_access_link
from tests.views.test_browser import browser  # noqa: F401  (the Chromium fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_access_link_opens_the_page_without_the_token_in_the_browser(
    browser,  # noqa: F811
    live_server,
    fake_stripe,
    stripe_guest,
    settings,
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    settings.PAYMENTS = {**settings.PAYMENTS, "SITE_URL": live_server.url}
    resend_access_link(stripe_guest)
    link = re.search(r"(http://\S+token=\S+)", mail.outbox[-1].body)[1]
    token = link.split("token=")[1]
    page_url = f"{live_server.url}/payments/manage-tier/"

    browser.get(link)

    WebDriverWait(browser, 15).until(expected_conditions.url_to_be(page_url))
    assert "ada@example.com" in browser.page_source
    assert token not in browser.page_source
    assert token not in browser.execute_script("return document.location.href")

    browser.find_element(By.CSS_SELECTOR, "button[value=cancel]").click()

    WebDriverWait(browser, 15).until(
        expected_conditions.text_to_be_present_in_element((By.TAG_NAME, "body"), "Ends on")
    )
    assert browser.current_url == page_url, "the form posted without the token"
    at_stripe = fake_stripe.state.retrieve_subscription(stripe_guest.stripe_subscription_id)
    assert at_stripe["cancel_at_period_end"] is True
