"""End to end in headless Chromium: pricing page, guest checkout on the fake's page, success.

Needs Debian's ``chromium`` and ``chromium-driver`` (nothing downloads a browser) and
the ``selenium`` package. Skipped where they are missing, except in CI (``CI=true``),
where a missing browser is a failure so the test cannot vanish unseen.
"""

import os
import shutil

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture
def browser():
    missing = [
        name for name, path in (("chromium", CHROMIUM), ("chromedriver", CHROMEDRIVER)) if not path
    ]
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing.append("selenium")
    if missing:
        reason = f"needs {', '.join(missing)}: apt-get install chromium chromium-driver"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--lang=en"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.implicitly_wait(10)
    yield driver
    driver.quit()


def test_guest_buys_a_tier_from_the_pricing_page(
    browser, live_server, fake_stripe, stripe_tiers, settings
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    settings.PAYMENTS = {**settings.PAYMENTS, "SITE_URL": live_server.url}
    wait = WebDriverWait(browser, 15)

    browser.get(f"{live_server.url}/payments/pricing/")
    browser.find_element(By.NAME, "email").send_keys("buyer@example.com")
    browser.find_element(By.CSS_SELECTOR, "button[value=reader]").click()

    wait.until(expected_conditions.url_contains(f"{fake_stripe.url}/checkout/cs_test_"))
    assert "Reader" in browser.page_source
    browser.find_element(By.NAME, "name").send_keys("Ada Lovelace")
    # The checkout collects the billing address the invoice must show (§ 14 UStG).
    for field, value in (("line1", "Hauptstr. 1"), ("postal_code", "10115"), ("city", "Berlin")):
        browser.find_element(By.NAME, field).send_keys(value)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()

    wait.until(expected_conditions.url_contains(f"{live_server.url}/payments/checkout/success/"))
    assert "You subscribed to Reader." in browser.page_source
    assert "buyer@example.com" in browser.page_source
    (session,) = fake_stripe.state.all("checkout.session")
    assert session["status"] == "complete"
    assert session["metadata"] == {
        "tier": "reader",
        "price_id": stripe_tiers["reader"].stripe_price_id_test,
        "language": "en",
    }


def test_checkout_errors_are_shown_on_the_pricing_page(browser, live_server, fake_stripe, tiers):
    """The tiers' prices do not exist at Stripe: the page shows our 502's reason."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{live_server.url}/payments/pricing/")
    browser.find_element(By.NAME, "email").send_keys("buyer@example.com")
    browser.find_element(By.CSS_SELECTOR, "button[value=data]").click()

    error = browser.find_element(By.ID, "payments-checkout-error")
    WebDriverWait(browser, 15).until(expected_conditions.visibility_of(error))
    assert "payment provider" in error.text
    assert browser.current_url == f"{live_server.url}/payments/pricing/"
