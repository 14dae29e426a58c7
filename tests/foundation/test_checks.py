"""Every system check, firing on a bad setting and silent on a good one."""

import os
import subprocess
import sys

import pytest
from django.core.checks import Error, Warning, run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from payments.models import SubscriptionTier
from tests.settings import PAYMENTS as COMPLETE

pytestmark = pytest.mark.django_db


def payments_messages(**payments_overrides):
    """Ids of the app's check messages for the test settings plus the overrides."""
    with override_settings(PAYMENTS={**COMPLETE, **payments_overrides}):
        return ids(run_checks(tags=["payments"]))


def ids(messages):
    return sorted(m.id for m in messages if m.id.startswith("payments."))


@pytest.fixture
def priced_tiers(db):
    for tier in SubscriptionTier.objects.all():
        tier.stripe_price_id_test = f"price_test_{tier.slug}"
        tier.stripe_price_id_live = f"price_live_{tier.slug}"
        tier.save()


def test_complete_configuration_is_silent(priced_tiers):
    assert payments_messages() == []
    call_command("check")  # raises SystemCheckError on any error


def test_every_message_carries_a_hint():
    with override_settings(PAYMENTS={"UNKNOWN": 1, "SITE_URL": "ftp://x"}):
        messages = [m for m in run_checks(tags=["payments"]) if m.id.startswith("payments.")]
    assert messages
    assert all(m.hint for m in messages)


def test_empty_configuration_names_every_missing_setting(capsys):
    with override_settings(PAYMENTS={}), pytest.raises(SystemCheckError) as raised:
        call_command("check")
    report = str(raised.value)
    for name in (
        "STRIPE_TEST_SECRET_KEY",
        "STRIPE_TEST_PUBLISHABLE_KEY",
        "STRIPE_WEBHOOK_SECRETS",
        "SELLER",
        "'data' has no Stripe price ID",
        "'reader' has no Stripe price ID",
        "'premium' has no Stripe price ID",
    ):
        assert name in report


def test_payments_not_a_dict_is_one_error_not_a_crash(priced_tiers):
    with override_settings(PAYMENTS=["STRIPE_TEST_SECRET_KEY"]):
        assert ids(run_checks(tags=["payments"])) == ["payments.E001"]


def test_unknown_key_warns_and_suggests_the_right_one(priced_tiers):
    with override_settings(PAYMENTS={**COMPLETE, "STRIPE_WEBHOOK_SECRET": "whsec_1"}):
        [message] = run_checks(tags=["payments"])
    assert message.id == "payments.W001"
    assert isinstance(message, Warning)
    assert message.hint == "Did you mean STRIPE_WEBHOOK_SECRETS?"


@pytest.mark.parametrize("value", ["False", 0, None])
def test_live_mode_must_be_a_real_bool(priced_tiers, value):
    assert payments_messages(STRIPE_LIVE_MODE=value) == ["payments.E002"]


def test_missing_keys_of_the_current_mode(priced_tiers):
    assert payments_messages(STRIPE_TEST_SECRET_KEY="") == ["payments.E003"]
    assert payments_messages(STRIPE_TEST_PUBLISHABLE_KEY="") == ["payments.E004"]


def test_live_mode_needs_live_keys_not_test_keys(priced_tiers):
    assert payments_messages(STRIPE_LIVE_MODE=True) == ["payments.E003", "payments.E004"]
    live = {
        "STRIPE_LIVE_MODE": True,
        "STRIPE_LIVE_SECRET_KEY": "sk_live_1",
        "STRIPE_LIVE_PUBLISHABLE_KEY": "pk_live_1",
    }
    assert payments_messages(**live) == []


@pytest.mark.parametrize(
    "slot, value",
    [
        ("STRIPE_TEST_SECRET_KEY", "sk_live_abc"),
        ("STRIPE_TEST_SECRET_KEY", "pk_test_abc"),
        ("STRIPE_TEST_PUBLISHABLE_KEY", "pk_live_abc"),
        ("STRIPE_LIVE_SECRET_KEY", "sk_test_abc"),
        ("STRIPE_LIVE_PUBLISHABLE_KEY", "sk_live_abc"),
    ],
)
def test_a_key_in_the_wrong_slot_is_an_error(priced_tiers, slot, value):
    assert payments_messages(**{slot: value}) == ["payments.E005"]


def test_restricted_keys_are_accepted_as_secret_keys(priced_tiers):
    assert payments_messages(STRIPE_TEST_SECRET_KEY="rk_test_abc") == []


@pytest.mark.parametrize("secrets", [[], [""], "whsec_abc", None])
def test_webhook_secrets_must_be_a_non_empty_list(priced_tiers, secrets):
    assert payments_messages(STRIPE_WEBHOOK_SECRETS=secrets) == ["payments.E006"]


def test_several_webhook_secrets_are_fine(priced_tiers):
    assert payments_messages(STRIPE_WEBHOOK_SECRETS=["whsec_a", "whsec_b"]) == []


@pytest.mark.parametrize(
    "url",
    [
        "shop.example.com",
        "ftp://shop.example.com",
        "https://shop.example.com/shop/",
        "https://shop.example.com?x=1",
        "https://user:pw@shop.example.com",
        "https://shop.example.com:99999",
        "https://",
        42,
    ],
)
def test_malformed_site_url_is_an_error(priced_tiers, url):
    assert payments_messages(SITE_URL=url) == ["payments.E007"]


@pytest.mark.parametrize(
    "url", ["", "https://shop.example.com", "http://127.0.0.1:8000/", "https://a.example:8443"]
)
def test_usable_site_url_is_silent(priced_tiers, url):
    assert payments_messages(SITE_URL=url) == []


def test_api_bases_may_have_a_path_but_must_be_http(priced_tiers):
    assert payments_messages(STRIPE_API_BASE="http://127.0.0.1:12111/v1") == []
    assert payments_messages(LEXOFFICE_API_BASE="api.lexware.io") == ["payments.E007"]


@pytest.mark.parametrize(
    "seller, missing",
    [
        ({}, "name, address, vat_id or tax_number"),
        ({"name": "X GmbH", "address": "Str. 1\n10115 Berlin"}, "vat_id or tax_number"),
        ({"name": " ", "address": "A", "tax_number": "12/345/67890"}, "name"),
        ("X GmbH", "name, address, vat_id or tax_number"),
    ],
)
def test_seller_lacking_what_an_invoice_needs(priced_tiers, seller, missing):
    with override_settings(PAYMENTS={**COMPLETE, "SELLER": seller}):
        [message] = run_checks(tags=["payments"])
    assert message.id == "payments.E008"
    assert message.msg.endswith(f"requires on an invoice: {missing}.")


def test_seller_with_a_tax_number_instead_of_a_vat_id(priced_tiers):
    seller = {"name": "Anna Muster", "address": "Weg 2\n80331 München", "tax_number": "143/1"}
    # §14 UStG is satisfied; the e-invoice's BR-CO-26 also needs a VAT ID or register.
    assert payments_messages(SELLER=seller) == ["payments.E011"]
    assert payments_messages(SELLER={**seller, "register": "Amtsgericht München HRA 1"}) == []


@pytest.mark.parametrize("prefix", ["R" * 21, "RE 2026/", 7])
def test_bad_invoice_number_prefix(priced_tiers, prefix):
    assert payments_messages(INVOICE_NUMBER_PREFIX=prefix) == ["payments.E009"]


@pytest.mark.parametrize("prefix", ["", "RE-", "RE-2026-", "R" * 20])
def test_usable_invoice_number_prefix(priced_tiers, prefix):
    assert payments_messages(INVOICE_NUMBER_PREFIX=prefix) == []


def test_a_rate_limit_cache_missing_from_caches_is_an_error(priced_tiers):
    assert payments_messages(LEXOFFICE_RATE_LIMIT_CACHE="shared") == ["payments.E040"]
    with override_settings(
        CACHES={
            "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
            "shared": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        }
    ):
        assert payments_messages(LEXOFFICE_RATE_LIMIT_CACHE="shared") == []


def test_sender_address_defaulting_to_webmaster_at_localhost_warns(priced_tiers):
    with override_settings(DEFAULT_FROM_EMAIL="webmaster@localhost"):
        assert payments_messages() == ["payments.W002"]
        assert payments_messages(INVOICE_FROM_EMAIL="rechnung@example.com") == []


def test_active_tier_without_a_price_of_the_current_mode_warns():
    SubscriptionTier.objects.update(stripe_price_id_test="")
    SubscriptionTier.objects.filter(slug="data").update(is_active=False)
    SubscriptionTier.objects.filter(slug="reader").update(stripe_price_id_test="price_r")
    messages = run_checks(tags=["payments"])
    assert [(m.id, m.obj) for m in messages] == [("payments.W003", "SubscriptionTier premium")]
    assert isinstance(messages[0], Warning)


def test_tier_check_looks_at_the_live_price_in_live_mode(priced_tiers):
    SubscriptionTier.objects.filter(slug="data").update(stripe_price_id_live="")
    live = {
        "STRIPE_LIVE_MODE": True,
        "STRIPE_LIVE_SECRET_KEY": "sk_live_1",
        "STRIPE_LIVE_PUBLISHABLE_KEY": "pk_live_1",
    }
    assert payments_messages(**live) == ["payments.W003"]
    assert payments_messages() == []


@pytest.mark.parametrize(
    "database_url",
    [
        pytest.param("sqlite://:memory:", id="before-migrate"),
        pytest.param("postgres://postgres@127.0.0.1:9/none", id="database-unreachable"),
    ],
)
def test_plain_check_does_not_crash_without_the_tier_table(database_url):
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    result = subprocess.run(
        [sys.executable, "-m", "django", "check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


def test_missing_weasyprint_libraries_are_an_error(priced_tiers, monkeypatch):
    # sys.modules[name] = None makes the import fail as a missing Pango would.
    monkeypatch.setitem(sys.modules, "weasyprint.text.ffi", None)
    with override_settings(PAYMENTS=COMPLETE):
        [message] = run_checks(tags=["payments"])
    assert message.id == "payments.E010"
    assert isinstance(message, Error)
    assert "Pango" in message.hint


def test_weasyprint_without_harfbuzz_subsetter_warns(priced_tiers, monkeypatch):
    import weasyprint.text.ffi

    assert payments_messages() == []  # this machine has libharfbuzz-subset0
    monkeypatch.setattr(weasyprint.text.ffi, "harfbuzz_subset", None)
    with override_settings(PAYMENTS=COMPLETE):
        [message] = run_checks(tags=["payments"])
    assert message.id == "payments.W004"
    assert "260 ms instead of 59 ms" in message.msg
    assert "libharfbuzz-subset0" in message.hint


@pytest.mark.parametrize("prefix", ["S" * 21, "ST/", None])
def test_bad_credit_note_number_prefix(priced_tiers, prefix):
    assert payments_messages(CREDIT_NOTE_NUMBER_PREFIX=prefix) == ["payments.E009"]


def test_credit_notes_need_a_number_range_of_their_own(priced_tiers):
    messages = payments_messages(INVOICE_NUMBER_PREFIX="RE-", CREDIT_NOTE_NUMBER_PREFIX="RE-")
    assert messages == ["payments.E009"]


SELLER = COMPLETE["SELLER"]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"TAX_CALCULATION": "automatic"}, ["payments.E030"]),
        ({"TAX_CALCULATION": "none"}, ["payments.E031"]),
        ({"SELLER": {**SELLER, "small_business": True}}, ["payments.E031"]),
        ({"TAX_CALCULATION": "tax_rates"}, ["payments.E032"]),
        ({"TAX_CALCULATION": "tax_rates", "TAX_RATES": "txr_1"}, ["payments.E032"]),
        ({"TAX_RATES": ["txr_1"]}, ["payments.W030"]),
        ({"PRICES_INCLUDE_TAX": "yes"}, ["payments.E033"]),
        ({"SELLER": {**SELLER, "country": "Germany"}}, ["payments.E034"]),
        ({"SELLER": {**SELLER, "street": "Musterstraße 1"}}, ["payments.E034"]),
    ],
)
def test_a_contradictory_or_incomplete_tax_setup_is_reported(priced_tiers, overrides, expected):
    assert payments_messages(**overrides) == expected


@pytest.mark.parametrize(
    "overrides",
    [
        {"TAX_CALCULATION": "tax_rates", "TAX_RATES": ["txr_de", "txr_at"]},
        {"TAX_CALCULATION": "none", "SELLER": {**SELLER, "small_business": True}},
        {"PRICES_INCLUDE_TAX": False},
        {
            "SELLER": {
                **{key: SELLER[key] for key in ("name", "vat_id", "email")},
                **{"street": "Musterstraße 1", "postal_code": "10115", "city": "Berlin"},
            }
        },
    ],
)
def test_consistent_tax_setups_are_silent(priced_tiers, overrides):
    assert payments_messages(**overrides) == []
