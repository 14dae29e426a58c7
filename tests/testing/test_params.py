"""Stripe's bracket form encoding decodes to the structure the SDK encoded."""

from urllib.parse import urlencode

import pytest

from payments.testing.fake_stripe.params import parse_form


def test_nested_hashes_and_indexed_lists():
    body = urlencode(
        {
            "line_items[0][price]": "price_a",
            "line_items[0][quantity]": "1",
            "line_items[1][price]": "price_b",
            "subscription_data[metadata][tier]": "reader",
            "metadata[user_id]": "42",
            "mode": "subscription",
        }
    )
    assert parse_form(body) == {
        "line_items": [{"price": "price_a", "quantity": "1"}, {"price": "price_b"}],
        "subscription_data": {"metadata": {"tier": "reader"}},
        "metadata": {"user_id": "42"},
        "mode": "subscription",
    }


def test_appended_lists_keep_their_order():
    assert parse_form("expand[]=subscription&expand[]=invoice") == {
        "expand": ["subscription", "invoice"]
    }


def test_indexed_lists_sort_numerically_not_as_text():
    body = "&".join(f"items[{i}][id]=si_{i}" for i in range(12))
    assert [item["id"] for item in parse_form(body)["items"]] == [f"si_{i}" for i in range(12)]


def test_empty_values_survive_because_they_unset_fields_on_stripe():
    assert parse_form("metadata=&description=") == {"metadata": "", "description": ""}


def test_a_value_and_a_hash_under_one_name_is_rejected():
    with pytest.raises(ValueError, match="mixes"):
        parse_form("metadata=x&metadata[a]=b")
