"""The real Stripe SDK, through ``stripe_client()``, against the fake over HTTP."""

from __future__ import annotations

import pytest
import requests
import stripe

from payments.exceptions import PaymentsImproperlyConfigured
from payments.services.stripe_api import stripe_client, to_dict


@pytest.fixture
def client(fake_stripe) -> stripe.StripeClient:
    return stripe_client()


@pytest.fixture
def price(client) -> stripe.Price:
    return client.v1.prices.create(
        params={
            "unit_amount": 900,
            "currency": "eur",
            "recurring": {"interval": "month"},
            "product_data": {"name": "Reader"},
        }
    )


def checkout(client, price_id: str, **extra) -> stripe.checkout.Session:
    """A session that asks for Stripe Tax, as the app's checkout does."""
    params = {
        "mode": "subscription",
        "line_items": [{"price": price_id, "quantity": 1}],
        "success_url": "https://shop.example.com/ok?session={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://shop.example.com/pricing/",
        "automatic_tax": {"enabled": True},
        **extra,
    }
    if extra.get("customer"):
        params.setdefault("customer_update", {"address": "auto", "name": "auto"})
    return client.v1.checkout.sessions.create(params=params)


def paid_subscription(fake_stripe, client, price, **extra) -> stripe.Subscription:
    session = checkout(client, price.id, customer_email="buyer@example.com", **extra)
    events = fake_stripe.complete_checkout(session.id)
    return client.v1.subscriptions.retrieve(events[1]["data"]["object"]["id"])


# -- the client ------------------------------------------------------------------------------


def test_client_sends_the_current_modes_key_to_the_configured_base(fake_stripe, client):
    client.v1.customers.create(params={"email": "a@example.com"})

    (request,) = fake_stripe.requests_to("POST", "/v1/customers")
    assert request.headers["authorization"] == "Bearer sk_test_123"
    assert request.params == {"email": "a@example.com"}


def test_client_is_reused_until_the_settings_change(fake_stripe, settings):
    first = stripe_client()
    assert stripe_client() is first

    settings.PAYMENTS = {**settings.PAYMENTS, "STRIPE_TEST_SECRET_KEY": "sk_test_other"}
    stripe_client().v1.customers.create()

    assert fake_stripe.requests[-1].headers["authorization"] == "Bearer sk_test_other"


def test_pinned_api_version_is_sent_and_echoed(fake_stripe, settings):
    settings.PAYMENTS = {**settings.PAYMENTS, "STRIPE_API_VERSION": "2025-03-31.basil"}
    response = requests.get(
        f"{fake_stripe.url}/v1/customers/cus_missing",
        headers={"Authorization": "Bearer sk_test_1", "Stripe-Version": "2025-03-31.basil"},
        timeout=5,
    )
    stripe_client().v1.customers.create()

    assert fake_stripe.requests[-1].headers["stripe-version"] == "2025-03-31.basil"
    assert response.headers["Stripe-Version"] == "2025-03-31.basil"


def test_missing_secret_key_is_a_configuration_error(settings):
    settings.PAYMENTS = {**settings.PAYMENTS, "STRIPE_TEST_SECRET_KEY": ""}
    with pytest.raises(PaymentsImproperlyConfigured, match="STRIPE_TEST_SECRET_KEY"):
        stripe_client()


def test_to_dict_gives_plain_nested_data(client, price):
    plain = to_dict(client.v1.prices.retrieve(price.id))
    assert type(plain) is dict
    assert type(plain["recurring"]) is dict
    assert plain["recurring"]["interval"] == "month"


# -- customers, prices, checkout -------------------------------------------------------------


def test_customer_create_update_retrieve(client):
    customer = client.v1.customers.create(
        params={
            "email": "firma@example.at",
            "name": "Firma GmbH",
            "address": {"country": "AT", "city": "Wien"},
            "tax_id_data": [{"type": "eu_vat", "value": "ATU12345678"}],
            "metadata": {"user_id": "7"},
        }
    )
    client.v1.customers.update(customer.id, params={"name": "Firma AG"})

    again = client.v1.customers.retrieve(customer.id)
    assert again.name == "Firma AG"
    assert again.address.country == "AT"
    assert again.metadata.to_dict() == {"user_id": "7"}
    assert "tax_ids" not in again  # an includable field, as at Stripe
    expanded = client.v1.customers.retrieve(customer.id, params={"expand": ["tax_ids"]})
    assert [t.value for t in expanded.tax_ids.data] == ["ATU12345678"]


def test_prices_list_filters_by_product(client, price):
    client.v1.prices.create(
        params={
            "unit_amount": 1900,
            "currency": "eur",
            "product_data": {"name": "Premium"},
            "recurring": {"interval": "month"},
        }
    )
    listed = client.v1.prices.list(params={"product": price.product})
    assert [p.id for p in listed.data] == [price.id]
    assert listed.data[0].unit_amount == 900


def test_checkout_session_keeps_what_the_site_sent(client, price):
    session = checkout(
        client,
        price.id,
        customer_email="buyer@example.com",
        client_reference_id="user-42",
        metadata={"tier": "reader"},
        subscription_data={"metadata": {"tier": "reader"}},
    )
    assert session.id.startswith("cs_test_")
    assert session.url.endswith(f"/checkout/{session.id}")
    assert (session.status, session.payment_status, session.mode) == (
        "open",
        "unpaid",
        "subscription",
    )

    again = client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["line_items"]})
    assert again.client_reference_id == "user-42"
    assert again.metadata.tier == "reader"
    assert again.line_items.data[0].price.id == price.id
    assert again.livemode is False


def test_checkout_with_an_unknown_price_is_refused_like_stripe(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        checkout(client, "price_nope")
    error = caught.value
    assert error.http_status == 400
    assert error.code == "resource_missing"
    assert error.param == "line_items[0][price]"
    assert "No such price: 'price_nope'" in error.user_message


def test_unknown_id_is_404_resource_missing(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.subscriptions.retrieve("sub_missing")
    assert caught.value.http_status == 404
    assert caught.value.code == "resource_missing"


def test_requests_without_a_valid_key_get_401(fake_stripe):
    bad_client = stripe.StripeClient("not-a-key", base_addresses={"api": fake_stripe.url})
    with pytest.raises(stripe.AuthenticationError):
        bad_client.v1.customers.create()

    response = requests.post(f"{fake_stripe.url}/v1/customers", timeout=5)
    assert response.status_code == 401
    assert "did not provide an API key" in response.json()["error"]["message"]
    assert fake_stripe.state.all("customer") == []


# -- idempotency -----------------------------------------------------------------------------


def test_same_idempotency_key_and_params_replays_the_first_answer(fake_stripe, client):
    options = {"idempotency_key": "signup-7"}
    first = client.v1.customers.create(params={"email": "a@example.com"}, options=options)
    second = client.v1.customers.create(params={"email": "a@example.com"}, options=options)

    assert second.id == first.id
    assert len(fake_stripe.state.all("customer")) == 1
    assert [r.idempotency_key for r in fake_stripe.requests] == ["signup-7", "signup-7"]


def test_same_idempotency_key_with_other_params_is_refused(fake_stripe, client):
    options = {"idempotency_key": "signup-8"}
    client.v1.customers.create(params={"email": "a@example.com"}, options=options)
    with pytest.raises(stripe.IdempotencyError, match="same parameters"):
        client.v1.customers.create(params={"email": "b@example.com"}, options=options)
    assert len(fake_stripe.state.all("customer")) == 1


# -- subscriptions and invoices --------------------------------------------------------------


def test_completed_checkout_leaves_an_active_subscription_with_its_period_on_the_item(
    fake_stripe, client, price
):
    subscription = paid_subscription(
        fake_stripe, client, price, subscription_data={"metadata": {"tier": "reader"}}
    )
    item = subscription["items"].data[0]
    assert subscription.status == "active"
    assert subscription.cancel_at_period_end is False
    assert subscription.metadata.tier == "reader"
    assert item.price.id == price.id and item.price.unit_amount == 900
    assert item.current_period_end > item.current_period_start
    assert subscription.latest_invoice.startswith("in_")


def test_invoice_names_subscription_price_period_and_tax(fake_stripe, client, price):
    subscription = paid_subscription(fake_stripe, client, price)
    (invoice,) = client.v1.invoices.list(params={"subscription": subscription.id}).data
    line = invoice.lines.data[0]
    item = subscription["items"].data[0]

    assert invoice.parent.subscription_details.subscription == subscription.id
    assert invoice.status == "paid" and invoice.status_transitions.paid_at
    assert (invoice.subtotal, invoice.total_excluding_tax, invoice.total) == (900, 900, 1071)
    assert invoice.customer_email == "buyer@example.com"
    assert invoice.number
    assert line.pricing.price_details.price == price.id
    assert (line.period.start, line.period.end) == (
        item.current_period_start,
        item.current_period_end,
    )
    (tax,) = invoice.total_taxes
    assert (tax.amount, tax.taxable_amount, tax.taxability_reason) == (171, 900, "standard_rated")
    rate = client.v1.tax_rates.retrieve(tax.tax_rate_details.tax_rate)
    assert rate.percentage == 19


def test_customer_with_a_vat_id_is_reverse_charged(fake_stripe, client, price):
    customer = fake_stripe.create_customer(
        "firma@example.at", name="Firma GmbH", address={"country": "AT"}, vat_id="ATU12345678"
    )
    session = checkout(client, price.id, customer=customer["id"])
    fake_stripe.complete_checkout(session.id)
    invoice = client.v1.invoices.retrieve(client.v1.checkout.sessions.retrieve(session.id).invoice)

    assert invoice.total == invoice.subtotal == 900
    assert invoice.total_taxes[0].amount == 0
    assert invoice.total_taxes[0].taxability_reason == "reverse_charge"
    assert invoice.customer_tax_ids[0].to_dict() == {"type": "eu_vat", "value": "ATU12345678"}
    assert invoice.customer_name == "Firma GmbH"
    assert invoice.customer_address.country == "AT"


def test_tax_percent_is_configurable(fake_stripe, client, price):
    fake_stripe.tax_percent = 7
    subscription = paid_subscription(fake_stripe, client, price)
    invoice = client.v1.invoices.retrieve(subscription.latest_invoice)
    assert invoice.total == 963


def test_changing_the_price_of_a_subscription(fake_stripe, client, price):
    premium = client.v1.prices.create(
        params={
            "unit_amount": 1900,
            "currency": "eur",
            "recurring": {"interval": "month"},
            "product_data": {"name": "Premium"},
        }
    )
    subscription = paid_subscription(fake_stripe, client, price)
    item_id = subscription["items"].data[0].id

    updated = client.v1.subscriptions.update(
        subscription.id,
        params={
            "items": [{"id": item_id, "price": premium.id}],
            "proration_behavior": "create_prorations",
            "metadata": {"tier": "premium"},
        },
    )

    assert updated["items"].data[0].price.id == premium.id
    assert updated.metadata.tier == "premium"
    sent = fake_stripe.requests_to("POST", f"/v1/subscriptions/{subscription.id}")[0].params
    assert sent["items"] == [{"id": item_id, "price": premium.id}]
    assert sent["proration_behavior"] == "create_prorations"
    event = fake_stripe.events[-1]
    assert event["type"] == "customer.subscription.updated"
    assert event["data"]["previous_attributes"]["items"]["data"][0]["price"]["id"] == price.id


def test_update_with_an_unknown_price_changes_nothing(fake_stripe, client, price):
    subscription = paid_subscription(fake_stripe, client, price)
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.subscriptions.update(
            subscription.id, params={"items": [{"price": "price_nope"}], "metadata": {"a": "b"}}
        )
    assert caught.value.param == "items[0][price]"
    again = client.v1.subscriptions.retrieve(subscription.id)
    assert again["items"].data[0].price.id == price.id
    assert again.metadata.to_dict() == {}


def test_cancel_at_period_end_and_resume(fake_stripe, client, price):
    subscription = paid_subscription(fake_stripe, client, price)
    canceled = client.v1.subscriptions.update(
        subscription.id, params={"cancel_at_period_end": True}
    )
    assert canceled.cancel_at_period_end is True
    assert canceled.cancel_at == canceled["items"].data[0].current_period_end
    assert canceled.status == "active"

    resumed = client.v1.subscriptions.update(
        subscription.id, params={"cancel_at_period_end": False}
    )
    assert resumed.cancel_at_period_end is False and resumed.cancel_at is None


def test_cancel_now_with_delete(fake_stripe, client, price):
    subscription = paid_subscription(fake_stripe, client, price)
    canceled = client.v1.subscriptions.cancel(subscription.id)

    assert canceled.status == "canceled" and canceled.ended_at
    assert fake_stripe.events[-1]["type"] == "customer.subscription.deleted"
    assert fake_stripe.events[-1]["request"]["id"].startswith("req_")


def test_billing_portal_session_points_at_the_fakes_portal(fake_stripe, client):
    customer = fake_stripe.create_customer()
    portal = client.v1.billing_portal.sessions.create(
        params={"customer": customer["id"], "return_url": "https://shop.example.com/account/"}
    )
    assert portal.url.startswith(f"{fake_stripe.url}/billing_portal/bps_")
    assert portal.return_url == "https://shop.example.com/account/"


def test_billing_portal_for_an_unknown_customer_is_refused(client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.billing_portal.sessions.create(params={"customer": "cus_nope"})
    assert caught.value.param == "customer"


def test_malformed_values_get_400_naming_the_param_and_create_nothing(fake_stripe, client):
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.prices.create(
            params={"unit_amount": "nine", "currency": "eur", "product_data": {"name": "X"}}
        )
    assert caught.value.param == "unit_amount"

    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.prices.create(
            params={
                "unit_amount": 900,
                "currency": "eur",
                "recurring": {"interval": "fortnight"},
                "product_data": {"name": "X"},
            }
        )
    assert caught.value.param == "recurring[interval]"
    assert fake_stripe.state.all("product") == []


def test_a_string_where_a_hash_belongs_is_a_400_not_a_crash(fake_stripe):
    response = requests.post(
        f"{fake_stripe.url}/v1/customers",
        data="metadata=oops",
        headers={
            "Authorization": "Bearer sk_test_1",
            "Content-Type": "application/x-www-form-urlencoded",
        },
        timeout=5,
    )
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert fake_stripe.state.all("customer") == []


def test_customer_and_customer_email_together_are_refused(fake_stripe, client, price):
    customer = fake_stripe.create_customer()
    with pytest.raises(stripe.InvalidRequestError) as caught:
        checkout(client, price.id, customer=customer["id"], customer_email="x@example.com")
    assert caught.value.param == "customer_email"
    assert fake_stripe.state.all("checkout.session") == []


def test_expand_replaces_ids_with_objects(fake_stripe, client, price):
    session = checkout(client, price.id, customer_email="buyer@example.com")
    fake_stripe.complete_checkout(session.id)

    expanded = client.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["subscription", "invoice", "customer"]}
    )

    assert expanded.subscription.object == "subscription"
    assert expanded.subscription["items"].data[0].price.id == price.id
    assert expanded.invoice.total == 1071
    assert expanded.customer.email == "buyer@example.com"
    with pytest.raises(stripe.InvalidRequestError, match="cannot be expanded"):
        client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["mode"]})
