"""German ships complete: every catalogue entry is translated, compiled, and shown.

The catalogue tests read the ``.po`` files with a small reader (no dependency) and
compare them with the committed ``.mo`` files, so a string added without a
translation, or a translation not compiled, fails here rather than showing
English on a German page.
"""

import ast
import gettext
import re
from importlib import import_module
from pathlib import Path

import pytest
from django.apps import apps as django_apps
from django.core import mail
from django.utils import translation

import payments
from payments.models import SubscriptionTier
from payments.services.guests import send_guest_access_email
from payments.testing.factories import GuestSubscriptionFactory

ROOT = Path(__file__).resolve().parents[2]
CATALOGUES = [
    Path(payments.__file__).parent / "locale/de/LC_MESSAGES/django.po",
    ROOT / "example_project/demo/locale/de/LC_MESSAGES/django.po",
]
PLACEHOLDER = re.compile(r"%\(\w+\)[sdr]|\{\w*\}")


def read_po(path: Path) -> list[dict]:
    """Entries as ``{"msgid", "msgid_plural", "msgstr": [...], "flags"}``, header left out."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry: dict = {"msgid": None, "msgid_plural": None, "msgstr": [], "flags": set()}
        field = None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                text = ast.literal_eval(line)
                if field == "msgstr":
                    entry["msgstr"][-1] += text
                else:
                    entry[field] += text
            else:
                keyword, _, value = line.partition(" ")
                field = "msgstr" if keyword.startswith("msgstr") else keyword
                if field == "msgstr":
                    entry["msgstr"].append(ast.literal_eval(value))
                else:
                    entry[field] = ast.literal_eval(value)
        if entry["msgid"]:
            entries.append(entry)
    return entries


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: p.parts[-5])
def test_every_entry_is_translated_and_not_fuzzy(po):
    entries = read_po(po)
    assert len(entries) > 20
    untranslated = [e["msgid"] for e in entries if not all(e["msgstr"])]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert (untranslated, fuzzy) == ([], [])


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: p.parts[-5])
def test_translations_keep_the_placeholders(po):
    broken = [
        e["msgid"]
        for e in read_po(po)
        for msgstr in e["msgstr"]
        if sorted(PLACEHOLDER.findall(msgstr))
        != sorted(PLACEHOLDER.findall(e["msgid_plural"] if e["msgid_plural"] else e["msgid"]))
    ]
    assert broken == []


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: p.parts[-5])
def test_the_committed_mo_holds_every_translation_of_the_po(po):
    with po.with_suffix(".mo").open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = [
        e["msgid"]
        for e in read_po(po)
        if not e["msgid_plural"] and compiled.gettext(e["msgid"]) != e["msgstr"][0]
    ]
    assert stale == []


@pytest.fixture
def priced_tiers(db):
    """The migrated tiers (put back if a transactional test flushed them), priced."""
    import_module("payments.migrations.0002_default_tiers").create_default_tiers(django_apps, None)
    import_module("payments.migrations.0007_storefront").translate_default_tiers(django_apps, None)
    for tier in SubscriptionTier.objects.all():
        tier.unit_amount = 990
        tier.stripe_price_id_test = f"price_test_{tier.slug}"
        tier.save()


@pytest.mark.urls("tests.views.i18n_urls")
def test_the_pricing_page_speaks_german_under_de(client, priced_tiers):
    page = client.get("/de/payments/pricing/").content.decode()
    assert "<h1>Abonnements</h1>" in page
    assert "Datenprodukte" in page
    assert "Leser abonnieren" in page  # the tier's German name
    assert "9,90\N{NO-BREAK SPACE}€ inkl. MwSt." in page


@pytest.mark.urls("tests.views.i18n_urls")
def test_the_manage_tier_page_speaks_german_under_de(client, priced_tiers):
    guest = GuestSubscriptionFactory(
        token="t" * 43, tier=SubscriptionTier.objects.get(slug="reader"), status="past_due"
    )
    page = client.get(
        "/de/payments/manage-tier/", {"token": "t" * 43}, follow=True
    ).content.decode()
    assert "<h1>Ihr Abonnement</h1>" in page
    assert "Zahlung überfällig" in page  # the status label
    assert "Zahlungsmethode und Rechnungen" in page
    assert guest.email in page


def test_the_guest_access_email_subject_is_german(priced_tiers):
    guest = GuestSubscriptionFactory(tier=SubscriptionTier.objects.get(slug="premium"))
    send_guest_access_email(guest, link="https://shop.example.com/x", language="de")
    assert mail.outbox[0].subject == "Ihr Zugang zu Premium"


def test_webhook_errors_follow_the_request_language(client):
    response = client.post(
        "/payments/checkout/webhook/",
        data="{}",
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="de",
    )
    assert response.status_code == 400
    assert response.json() == {"error": "Der Header Stripe-Signature fehlt."}


def test_command_output_is_translated():
    from payments.management.commands.identity_overview import _table

    overview = {
        "days": 7,
        "events": {},
        "totals": {"all_time": 0, "recent": 0},
        "distinct_users": {"all_time": 0, "recent": 0},
        "signups_later_logged_in": {"all_time": 0, "recent": 0},
        "unlinked_guest_subscriptions": 3,
        "links_skipped_unverified": 2,
    }
    with translation.override("de"):
        table = _table(overview)
    assert "letzte 7 Tage" in table
    assert "Noch nicht mit einem Benutzer verknüpfte Gast-Abonnements: 3" in table
    assert "Nicht verknüpft, weil die E-Mail-Adresse des Benutzers nicht bestätigt ist: 2" in table
