"""Issuing: the immutable record, its snapshot of Stripe's data and its number."""

from datetime import UTC, datetime

import pytest
from django.core import mail
from django.db import transaction

from payments.exceptions import ImmutableRecordError
from payments.invoicing import issue_invoice
from payments.models import Invoice
from payments.testing.factories import GuestSubscriptionFactory, SubscriptionFactory
from tests.invoices.stripe_data import PAID_AT, PERIOD_END, PERIOD_START, stripe_invoice

pytestmark = pytest.mark.django_db


def test_issuing_snapshots_buyer_seller_lines_taxes_and_period(issue):
    invoice = issue(stripe_invoice(vat_ids=("ATU12345678",)))

    assert invoice.number == "RE-000001"
    assert (invoice.net_amount, invoice.tax_amount, invoice.total_amount) == (1000, 190, 1190)
    assert invoice.buyer == {
        "name": "Erika Mustermann",
        "email": "erika@example.com",
        "address": ["Hauptstraße 5", "80331 München", "DE"],
        "postal_address": {
            "line1": "Hauptstraße 5",
            "line2": "",
            "postal_code": "80331",
            "city": "München",
            "state": "",
            "country": "DE",
        },
        "country": "DE",
        "tax_ids": [{"type": "eu_vat", "value": "ATU12345678"}],
        "vat_ids": ["ATU12345678"],
        "vat_id": "",  # not a VAT ID of the buyer's country: no reverse charge on it
    }
    assert invoice.tax_treatment == "domestic"
    assert invoice.seller["name"] == "Beispiel Verlag GmbH"
    assert invoice.seller["vat_id"] == "DE123456789"
    assert invoice.lines == [
        {
            "description": "1 × Reader (at €10.00 / month)",
            "tier": "Reader",
            "tier_slug": "reader",
            "interval": "month",
            "quantity": 1,
            "amount": 1000,
            "net_amount": 1000,
            "unit_net_amount": 1000,
            "period_start": PERIOD_START,
            "period_end": PERIOD_END,
        }
    ]
    assert invoice.tax_breakdown == [
        {"rate": "19", "net": 1000, "tax": 190, "reasons": ["standard_rated"]}
    ]
    # The lines' period, not the invoice-level one (Stripe's previous cycle).
    assert invoice.period_start == datetime.fromtimestamp(PERIOD_START, tz=UTC)
    assert invoice.period_end == datetime.fromtimestamp(PERIOD_END, tz=UTC)
    assert invoice.issued_at == datetime.fromtimestamp(PAID_AT, tz=UTC)
    assert invoice.language == "en"  # the site's LANGUAGE_CODE in the test settings


def test_the_seller_snapshot_survives_a_later_settings_change(issue, payments_settings, settings):
    invoice = issue(stripe_invoice())
    settings.PAYMENTS = {**payments_settings, "SELLER": {"name": "Someone Else"}}

    assert Invoice.objects.get(pk=invoice.pk).seller["name"] == "Beispiel Verlag GmbH"


def test_taxes_are_grouped_per_rate_with_expanded_or_derived_percentages(issue):
    taxes = [
        {"amount": 190, "taxable_amount": 1000, "tax_rate_details": {"tax_rate": "txr_a"}},
        {"amount": 95, "taxable_amount": 500, "tax_rate_details": {"tax_rate": "txr_a"}},
        {
            "amount": 35,
            "taxable_amount": 500,
            "tax_rate_details": {"tax_rate": {"id": "txr_b", "percentage": 7.0}},
        },
    ]
    invoice = issue(stripe_invoice(net=2000, tax=320, taxes=taxes))

    assert [(t["rate"], t["net"], t["tax"]) for t in invoice.tax_breakdown] == [
        ("19", 1500, 285),
        ("7", 500, 35),
    ]


def test_older_api_versions_total_tax_amounts_are_read_too(issue):
    data = stripe_invoice(net=1000, tax=70)
    data.pop("total_taxes")
    data["total_tax_amounts"] = [{"amount": 70, "taxable_amount": 1000, "tax_rate": "txr_7"}]

    invoice = issue(data)

    assert [(t["rate"], t["net"], t["tax"]) for t in invoice.tax_breakdown] == [("7", 1000, 70)]


def test_a_guests_invoice_is_linked_to_the_guest_and_falls_back_to_their_email(issue):
    guest = GuestSubscriptionFactory(email="guest@example.com")
    invoice = issue(stripe_invoice(email=""), guest_subscription=guest)

    assert invoice.guest_subscription == guest
    assert invoice.email == "guest@example.com"
    assert invoice.buyer["email"] == "guest@example.com"


def test_a_users_invoice_is_linked_to_the_user_and_subscription(issue):
    subscription = SubscriptionFactory()
    invoice = issue(stripe_invoice(), subscription=subscription)

    assert invoice.subscription == subscription
    assert invoice.user == subscription.user


def test_the_customers_preferred_locale_picks_the_invoice_language(issue):
    data = stripe_invoice()
    data["customer"] = {"id": "cus_1", "object": "customer", "preferred_locales": ["de-DE"]}

    assert issue(data).language == "de"


def test_an_unsupported_locale_falls_back_to_the_sites_language(issue, settings):
    settings.LANGUAGE_CODE = "de"
    data = stripe_invoice()
    data["customer"] = {"id": "cus_1", "object": "customer", "preferred_locales": ["ja"]}

    assert issue(data).language == "de"


def test_the_same_stripe_invoice_is_issued_once(issue):
    data = stripe_invoice()
    first = issue(data)
    second = issue(data)

    assert first.pk == second.pk
    assert Invoice.objects.count() == 1
    assert len(mail.outbox) == 1


def test_numbers_follow_the_prefix_and_continue_without_gaps(issue, payments_settings):
    payments_settings["INVOICE_NUMBER_PREFIX"] = "SHOP-2026-"
    numbers = [issue(stripe_invoice()).number for _ in range(3)]

    assert numbers == ["SHOP-2026-000001", "SHOP-2026-000002", "SHOP-2026-000003"]


def test_a_rolled_back_issue_frees_its_number_and_sends_nothing(issue):
    class WebhookFailed(Exception):
        pass

    with pytest.raises(WebhookFailed), transaction.atomic():
        issue_invoice(stripe_invoice())
        raise WebhookFailed

    assert not Invoice.objects.exists()
    assert issue(stripe_invoice()).number == "RE-000001"
    assert len(mail.outbox) == 1


def test_delivery_waits_for_the_commit(
    reader_tier, payments_settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        invoice = issue_invoice(stripe_invoice())
        assert not Invoice.objects.get(pk=invoice.pk).pdf
    assert len(callbacks) == 2  # the delivery task, and the invoice_issued signal
    assert mail.outbox == []


def test_numbers_are_allocated_only_inside_a_transaction(transactional_db):
    from payments.invoicing.numbering import allocate_invoice_number

    with pytest.raises(RuntimeError):
        allocate_invoice_number()


class TestImmutable:
    def test_issued_fields_cannot_be_saved_changed(self, issue):
        invoice = issue(stripe_invoice())
        for field, value in [
            ("number", "RE-999999"),
            ("total_amount", 1),
            ("buyer", {"name": "Other"}),
            ("seller", {}),
            ("issued_at", datetime(2020, 1, 1, tzinfo=UTC)),
        ]:
            fresh = Invoice.objects.get(pk=invoice.pk)
            setattr(fresh, field, value)
            with pytest.raises(ImmutableRecordError):
                fresh.save()

        assert Invoice.objects.get(pk=invoice.pk).number == "RE-000001"

    def test_nested_changes_to_snapshots_are_refused_too(self, issue):
        invoice = issue(stripe_invoice())
        invoice.buyer["name"] = "Somebody Else"

        with pytest.raises(ImmutableRecordError):
            invoice.save()

    def test_queryset_updates_of_issued_fields_are_refused(self, issue):
        invoice = issue(stripe_invoice())

        with pytest.raises(ImmutableRecordError):
            Invoice.objects.filter(pk=invoice.pk).update(total_amount=0, net_amount=0)
        with pytest.raises(ImmutableRecordError), transaction.atomic():
            Invoice.objects.bulk_update([invoice], ["email"])
        assert Invoice.objects.get(pk=invoice.pk).total_amount == 1190

    def test_invoices_are_never_deleted(self, issue):
        invoice = issue(stripe_invoice())

        with pytest.raises(ImmutableRecordError):
            invoice.delete()
        with pytest.raises(ImmutableRecordError):
            Invoice.objects.filter(pk=invoice.pk).delete()
        assert Invoice.objects.filter(pk=invoice.pk).exists()

    def test_delivery_fields_may_still_be_recorded(self, issue):
        invoice = issue(stripe_invoice())
        invoice.email_error = "temporary"
        invoice.save()

        assert Invoice.objects.get(pk=invoice.pk).email_error == "temporary"


@pytest.mark.parametrize("factory", [SubscriptionFactory, GuestSubscriptionFactory])
def test_the_language_of_the_checkout_picks_the_invoice_language(issue, factory):
    record = factory(language="de")
    owner = "subscription" if factory is SubscriptionFactory else "guest_subscription"

    invoice = issue(stripe_invoice(), **{owner: record})

    assert invoice.language == "de"
    assert "Rechnung" in mail.outbox[0].subject


def test_a_registered_buyer_stripe_knows_by_email_only_is_named_by_their_account(issue):
    from payments.testing.factories import UserFactory

    user = UserFactory(first_name="Ada", last_name="Lovelace")
    subscription = SubscriptionFactory(user=user)

    invoice = issue(stripe_invoice(name=""), subscription=subscription)

    assert invoice.buyer_name == "Ada Lovelace"
