"""The fake's invoice preview, against Stripe's published invoice object."""

import json
from pathlib import Path

import pytest
import stripe

from payments.services.stripe_api import stripe_client, to_dict

FIXTURE_FILE = Path("/work/shared/reference/stripe-openapi-fixtures3.json")


@pytest.fixture
def subscription(fake_stripe):
    old = fake_stripe.create_price(1000, product_name="Reader")
    new = fake_stripe.create_price(2000, product_name="Premium")
    session = fake_stripe.create_checkout_session(old["id"], customer_email="a@example.com")
    events = fake_stripe.complete_checkout(session["id"], deliver=False)
    return events[1]["data"]["object"], new


def preview(subscription, price, **details):
    item = subscription["items"]["data"][0]
    return to_dict(
        stripe_client().v1.invoices.create_preview(
            params={
                "subscription": subscription["id"],
                "subscription_details": {"items": [{"id": item["id"], "price": price}], **details},
            }
        )
    )


def test_a_preview_has_the_shape_of_stripes_invoice(fake_stripe, subscription):
    sub, new = subscription

    invoice = preview(sub, new["id"])

    published = json.loads(FIXTURE_FILE.read_text())["resources"]["invoice"]
    assert set(invoice) <= set(published), set(invoice) - set(published)
    assert set(invoice["lines"]["data"][0]) <= set(published["lines"]["data"][0]) | {"id"}
    assert invoice["object"] == "invoice"
    assert invoice["status"] == "draft"
    assert invoice["id"].startswith("upcoming_in_")


def test_create_prorations_previews_the_upcoming_invoice(fake_stripe, subscription):
    sub, new = subscription
    item = sub["items"]["data"][0]
    start, end = item["current_period_start"], item["current_period_end"]
    halfway = (start + end) // 2

    invoice = preview(sub, new["id"], proration_date=halfway)

    lines = invoice["lines"]["data"]
    prorations = [
        line for line in lines if line["parent"]["subscription_item_details"]["proration"]
    ]
    assert [line["amount"] for line in prorations] == [-500, 1000]  # half of each price
    assert all(line["period"] == {"start": halfway, "end": end} for line in prorations)
    (next_period,) = [line for line in lines if line not in prorations]
    assert next_period["amount"] == 2000
    assert invoice["subtotal"] == 2500
    assert invoice["amount_due"] == invoice["total"] == 2500 + 475  # 19 % of the fake
    assert invoice["next_payment_attempt"] == end


def test_always_invoice_previews_only_the_prorations(fake_stripe, subscription):
    sub, new = subscription
    item = sub["items"]["data"][0]
    halfway = (item["current_period_start"] + item["current_period_end"]) // 2

    invoice = preview(sub, new["id"], proration_date=halfway, proration_behavior="always_invoice")

    assert [line["amount"] for line in invoice["lines"]["data"]] == [-500, 1000]
    assert invoice["subtotal"] == 500


def test_a_preview_changes_and_stores_nothing(fake_stripe, subscription):
    sub, new = subscription
    before = fake_stripe.state.retrieve_subscription(sub["id"])
    invoices, events = len(fake_stripe.state.all("invoice")), len(fake_stripe.events)

    preview(sub, new["id"])

    assert fake_stripe.state.retrieve_subscription(sub["id"]) == before
    assert len(fake_stripe.state.all("invoice")) == invoices
    assert len(fake_stripe.events) == events


def test_a_preview_is_refused_like_stripe_refuses(fake_stripe, subscription):
    sub, new = subscription
    item = sub["items"]["data"][0]

    with pytest.raises(stripe.InvalidRequestError, match="subscription"):
        stripe_client().v1.invoices.create_preview(params={})
    with pytest.raises(stripe.InvalidRequestError, match="No such subscription item"):
        stripe_client().v1.invoices.create_preview(
            params={
                "subscription": sub["id"],
                "subscription_details": {"items": [{"id": "si_nope", "price": new["id"]}]},
            }
        )
    with pytest.raises(stripe.InvalidRequestError, match="proration_date"):
        preview(sub, new["id"], proration_date=item["current_period_end"] + 86400)
    with pytest.raises(stripe.InvalidRequestError, match="proration_behavior"):
        preview(sub, new["id"], proration_behavior="sometimes")
