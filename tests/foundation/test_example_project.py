"""The example site: silent checks, seeded prices, feature-gated demo pages."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
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
        INSTALLED_APPS=[*INSTALLED_APPS, "demo"],
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
    SubscriptionTier.objects.filter(slug="data").update(is_active=False)
    page = client.get("/de/pricing/").content.decode()
    assert "9,90\N{NO-BREAK SPACE}€ inkl. MwSt." in page
    assert "Premium" in page
    assert "<h2>Data</h2>" not in page


def test_login_page_renders(example_site, client):
    UserFactory()
    assert client.get("/en/accounts/login/").status_code == 200


def test_pages_speak_german_under_de(example_site, client):
    SubscriptionTier.objects.update(unit_amount=990)
    page = client.get("/de/pricing/").content.decode()
    assert "<h1>Preise</h1>" in page
    assert "monatlich" in page  # the app's own catalogue: the tier interval


def test_admin_speaks_german_under_de(example_site, admin_client):
    page = admin_client.get("/de/admin/payments/").content.decode()
    assert "Abo-Stufen" in page
    assert "Identitätsereignisse" in page
