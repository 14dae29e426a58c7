"""The fake charges VAT as Stripe does: only when asked, by the buyer's country and tax ID."""

from __future__ import annotations

import pytest
import stripe

from payments.services.stripe_api import stripe_client


@pytest.fixture
def client(fake_stripe) -> stripe.StripeClient:
    return stripe_client()


def session_params(price_id: str, **extra) -> dict:
    return {
        "mode": "subscription",
        "line_items": [{"price": price_id, "quantity": 1}],
        "success_url": "https://shop.example.com/ok/",
        "customer_email": "buyer@example.com",
        **extra,
    }


def paid_invoice(fake_stripe, client, price_id: str, country: str, vat_id: str = "", **extra):
    session = client.v1.checkout.sessions.create(params=session_params(price_id, **extra))
    details = {"address": {"country": country}}
    if vat_id:
        details["tax_id_data"] = [{"type": "eu_vat", "value": vat_id}]
    fake_stripe.complete_checkout(session.id, deliver=False, customer_details=details)
    paid = client.v1.checkout.sessions.retrieve(session.id)
    return client.v1.invoices.retrieve(paid.invoice)


AUTOMATIC = {
    "automatic_tax": {"enabled": True},
    "billing_address_collection": "required",
    "tax_id_collection": {"enabled": True},
}


def test_no_tax_unless_the_session_asks_for_it(fake_stripe, client):
    price = fake_stripe.create_price(1000)
    invoice = paid_invoice(fake_stripe, client, price["id"], "DE")
    assert (invoice.total, invoice.total_taxes) == (1000, [])


@pytest.mark.parametrize(
    ("country", "vat_id", "rate", "tax", "reason"),
    [
        ("DE", "", 19, 190, "standard_rated"),
        ("DE", "DE987654321", 19, 190, "standard_rated"),
        ("AT", "", 20, 200, "standard_rated"),
        ("FR", "", 20, 200, "standard_rated"),
        ("NL", "", 21, 210, "standard_rated"),
        ("IT", "", 22, 220, "standard_rated"),
        ("ES", "", 21, 210, "standard_rated"),
        ("AT", "ATU12345678", 0, 0, "reverse_charge"),
        ("AT", "DE987654321", 20, 200, "standard_rated"),  # not a VAT ID of Austria
        ("CH", "", 0, 0, "not_collecting"),
        ("US", "", 0, 0, "not_collecting"),
    ],
)
def test_stripe_tax_charges_by_the_buyers_country_and_vat_id(
    fake_stripe, client, country, vat_id, rate, tax, reason
):
    price = fake_stripe.create_price(1000, tax_behavior="exclusive")
    invoice = paid_invoice(fake_stripe, client, price["id"], country, vat_id, **AUTOMATIC)

    (entry,) = invoice.total_taxes
    assert (entry.amount, entry.taxable_amount, entry.taxability_reason) == (tax, 1000, reason)
    assert (invoice.total_excluding_tax, invoice.total) == (1000, 1000 + tax)
    assert invoice.automatic_tax.enabled is True
    tax_rate = client.v1.tax_rates.retrieve(entry.tax_rate_details.tax_rate)
    assert tax_rate.percentage == rate


def test_inclusive_prices_take_the_vat_out_of_the_price(fake_stripe, client):
    price = fake_stripe.create_price(1190, tax_behavior="inclusive")
    invoice = paid_invoice(fake_stripe, client, price["id"], "AT", **AUTOMATIC)

    (entry,) = invoice.total_taxes
    assert (entry.amount, entry.taxable_amount, entry.tax_behavior) == (198, 992, "inclusive")
    assert (invoice.subtotal, invoice.total_excluding_tax, invoice.total) == (1190, 992, 1190)
    assert invoice.lines.data[0].taxes[0].amount == 198


def test_dynamic_tax_rates_apply_the_rate_of_the_buyers_country(fake_stripe, client):
    rates = {
        country: client.v1.tax_rates.create(
            params={
                "display_name": "USt.",
                "percentage": pct,
                "inclusive": False,
                "country": country,
            }
        )
        for country, pct in (("DE", 19), ("AT", 20))
    }
    price = fake_stripe.create_price(1000, tax_behavior="exclusive")
    item = {
        "price": price["id"],
        "quantity": 1,
        "dynamic_tax_rates": [r.id for r in rates.values()],
    }

    austrian = paid_invoice(fake_stripe, client, price["id"], "AT", line_items=[item])
    swiss = paid_invoice(fake_stripe, client, price["id"], "CH", line_items=[item])

    assert austrian.total_taxes[0].tax_rate_details.tax_rate == rates["AT"].id
    assert austrian.total == 1200
    assert (swiss.total, swiss.total_taxes) == (1000, [])  # no rate for Switzerland


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"automatic_tax": {"enabled": True}}, "customer_update[address]"),
        ({"tax_id_collection": {"enabled": True}}, "tax_id_collection[enabled]"),
    ],
)
def test_an_existing_customer_needs_customer_update_as_at_stripe(fake_stripe, client, extra, param):
    customer = fake_stripe.create_customer("ada@example.com")
    price = fake_stripe.create_price(1000)
    params = session_params(price["id"], **extra)
    params.pop("customer_email")
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.checkout.sessions.create(params={**params, "customer": customer["id"]})
    assert refused.value.param == param

    params["customer_update"] = {"address": "auto", "name": "auto"}
    assert client.v1.checkout.sessions.create(params={**params, "customer": customer["id"]})


def test_automatic_tax_and_dynamic_tax_rates_together_are_refused(fake_stripe, client):
    price = fake_stripe.create_price(1000)
    item = {"price": price["id"], "quantity": 1, "dynamic_tax_rates": ["txr_1"]}
    with pytest.raises(stripe.InvalidRequestError, match="dynamic_tax_rates"):
        client.v1.checkout.sessions.create(
            params=session_params(price["id"], line_items=[item], **AUTOMATIC)
        )


def test_what_the_buyer_types_reaches_an_existing_customer_with_customer_update(
    fake_stripe, client
):
    customer = fake_stripe.create_customer("firma@example.at")
    price = fake_stripe.create_price(1000)
    session = fake_stripe.create_checkout_session(price["id"], customer=customer["id"])
    address = {"line1": "Ring 1", "postal_code": "1010", "city": "Wien", "country": "AT"}
    fake_stripe.complete_checkout(
        session["id"],
        deliver=False,
        customer_details={
            "name": "Huber GmbH",
            "address": address,
            "tax_id_data": [{"type": "eu_vat", "value": "ATU12345678"}],
        },
    )

    invoice = fake_stripe.state.all("invoice")[0]
    assert invoice["customer_name"] == "Huber GmbH"
    assert invoice["customer_address"]["city"] == "Wien"
    assert invoice["customer_tax_ids"] == [{"type": "eu_vat", "value": "ATU12345678"}]
    assert invoice["total_taxes"][0]["taxability_reason"] == "reverse_charge"


def test_a_renewal_is_taxed_like_the_first_invoice(fake_stripe, client):
    price = fake_stripe.create_price(1000, tax_behavior="exclusive")
    first = paid_invoice(fake_stripe, client, price["id"], "AT", **AUTOMATIC)
    fake_stripe.renew_subscription(first.parent.subscription_details.subscription, deliver=False)

    renewal = fake_stripe.state.all("invoice")[-1]
    assert renewal["billing_reason"] == "subscription_cycle"
    assert renewal["total"] == first.total == 1200
