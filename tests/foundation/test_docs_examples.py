"""The code examples of ``docs/`` run as written (a site's view of the test helpers)."""

import pytest
from django.urls import reverse

from payments.access import features_for
from payments.lexoffice import LexofficeUnavailableError, book_invoice
from payments.models import GuestSubscription, Invoice, SubscriptionTier
from payments.testing.factories import SubscriptionFactory
from tests.lexoffice.conftest import make_invoice, pdf_bytes  # noqa: F401

WEBHOOK_SECRET = "whsec_test_secret"


# docs/fake_stripe.md
@pytest.mark.django_db
def test_a_guest_buys_the_reader_tier(
    fake_stripe, client, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.PAYMENTS = {**settings.PAYMENTS, "STRIPE_WEBHOOK_SECRETS": [WEBHOOK_SECRET]}
    fake_stripe.deliver_webhooks_to_client(client, reverse("payments:webhook"), WEBHOOK_SECRET)
    price = fake_stripe.create_price(990, product_name="Reader")
    SubscriptionTier.objects.filter(slug="reader").update(stripe_price_id_test=price["id"])

    answer = client.post(
        reverse("payments:tier_checkout"), {"tier": "reader", "email": "buyer@example.com"}
    )
    with django_capture_on_commit_callbacks(execute=True):  # emails go out after the commit
        events = fake_stripe.complete_checkout(answer.json()["sessionId"])

    guest = GuestSubscription.objects.get(email="buyer@example.com")
    assert (guest.tier.slug, guest.status) == ("reader", "active")
    assert Invoice.objects.filter(guest_subscription=guest).count() == 1
    assert [delivery.status for delivery in fake_stripe.deliveries] == [200, 200, 200]

    fake_stripe.deliver(events)  # Stripe may send them again, in any order
    assert Invoice.objects.count() == 1
    assert len(mailoutbox) == 2  # the access link and the invoice


# docs/fake_stripe.md
def test_a_reader_may_read(db):
    subscription = SubscriptionFactory(tier__slug="reader")  # the migrated tier
    assert features_for(subscription.user) == {"data", "reading"}


# docs/lexoffice.md
def test_a_lost_answer_does_not_book_twice(fake_lexoffice, make_invoice):  # noqa: F811
    invoice_with_pdf = make_invoice()
    fake_lexoffice.fail_next(503, commit=True, method="POST", path="/v1/vouchers")
    with pytest.raises(LexofficeUnavailableError):
        book_invoice(invoice_with_pdf)  # booked, but the answer was a 503
    voucher_id = book_invoice(invoice_with_pdf)  # finds the voucher by its number
    booked = fake_lexoffice.vouchers_numbered(invoice_with_pdf.number)
    assert [voucher["id"] for voucher in booked] == [voucher_id]
