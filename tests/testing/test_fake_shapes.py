"""The fake's objects keep Stripe's shape, so they cannot drift from the real API.

Every key the fake returns must exist in Stripe's published example of that
resource (stripe/openapi's fixtures, ``tests/fixtures``), and, all the way down,
in the installed SDK's types (``stripe.Invoice.TotalTax`` and so on): a field the
real API does not have, or has under another name, fails here.
"""

from __future__ import annotations

import sys
import typing
from typing import Any

import pytest
import stripe

from payments.testing.fake_stripe import pages
from tests.fixtures import stripe_resources

#: The SDK class of each resource the fake makes, by its ``object`` value.
SDK_CLASSES = {
    "checkout.session": stripe.checkout.Session,
    "customer": stripe.Customer,
    "invoice": stripe.Invoice,
    "price": stripe.Price,
    "product": stripe.Product,
    "subscription": stripe.Subscription,
    "tax_rate": stripe.TaxRate,
    "event": stripe.Event,
}
LIST_KEYS = {"object", "data", "has_more", "url"}


def stripe_types(annotation: Any) -> list[type]:
    """The StripeObject classes an annotation allows (through Optional, List, unions)."""
    if isinstance(annotation, type):
        return [annotation] if issubclass(annotation, stripe.StripeObject) else []
    found = []
    for arg in typing.get_args(annotation):
        found += stripe_types(arg)
    origin = typing.get_origin(annotation)
    if isinstance(origin, type) and issubclass(origin, stripe.StripeObject):
        found.append(origin)
    return found


class SdkNames(dict):
    """Names an SDK annotation uses, looked up on ``stripe`` (which loads them lazily)."""

    def __missing__(self, name: str) -> Any:
        return getattr(stripe, name)


def hints(cls: type) -> dict[str, Any]:
    """The fields ``cls`` declares, with the SDK's string annotations resolved."""
    declared: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        module = vars(sys.modules[klass.__module__])
        for name, annotation in vars(klass).get("__annotations__", {}).items():
            if isinstance(annotation, str):
                names = SdkNames({**vars(klass), **{k: v for k, v in vars(cls).items()}})
                annotation = eval(annotation, dict(module), names)  # noqa: S307 - SDK's own
            declared[name] = annotation
    return declared


def unknown_keys(obj: dict[str, Any], cls: type, path: str) -> list[str]:
    """Keys of ``obj`` (recursively) that the SDK's ``cls`` does not declare."""
    if issubclass(cls, stripe.ListObject):
        problems = [f"{path}.{key}" for key in set(obj) - LIST_KEYS]
        return problems
    declared = hints(cls)
    problems = []
    for key, value in obj.items():
        if key == "metadata":
            continue  # the site's own keys
        if key not in declared:
            problems.append(f"{path}.{key}")
            continue
        for item in value if isinstance(value, list) else [value]:
            if not isinstance(item, dict):
                continue
            nested = stripe_types(declared[key])
            lists = [c for c in nested if issubclass(c, stripe.ListObject)]
            if lists and "data" in item:
                item_types = stripe_types(declared[key])
                element = [c for c in item_types if not issubclass(c, stripe.ListObject)]
                problems += [f"{path}.{key}.{k}" for k in set(item) - LIST_KEYS]
                for element_obj in item["data"]:
                    if element:
                        problems += unknown_keys(element_obj, element[0], f"{path}.{key}[]")
            elif nested:
                problems += unknown_keys(item, nested[0], f"{path}.{key}")
    return problems


def missing_from_example(obj: dict[str, Any], example: Any, path: str) -> list[str]:
    """Keys of ``obj`` that Stripe's example object of the resource lacks."""
    if not isinstance(example, dict):
        return []  # the example leaves this part null or empty: the SDK check covers it
    problems = []
    for key, value in obj.items():
        if key not in example:
            problems.append(f"{path}.{key}")
        elif isinstance(value, dict) and key not in ("metadata",):
            problems += missing_from_example(value, example[key], f"{path}.{key}")
    return problems


@pytest.fixture
def taxed_purchase(fake_stripe):
    """A checkout with Stripe Tax, paid on the hosted page by an Austrian business."""
    price = fake_stripe.create_price(1190, tax_behavior="inclusive")
    session = fake_stripe.create_checkout_session(price["id"], customer_email="a@example.at")
    form = {"name": "Huber GmbH", "line1": "Ring 1", "postal_code": "1010", "city": "Wien"}
    form |= {"country": "AT", "vat_id": "ATU12345678", "business_name": "Huber GmbH"}
    pages.serve(fake_stripe, "POST", f"/checkout/{session['id']}", form)
    # A second buyer, a consumer, so taxed and reverse-charged invoices are both seen.
    other = fake_stripe.create_checkout_session(price["id"], customer_email="b@example.fr")
    form = {"name": "Jean Dupont", "line1": "1 Rue", "postal_code": "75001", "city": "Paris"}
    pages.serve(fake_stripe, "POST", f"/checkout/{other['id']}", form | {"country": "FR"})
    return fake_stripe


@pytest.mark.parametrize("kind", SDK_CLASSES)
def test_every_key_the_fake_returns_exists_at_stripe(taxed_purchase, kind):
    objects = [
        {key: value for key, value in obj.items() if not key.startswith("_")}
        for obj in taxed_purchase.state.all(kind)
    ]
    assert objects, f"the purchase made no {kind}"
    example = stripe_resources()[kind]
    for obj in objects:
        outer = obj
        if kind == "event":  # the object it carries is checked as what it is, below
            outer = {**obj, "data": {k: v for k, v in obj["data"].items() if k != "object"}}
        assert missing_from_example(outer, example, kind) == []
        assert unknown_keys(outer, SDK_CLASSES[kind], kind) == []
        if kind == "event":
            inner = obj["data"]["object"]
            inner_kind = inner["object"]
            assert missing_from_example(inner, stripe_resources()[inner_kind], inner_kind) == []
            assert unknown_keys(inner, SDK_CLASSES[inner_kind], inner_kind) == []


def test_the_fake_reports_tax_in_the_current_api_shape(taxed_purchase):
    business, consumer = taxed_purchase.state.all("invoice")

    assert "total_tax_amounts" not in business  # gone since API 2025-03-31
    (reverse,) = business["total_taxes"]
    assert (reverse["amount"], reverse["taxability_reason"]) == (0, "reverse_charge")
    assert business["customer_tax_ids"] == [{"type": "eu_vat", "value": "ATU12345678"}]
    assert business["customer_address"]["country"] == "AT"
    (french,) = consumer["total_taxes"]
    assert (french["amount"], french["taxable_amount"], french["tax_behavior"]) == (
        198,
        992,
        "inclusive",
    )
    rate = taxed_purchase.state.get("tax_rate", french["tax_rate_details"]["tax_rate"])
    assert (rate["country"], rate["percentage"]) == ("FR", 20)
    session = taxed_purchase.state.all("checkout.session")[0]
    assert "tax_id_collection" not in session  # not in Stripe's example object
    assert session["customer_details"]["tax_ids"] == [{"type": "eu_vat", "value": "ATU12345678"}]
    assert session["customer_details"]["address"]["city"] == "Wien"


def test_the_check_catches_fields_stripe_does_not_have():
    invoice = {"total": 1, "total_tax_amount": 2, "total_taxes": [{"amount": 1, "rate": 19}]}
    assert sorted(unknown_keys(invoice, stripe.Invoice, "invoice")) == [
        "invoice.total_tax_amount",
        "invoice.total_taxes.rate",
    ]
    assert missing_from_example(
        {"tax_id_collection": {}}, stripe_resources()["checkout.session"], "s"
    )
