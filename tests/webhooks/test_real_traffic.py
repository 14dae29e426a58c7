"""What real Stripe traffic brings: permanent failures, odd values, order, versions.

Each permanent failure is answered 200 and recorded with its outcome and reason
(so Stripe stops retrying), and changes nothing else; transient ones answer 500.
"""

import time
from datetime import UTC, datetime

import pytest
from django.core import mail

from payments import signals
from payments.models import (
    GuestSubscription,
    Invoice,
    StripeCheckoutEvent,
    StripeEventFailure,
    Subscription,
)
from payments.testing.factories import GuestSubscriptionFactory, SubscriptionFactory
from tests.mail_backends import use_mail_backend
from tests.webhooks import stripe_events as se

pytestmark = pytest.mark.django_db

NOW = int(time.time())


def subscription_event(event_type, record_id, price_id, *, created=NOW, **state):
    return se.event(
        event_type, se.subscription(record_id, price_id=price_id, **state), created=created
    )


def rejected_row(response, reason):
    assert response.status_code == 200
    assert response.json()["result"] == "rejected"
    row = StripeCheckoutEvent.objects.get()
    assert (row.outcome, row.reason) == ("rejected", reason)
    return row


class TestSignatureTolerance:
    def test_a_signature_from_the_future_is_refused(self, webhook, tier):
        response = webhook(se.event("ping.test", {"id": "x"}), timestamp=int(time.time()) + 330)

        assert response.status_code == 400
        assert not StripeCheckoutEvent.objects.exists()

    def test_a_signature_a_little_ahead_passes(self, webhook, tier):
        response = webhook(se.event("ping.test", {"id": "x"}), timestamp=int(time.time()) + 60)

        assert response.status_code == 200


class TestValuesThatCannotBeStored:
    def test_a_nul_in_the_event_id_is_a_400(self, webhook):
        response = webhook(se.event("invoice.paid", {"id": "in_1"}, id="evt_\x00"))

        assert response.status_code == 400
        assert not StripeCheckoutEvent.objects.exists()

    @pytest.mark.parametrize("created", [10**20, -1, "1700000000", True])
    def test_an_impossible_created_is_a_400(self, webhook, created):
        response = webhook(se.event("invoice.paid", {"id": "in_1"}, created=created))

        assert response.status_code == 400
        assert not StripeCheckoutEvent.objects.exists()

    def test_a_nul_in_a_field_a_handler_stores_is_rejected(self, webhook, stripe_sale):
        checkout = stripe_sale()[0]
        checkout["data"]["object"]["customer_details"]["email"] = "a\x00@example.com"

        row = rejected_row(webhook(checkout), "malformed")

        assert "customer_details.email" in row.reason_detail
        assert not GuestSubscription.objects.exists()

    def test_a_nul_elsewhere_is_kept_out_of_the_stored_payload(self, webhook, stripe_sale):
        checkout = stripe_sale()[0]
        checkout["data"]["object"]["customer_details"]["email"] = "a\x00@example.com"

        webhook(checkout)

        stored = StripeCheckoutEvent.objects.get().payload
        assert stored["data"]["object"]["customer_details"]["email"] == "a\ufffd@example.com"

    def test_a_text_too_long_for_its_column_is_rejected(self, webhook, stripe_sale):
        checkout = stripe_sale()[0]
        checkout["data"]["object"]["customer_details"]["email"] = "a" * 300 + "@example.com"

        rejected_row(webhook(checkout), "malformed")
        assert not GuestSubscription.objects.exists()

    @pytest.mark.parametrize("period_end", [10**13, "soon", -5])
    def test_a_timestamp_out_of_range_is_rejected(self, webhook, tier, period_end):
        record = SubscriptionFactory(tier=tier, status="active")
        event = subscription_event(
            "customer.subscription.updated",
            record.stripe_subscription_id,
            tier.stripe_price_id_test,
            status="past_due",
        )
        event["data"]["object"]["items"]["data"][0]["current_period_end"] = period_end

        rejected_row(webhook(event), "malformed")
        record.refresh_from_db()
        assert record.status == "active"

    @pytest.mark.parametrize("mutation", ["no id", "status is a number", "items not a list"])
    def test_a_subscription_lacking_or_mistyping_a_field_is_rejected(self, webhook, tier, mutation):
        record = SubscriptionFactory(tier=tier, status="active")
        event = subscription_event(
            "customer.subscription.updated",
            record.stripe_subscription_id,
            tier.stripe_price_id_test,
            status="canceled",
        )
        obj = event["data"]["object"]
        if mutation == "no id":
            del obj["id"]
        elif mutation == "status is a number":
            obj["status"] = 3
        else:
            obj["items"] = {"data": "nope"}

        rejected_row(webhook(event), "malformed")
        record.refresh_from_db()
        assert record.status == "active"
        assert not StripeEventFailure.objects.exists()


class TestOrder:
    def test_canceled_stays_canceled_whatever_comes_in_the_same_second(self, webhook, tier):
        record = GuestSubscriptionFactory(tier=tier, status="active", stripe_state_at=None)
        sub_id, price = record.stripe_subscription_id, tier.stripe_price_id_test

        webhook(
            subscription_event("customer.subscription.deleted", sub_id, price, status="canceled")
        )
        webhook(subscription_event("customer.subscription.updated", sub_id, price, status="active"))
        webhook(
            subscription_event(
                "customer.subscription.updated", sub_id, price, status="active", created=NOW + 60
            )
        )

        record.refresh_from_db()
        assert record.status == "canceled"
        assert not record.grants_access

    @pytest.mark.parametrize("arrival", ["past_due first", "active first"])
    def test_in_one_second_the_later_lifecycle_state_wins(self, webhook, tier, arrival):
        record = SubscriptionFactory(tier=tier, status="active", stripe_state_at=None)
        sub_id, price = record.stripe_subscription_id, tier.stripe_price_id_test
        statuses = ["past_due", "active"] if arrival == "past_due first" else ["active", "past_due"]

        for status in statuses:
            webhook(
                subscription_event("customer.subscription.updated", sub_id, price, status=status)
            )

        record.refresh_from_db()
        assert record.status == "past_due"

    def test_a_subscription_event_never_overwrites_the_access_link_fields(self, webhook, tier):
        record = GuestSubscriptionFactory(tier=tier, status="active", stripe_state_at=None)
        stale = GuestSubscription.objects.get(pk=record.pk)  # what a handler might hold
        GuestSubscription.objects.filter(pk=record.pk).update(
            token_hash="f" * 64, access_link_sent_at=datetime.now(tz=UTC)
        )
        assert stale.access_link_sent_at is None

        webhook(
            subscription_event(
                "customer.subscription.updated",
                record.stripe_subscription_id,
                tier.stripe_price_id_test,
                status="past_due",
            )
        )

        record.refresh_from_db()
        assert (record.status, record.token_hash) == ("past_due", "f" * 64)
        assert record.access_link_sent_at is not None


def test_a_rejected_early_event_does_not_spoil_its_checkout(webhook, stripe_sale):
    checkout, created, _ = stripe_sale()
    created["data"]["object"]["status"] = {"not": "a status"}
    assert webhook(created).json()["result"] == "rejected"

    assert webhook(checkout).json()["result"] == "processed"

    assert GuestSubscription.objects.get().status == "active"


class TestSignals:
    @pytest.fixture
    def received(self):
        calls = []

        def receiver(sender, **kwargs):
            calls.append((sender, kwargs))

        signals.subscription_changed.connect(receiver)
        signals.invoice_issued.connect(receiver)
        yield calls
        signals.subscription_changed.disconnect(receiver)
        signals.invoice_issued.disconnect(receiver)

    def test_a_sale_tells_the_site_after_the_commit(self, webhook, stripe_sale, received):
        for event in stripe_sale():
            webhook(event)

        kinds = [(sender, sorted(kwargs)) for sender, kwargs in received]
        assert (GuestSubscription, ["previous_status", "signal", "subscription"]) in kinds
        assert (Invoice, ["invoice", "signal"]) in kinds
        new = [k for s, k in received if s is GuestSubscription][0]
        assert new["previous_status"] == ""

    def test_a_status_change_names_the_previous_status(self, webhook, tier, received):
        record = SubscriptionFactory(tier=tier, status="active", stripe_state_at=None)
        webhook(
            subscription_event(
                "customer.subscription.updated",
                record.stripe_subscription_id,
                tier.stripe_price_id_test,
                status="past_due",
            )
        )

        [(sender, kwargs)] = received
        assert sender is Subscription
        assert kwargs["previous_status"] == "active"
        assert kwargs["subscription"].status == "past_due"

    def test_a_raising_receiver_never_changes_the_answer(self, webhook, stripe_sale, caplog):
        def broken(sender, **kwargs):
            raise RuntimeError("the site's receiver broke")

        calls = []
        signals.invoice_issued.connect(broken)
        signals.invoice_issued.connect(
            lambda sender, **kw: calls.append(kw), weak=False, dispatch_uid="t"
        )
        try:
            answers = [webhook(event).status_code for event in stripe_sale()]
        finally:
            signals.invoice_issued.disconnect(broken)
            signals.invoice_issued.disconnect(dispatch_uid="t")

        assert answers == [200, 200, 200]
        assert Invoice.objects.count() == 1
        assert len(calls) == 1  # the other receiver still ran
        assert "the site's receiver broke" in caplog.text

    def test_nothing_is_sent_for_a_rolled_back_change(self, webhook, stripe_sale, received):
        checkout = stripe_sale()[0]
        checkout["data"]["object"]["customer_details"]["email"] = "x" * 300

        webhook(checkout)

        assert received == []


class TestCheckoutAlone:
    def test_the_subscription_is_read_once_for_its_state(self, webhook, stripe_sale, fake_stripe):
        checkout = stripe_sale()[0]

        webhook(checkout)

        guest = GuestSubscription.objects.get()
        subscription_id = checkout["data"]["object"]["subscription"]
        stripe_end = fake_stripe.state.retrieve("subscription", subscription_id)["items"]["data"][
            0
        ]["current_period_end"]
        assert guest.status == "active"
        assert guest.current_period_end == datetime.fromtimestamp(stripe_end, tz=UTC)
        assert len(fake_stripe.requests_to("GET", f"/v1/subscriptions/{subscription_id}")) == 1

    def test_no_read_when_a_subscription_event_came_first(self, webhook, stripe_sale, fake_stripe):
        checkout, created, _ = stripe_sale()
        webhook(created)

        webhook(checkout)

        subscription_id = checkout["data"]["object"]["subscription"]
        assert fake_stripe.requests_to("GET", f"/v1/subscriptions/{subscription_id}") == []
        assert GuestSubscription.objects.get().current_period_end is not None

    def test_an_invoice_issued_first_without_email_takes_the_checkouts(self, webhook, stripe_sale):
        checkout, _, paid = stripe_sale(email="late@example.com")
        paid["data"]["object"]["customer_email"] = None
        webhook(paid)
        assert Invoice.objects.get().email == ""

        webhook(checkout)

        invoice = Invoice.objects.get()
        assert invoice.email == "late@example.com"
        assert invoice.emailed_at is not None
        assert [m.to for m in se.invoice_emails()] == [["late@example.com"]]


class TestPaymentFailed:
    def failed(self, fake_stripe, stripe_sale, webhook, user=None):
        events = stripe_sale(user=user, email=getattr(user, "email", "buyer@example.com"))
        for event in events:
            webhook(event)
        subscription_id = events[0]["data"]["object"]["subscription"]
        invoice = fake_stripe.state.retrieve("invoice", events[2]["data"]["object"]["id"])
        fake_stripe.state.objects["subscription"][subscription_id]["status"] = "past_due"
        mail.outbox.clear()
        return se.event("invoice.payment_failed", invoice)

    def test_the_status_follows_and_one_email_per_invoice(
        self, webhook, stripe_sale, fake_stripe, client
    ):
        event = self.failed(fake_stripe, stripe_sale, webhook)

        webhook(event)
        webhook({**event, "id": se.unique("evt")})  # Stripe's next failed attempt

        assert GuestSubscription.objects.get().status == "past_due"
        [message] = mail.outbox
        assert message.to == ["buyer@example.com"]
        link = next(w for w in message.body.split() if "stripe_customer_portal" in w)
        assert "token=" in link
        response = client.get(link)  # the token is remembered and leaves the URL
        assert response.status_code == 302 and "token=" not in response["Location"]
        response = client.get(response["Location"])
        assert response.status_code == 302
        assert response["Location"].startswith(fake_stripe.url)

    def test_the_email_is_german_for_a_german_buyer(self, webhook, stripe_sale, fake_stripe):
        event = self.failed(fake_stripe, stripe_sale, webhook)
        GuestSubscription.objects.update(language="de")

        webhook(event)

        [message] = mail.outbox
        assert "Zahlung" in message.subject


class TestFakeStripeLikeTheRealOne:
    def test_subscription_events_before_the_checkout(self, fake_stripe, stripe_sale, client):
        fake_stripe.deliver_webhooks_to_client(client, se.WEBHOOK_URL, se.SECRET)
        events = stripe_sale()

        deliveries = fake_stripe.deliver(
            fake_stripe.in_order(events, "customer.subscription.created", "invoice.paid")
        )

        assert [d.event_type for d in deliveries] == [
            "customer.subscription.created",
            "invoice.paid",
            "checkout.session.completed",
        ]
        assert {d.status for d in deliveries} == {200}
        guest = GuestSubscription.objects.get()
        assert guest.current_period_end is not None
        assert Invoice.objects.get().guest_subscription == guest

    def test_an_older_api_version_shapes_events_and_answers(
        self, fake_stripe, stripe_sale, client, settings
    ):
        settings.PAYMENTS = {**settings.PAYMENTS, "STRIPE_API_VERSION": "2024-06-20"}
        fake_stripe.use_api_version("2024-06-20")
        fake_stripe.deliver_webhooks_to_client(client, se.WEBHOOK_URL, se.SECRET)
        events = stripe_sale()

        deliveries = fake_stripe.deliver(events)

        assert {d.status for d in deliveries} == {200}
        stored = StripeCheckoutEvent.objects.get(event_type="customer.subscription.created")
        assert stored.payload["data"]["object"]["current_period_end"]
        assert "current_period_end" not in stored.payload["data"]["object"]["items"]["data"][0]
        paid = StripeCheckoutEvent.objects.get(event_type="invoice.paid").payload
        assert paid["data"]["object"]["subscription"] and "parent" not in paid["data"]["object"]
        guest = GuestSubscription.objects.get()
        assert guest.current_period_end is not None
        assert Invoice.objects.get().guest_subscription == guest

    def test_the_portal_without_a_saved_configuration_is_a_400(self, fake_stripe):
        customer = fake_stripe.create_customer()
        fake_stripe.state.portal_configured = False
        import stripe

        client = stripe.StripeClient("sk_test_x", base_addresses={"api": fake_stripe.url})
        with pytest.raises(stripe.InvalidRequestError) as error:
            client.v1.billing_portal.sessions.create(params={"customer": customer["id"]})
        assert error.value.http_status == 400
        assert "default configuration has not been created" in str(error.value)

    def test_unknown_objects_are_a_404_resource_missing(self, fake_stripe):
        import stripe

        client = stripe.StripeClient("sk_test_x", base_addresses={"api": fake_stripe.url})
        with pytest.raises(stripe.InvalidRequestError) as error:
            client.v1.subscriptions.retrieve("sub_nope")
        assert (error.value.http_status, error.value.code) == (404, "resource_missing")


class TestBoundedInlineWork:
    def test_a_hanging_lexoffice_is_left_to_the_retry(self, webhook, stripe_sale, fake_lexoffice):
        """The fake holds the answer longer than the inline read timeout allows."""
        fake_lexoffice.timeout_next(hold=4.0, commit=True, method="POST", path="/v1/vouchers")
        checkout, _, paid = stripe_sale()

        assert webhook(paid).status_code == 200

        invoice = Invoice.objects.get()
        assert invoice.emailed_at is not None
        assert invoice.lexoffice_synced_at is None
        assert "in time" in invoice.lexoffice_error
        from payments.invoicing.delivery import undelivered

        assert invoice in undelivered()


class TestPaymentFailureRetry:
    def test_an_unsent_notice_is_retried_by_deliver_invoices(
        self, webhook, stripe_sale, fake_stripe, settings
    ):
        from io import StringIO

        from django.core.management import call_command

        from payments.models import PaymentFailureNotice

        events = stripe_sale()
        for event in events:
            webhook(event)
        invoice = fake_stripe.state.retrieve("invoice", events[2]["data"]["object"]["id"])
        mail.outbox.clear()
        use_mail_backend(settings, "tests.webhooks.failing_mail.EmailBackend")
        webhook(se.event("invoice.payment_failed", invoice))
        notice = PaymentFailureNotice.objects.get()
        assert notice.emailed_at is None and "mail server down" in notice.email_error

        use_mail_backend(settings, "django.core.mail.backends.locmem.EmailBackend")
        out = StringIO()
        call_command("deliver_invoices", stdout=out)

        notice.refresh_from_db()
        assert notice.emailed_at is not None
        [message] = mail.outbox
        assert "stripe_customer_portal" in message.body
        assert "1 payment-failure emails retried" in out.getvalue()


@pytest.mark.parametrize("api_version", ["2025-09-30.clover", "2024-06-20"])
class TestStripesPublishedShapes:
    """Stripe's own example objects (OpenAPI fixtures), in today's and a pre-basil shape."""

    def shaped(self, name, api_version, **overrides):
        from payments.testing.fake_stripe.versions import shaped_for

        return shaped_for(se.resource(name, **overrides), api_version)

    def post(self, webhook, event_type, obj, api_version, **envelope):
        return webhook(se.event(event_type, obj, api_version=api_version, **envelope))

    def test_subscription_events_apply(self, webhook, tier, api_version):
        record = SubscriptionFactory(tier=tier, status="active", stripe_state_at=None)
        obj = self.shaped(
            "subscription", api_version, id=record.stripe_subscription_id, status="past_due"
        )

        response = self.post(webhook, "customer.subscription.updated", obj, api_version)

        assert response.status_code == 200
        record.refresh_from_db()
        assert record.status == "past_due"
        assert record.current_period_end is not None

    def test_an_invoice_of_a_known_subscription_is_issued(self, webhook, tier, api_version):
        record = SubscriptionFactory(tier=tier)
        invoice = se.invoice(subscription_id=record.stripe_subscription_id)
        from payments.testing.fake_stripe.versions import shaped_for

        response = self.post(webhook, "invoice.paid", shaped_for(invoice, api_version), api_version)

        assert response.status_code == 200
        assert Invoice.objects.get().subscription == record

    @pytest.mark.parametrize(
        "event_type, name",
        [
            ("checkout.session.completed", "checkout.session"),
            ("customer.subscription.created", "subscription"),
            ("customer.subscription.deleted", "subscription"),
            ("invoice.paid", "invoice"),
            ("invoice.payment_failed", "invoice"),
        ],
    )
    @pytest.mark.parametrize("connected", [False, True], ids=["platform", "connect"])
    def test_no_published_shape_answers_500(
        self, webhook, fake_stripe, api_version, event_type, name, connected
    ):
        obj = self.shaped(name, api_version)
        envelope = {"account": "acct_1Connected"} if connected else {}

        response = self.post(webhook, event_type, obj, api_version, **envelope)

        assert response.status_code == 200
        assert not StripeEventFailure.objects.exists()
        if connected:
            assert StripeCheckoutEvent.objects.get().reason == "connected_account"
        assert not Invoice.objects.exists()
