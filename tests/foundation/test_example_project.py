"""The example site: silent checks, seeded prices, feature-gated demo pages."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.models import Value
from django.db.models.functions import Concat
from django.test import override_settings

from payments.models import SubscriptionTier
from payments.testing.factories import GuestSubscriptionFactory, SubscriptionFactory, UserFactory
from tests.settings import INSTALLED_APPS, PAYMENTS

EXAMPLE = Path(__file__).resolve().parents[2] / "example_project"

pytestmark = pytest.mark.django_db


def manage(*args, env):
    # The site's own settings module and the fake's keys, not the suite's.
    inherited = ("STRIPE_", "DATABASE_URL", "DJANGO_")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(inherited)}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=EXAMPLE,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_example_site_checks_are_silent_before_and_after_seeding(tmp_path, fake_stripe_server):
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'example.sqlite3'}",
        "STRIPE_API_BASE": fake_stripe_server.url,
    }
    for step in (
        ["check", "--fail-level", "WARNING"],  # no tables yet
        ["migrate", "--noinput", "-v0"],
        ["seed_demo"],
        ["check", "--fail-level", "WARNING"],
    ):
        result = manage(*step, env=env)
        assert result.returncode == 0, (step, result.stdout, result.stderr)
    assert "System check identified no issues" in result.stdout


def prices():
    return {t.slug: (t.unit_amount, t.stripe_price_id_test) for t in SubscriptionTier.objects.all()}


def test_seed_demo_prices_the_tiers_once(fake_stripe):
    from demo.management.commands.seed_demo import Command

    call_command(Command())
    first = prices()
    assert first["reader"][0] == 990
    assert all(price_id.startswith("price_") for _, price_id in first.values())
    call_command(Command())
    assert prices() == first


def test_seed_demo_names_an_unreachable_stripe(settings):
    from django.core.management import CommandError

    from demo.management.commands.seed_demo import Command

    settings.PAYMENTS = {**PAYMENTS, "STRIPE_API_BASE": "http://127.0.0.1:9"}
    with pytest.raises(CommandError, match="Cannot reach Stripe at http://127.0.0.1:9"):
        call_command(Command())


@pytest.fixture
def example_site():
    with override_settings(
        # As in the example settings: demo first, so its payments/base.html wraps the app.
        INSTALLED_APPS=[app for app in INSTALLED_APPS if app != "payments"] + ["demo", "payments"],
        ROOT_URLCONF="example_project.urls",
        PAYMENTS={**PAYMENTS, "PRICING_URL": "pricing"},
    ):
        yield


def tier(slug):
    return SubscriptionTier.objects.get(slug=slug)


def test_visitors_without_the_feature_go_to_pricing(example_site, client):
    response = client.get("/en/data/")
    assert (response.status_code, response["Location"]) == (302, "/en/pricing/")


def test_a_reader_reads_but_cannot_download_the_ebook(example_site, client):
    client.force_login(SubscriptionFactory(tier=tier("reader")).user)
    assert client.get("/en/blog/first-post/").status_code == 200
    assert client.get("/en/data/").status_code == 200
    assert client.get("/en/ebooks/demo.txt").status_code == 302


def test_a_guest_downloads_with_the_token_then_reads_through_the_session(example_site, client):
    GuestSubscriptionFactory(tier=tier("premium"), token="g" * 43)
    response = client.get("/en/ebooks/demo.txt", {"token": "g" * 43})
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    assert client.get("/de/blog/first-post/").status_code == 200


def test_pricing_page_lists_the_active_tiers_with_localized_prices(example_site, client):
    SubscriptionTier.objects.filter(slug="reader").update(unit_amount=990)
    SubscriptionTier.objects.update(stripe_price_id_test=Concat(Value("price_"), "slug"))
    SubscriptionTier.objects.filter(slug="data").update(is_active=False)
    page = client.get("/de/pricing/").content.decode()
    assert "9,90\N{NO-BREAK SPACE}€ inkl. MwSt." in page
    assert "Premium" in page
    assert "<h2>Daten</h2>" not in page


def test_login_page_renders_without_developer_hints(example_site, client):
    UserFactory()
    response = client.get("/en/accounts/login/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "createsuperuser" not in page and "manage.py" not in page
    assert 'href="/en/accounts/signup/"' in page
    assert 'href="/en/payments/access-link/"' in page


def test_a_visitor_signs_up_and_is_signed_in(example_site, client):
    response = client.post(
        "/en/accounts/signup/",
        {
            "username": "grace",
            "email": "grace@example.com",
            "password1": "a-long-passphrase-42",
            "password2": "a-long-passphrase-42",
        },
    )
    assert (response.status_code, response["Location"]) == (302, "/en/pricing/")
    page = client.get("/en/").content.decode()
    assert "grace" in page and "Log out" in page


def test_every_page_has_the_shops_header(example_site, client):
    for url in ("/en/", "/en/payments/access-link/", "/en/payments/checkout/success/"):
        page = client.get(url).content.decode()
        assert 'class="site-name"' in page, url  # the app's pages use the site's base
        assert 'name="language" value="de"' in page, url
        assert 'href="/en/payments/manage-tier/"' in page, url
        assert "fake Stripe" not in page and "terminal" not in page, url


def test_the_home_page_names_features_not_keys(example_site, client):
    client.force_login(SubscriptionFactory(tier=tier("premium")).user)
    page = client.get("/de/").content.decode()
    assert "E-Book-Downloads" in page
    assert "ebooks" not in page.split('class="features"')[1].split("</p>")[0]


def test_pages_speak_german_under_de(example_site, client):
    SubscriptionTier.objects.update(
        unit_amount=990, stripe_price_id_test=Concat(Value("price_"), "slug")
    )
    page = client.get("/de/pricing/").content.decode()
    assert "<h1>Abonnements</h1>" in page
    assert "monatlich" in page  # the app's own catalogue: the tier interval
    assert "Preise" in page  # the shop's header


def test_admin_speaks_german_under_de(example_site, admin_client):
    page = admin_client.get("/de/admin/payments/").content.decode()
    assert "Abo-Stufen" in page
    assert "Identitätsereignisse" in page
