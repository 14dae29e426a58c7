"""Playwright against the example site on loopback (``live_server``) and the fake Stripe.

Debian's ``chromium`` is driven through ``executable_path``; nothing downloads a
browser (never ``playwright install``). Without chromium the tests skip, except in
CI (``CI=true``), where that is a failure so the suite cannot vanish unseen.
Every step saves a screenshot into ``e2e/screenshots/`` (git-ignored).
"""

import os
import re
import shutil
from collections.abc import Iterator
from importlib import import_module
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.core import mail
from django.core.cache import cache

from payments.models import SubscriptionTier

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = Path(__file__).parent / "screenshots"
WEBHOOK_SECRET = "whsec_fake_stripe_demo"  # the example settings' secret for the fake
PRICES = {"data": 490, "reader": 990, "premium": 1490}


def pytest_collection_modifyitems(items):
    for item in items:
        item.add_marker(pytest.mark.browser)
        item.add_marker(pytest.mark.django_db(transaction=True))


@pytest.fixture(scope="session")
def chromium():
    if not CHROMIUM:
        reason = "needs Debian's chromium: apt-get install chromium"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def _fresh_state():
    cache.clear()  # the rate limits
    yield
    cache.clear()


@pytest.fixture
def shop(live_server, fake_stripe, settings) -> dict[str, SubscriptionTier]:
    """The example site with the demo's tiers priced at the fake, webhooks wired."""
    settings.PAYMENTS = {**settings.PAYMENTS, "SITE_URL": live_server.url}
    import_module("payments.migrations.0002_default_tiers").create_default_tiers(django_apps, None)
    import_module("payments.migrations.0007_storefront").translate_default_tiers(django_apps, None)
    tiers = {}
    for tier in SubscriptionTier.objects.all():
        price = fake_stripe.create_price(PRICES[tier.slug], product_name=tier.name)
        tier.unit_amount = PRICES[tier.slug]
        tier.stripe_price_id_test = price["id"]
        tier.trial_days = 14 if tier.slug == "data" else 0
        tier.save()
        tiers[tier.slug] = tier
    fake_stripe.deliver_webhooks_to(f"{live_server.url}/payments/checkout/webhook/", WEBHOOK_SECRET)
    return tiers


class Steps:
    """Numbered screenshots of one test run, one per step a buyer sees."""

    def __init__(self, page, name: str) -> None:
        self.page, self.name, self.count = page, name, 0

    def shot(self, step: str) -> None:
        self.count += 1
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"{self.name}-{self.count:02d}-{step}.png"
        self.page.screenshot(path=str(path), full_page=True)


@pytest.fixture
def page(chromium, request) -> Iterator:
    language = getattr(request, "param", None) or _language_of(request)
    context = chromium.new_context(locale=language, viewport={"width": 1100, "height": 800})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.steps = Steps(page, re.sub(r"\W+", "-", request.node.name).strip("-"))
    yield page
    context.close()


def _language_of(request) -> str:
    callspec = getattr(request.node, "callspec", None)
    return callspec.params.get("language", "en") if callspec else "en"


def last_link(pattern: str) -> str:
    """The newest email's link matching ``pattern`` (invoice emails come in between)."""
    for message in reversed(mail.outbox):
        if found := re.search(pattern, message.body):
            return found[0]
    raise AssertionError(f"no email has a link like {pattern}: {[m.subject for m in mail.outbox]}")
