"""Stand-ins for Stripe's hosted pages: Checkout and the billing portal.

They are deliberately plain: enough for a newcomer to buy a tier in the demo and
for tests to press the same buttons a buyer presses. Everything shown is escaped.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any

from payments.testing.fake_stripe.state import StripeError, StripeObject

if TYPE_CHECKING:
    from payments.testing.fake_stripe.server import FakeStripe

_CHECKOUT = re.compile(r"/checkout/(?P<session>cs_\w+)")
_PORTAL = re.compile(r"/billing_portal/(?P<session>bps_\w+)")
_PORTAL_ACTION = re.compile(
    r"/billing_portal/(?P<session>bps_\w+)/subscriptions/(?P<subscription>sub_\w+)/"
    r"(?P<action>cancel|resume)"
)


@dataclass(frozen=True)
class Page:
    html: str = ""
    status: int = 200
    redirect: str = ""


def serve(fake: FakeStripe, method: str, path: str, form: dict[str, Any]) -> Page:
    """The page for ``method path``, or what pressing its button does."""
    if match := _CHECKOUT.fullmatch(path):
        session_id = match["session"]
        if method == "POST":
            return pay(fake, session_id, form)
        return checkout_page(fake, session_id)
    if match := _PORTAL_ACTION.fullmatch(path):
        if method == "POST":
            return portal_action(fake, match["session"], match["subscription"], match["action"])
    elif match := _PORTAL.fullmatch(path):
        return portal_page(fake, match["session"])
    return Page(_document("Not found", "<p>No such page.</p>"), status=404)


def error_page(error: StripeError) -> Page:
    return Page(_document("Error", f"<p>{escape(str(error))}</p>"), status=error.status)


# -- checkout --------------------------------------------------------------------------------


def checkout_page(fake: FakeStripe, session_id: str) -> Page:
    session = _session(fake, session_id)
    if session["status"] == "complete":
        return Page(redirect=_success_url(session))
    lines = fake.state.checkout_line_items(session_id)["data"]
    rows = "".join(
        f"<tr><td>{escape(line['description'])}</td>"
        f"<td>{escape(_money(line['amount_total'], line['currency']))}"
        f" / {escape(line['price']['recurring']['interval'])}</td></tr>"
        for line in lines
    )
    email = session["customer_email"] or ""
    email_field = (
        f'<input type="email" name="email" value="{escape(email)}" readonly>'
        if email or session["customer"]
        else '<input type="email" name="email" required>'
    )
    text = _checkout_text(session.get("locale"))
    cancel = (
        f'<p><a href="{escape(session["cancel_url"])}">{text["cancel"]}</a></p>'
        if session["cancel_url"]
        else ""
    )
    body = f"""
<h1>{text["title"]}</h1>
<table>{rows}</table>
<form method="post">
  <label>{text["email"]} {email_field}</label>
  {_buyer_fields(session, text)}
  <button type="submit">{text["pay"]}</button>
</form>
{cancel}
<p class="note">{text["note"]}</p>"""
    return Page(_document("Checkout", body))


#: The hosted page speaks the session's ``locale`` as Stripe's does (English otherwise).
CHECKOUT_TEXT = {
    "en": {
        "title": "Subscribe",
        "email": "Email",
        "name": "Name",
        "line1": "Address line 1",
        "line2": "Address line 2 (optional)",
        "postal_code": "Postal code",
        "city": "City",
        "country": "Country",
        "business": "I'm purchasing as a business",
        "business_name": "Business name",
        "vat_id": "VAT ID (EU)",
        "pay": "Pay",
        "cancel": "Cancel and go back",
        "note": "Fake Stripe: no card is charged.",
    },
    "de": {
        "title": "Abonnieren",
        "email": "E-Mail",
        "name": "Name",
        "line1": "Adresszeile 1",
        "line2": "Adresszeile 2 (optional)",
        "postal_code": "Postleitzahl",
        "city": "Ort",
        "country": "Land",
        "business": "Ich kaufe als Unternehmen",
        "business_name": "Name des Unternehmens",
        "vat_id": "USt-IdNr. (EU)",
        "pay": "Bezahlen",
        "cancel": "Abbrechen und zurück",
        "note": "Fake Stripe: Es wird keine Karte belastet.",
    },
}
#: The billing address fields the page asks for with ``billing_address_collection=required``.
ADDRESS_FIELDS = (("line1", True), ("line2", False), ("postal_code", True), ("city", True))


def _checkout_text(locale: str | None) -> dict[str, str]:
    return CHECKOUT_TEXT.get((locale or "").split("-")[0], CHECKOUT_TEXT["en"])


def _buyer_fields(session: StripeObject, text: dict[str, str]) -> str:
    """Only what the session asked for: the country always (for the card), the name
    and full billing address when required, a tax ID when tax ID collection is on."""
    fields = []
    if session["billing_address_collection"] == "required":
        fields.append(f'<label>{text["name"]} <input name="name" required></label>')
        fields += [
            f'<label>{text[name]} <input name="{name}"{" required" if needed else ""}></label>'
            for name, needed in ADDRESS_FIELDS
        ]
    fields.append(
        f'<label>{text["country"]} <input name="country" value="DE" maxlength="2" required></label>'
    )
    if session["_tax"]["tax_id_collection"]:
        fields.append(
            f'<label>{text["business"]} <input type="checkbox" name="business"></label>'
            f'<label>{text["business_name"]} <input name="business_name"></label>'
            f'<label>{text["vat_id"]} <input name="vat_id"></label>'
        )
    return "\n  ".join(fields)


def pay(fake: FakeStripe, session_id: str, form: dict[str, Any]) -> Page:
    """Complete the session (events go to the site first), then return to the site."""
    session = _session(fake, session_id)
    if session["status"] == "open":
        details = _customer_details(session, form)
        missing = _missing_fields(session, form)
        if missing:
            return Page(
                _document("Checkout", f"<p>Please fill in: {escape(', '.join(missing))}.</p>"),
                status=400,
            )
        fake.complete_checkout(session_id, customer_details=details)
        session = fake.state.retrieve("checkout.session", session_id)
    return Page(redirect=_success_url(session))


def _missing_fields(session: StripeObject, form: dict[str, Any]) -> list[str]:
    required = ["country"]
    if session["billing_address_collection"] == "required":
        required += ["name", *(name for name, needed in ADDRESS_FIELDS if needed)]
    return [name for name in required if not str(form.get(name) or "").strip()]


def _customer_details(session: StripeObject, form: dict[str, Any]) -> dict[str, Any]:
    details: dict[str, Any] = {"email": form.get("email") or None}
    name = form.get("business_name") or form.get("name")
    if name:
        details["name"] = name
    address = {"country": str(form.get("country") or "").upper() or None}
    if session["billing_address_collection"] == "required":
        address |= {key: form.get(key) or None for key, _ in ADDRESS_FIELDS}
    details["address"] = address
    if session["_tax"]["tax_id_collection"] and form.get("vat_id"):
        details["tax_id_data"] = [{"type": "eu_vat", "value": form["vat_id"].replace(" ", "")}]
    return details


def _session(fake: FakeStripe, session_id: str) -> StripeObject:
    """The session with what it asked to collect (``_tax``, kept off the API's object)."""
    with fake.state.lock:
        stored = fake.state.get("checkout.session", session_id, param="session")
        return {**fake.state.retrieve("checkout.session", session_id), "_tax": stored["_tax"]}


def _success_url(session: StripeObject) -> str:
    return (session["success_url"] or "").replace("{CHECKOUT_SESSION_ID}", session["id"])


# -- billing portal --------------------------------------------------------------------------


def portal_page(fake: FakeStripe, portal_id: str) -> Page:
    portal = fake.state.retrieve("billing_portal.session", portal_id)
    subscriptions = fake.state.list_subscriptions({"customer": portal["customer"]})["data"]
    rows = "".join(_subscription_row(fake, portal_id, s) for s in subscriptions)
    back = (
        f'<p><a href="{escape(portal["return_url"])}">Return to the site</a></p>'
        if portal["return_url"]
        else ""
    )
    body = f"<h1>Your subscriptions</h1><ul>{rows or '<li>No subscriptions.</li>'}</ul>{back}"
    return Page(_document("Billing portal", body))


def _subscription_row(fake: FakeStripe, portal_id: str, subscription: StripeObject) -> str:
    item = subscription["items"]["data"][0]
    product = fake.state.retrieve("product", item["price"]["product"])
    period_end = time.strftime("%Y-%m-%d", time.gmtime(item["current_period_end"]))
    action = "resume" if subscription["cancel_at_period_end"] else "cancel"
    label = "Resume subscription" if action == "resume" else "Cancel at period end"
    state = f"ends on {period_end}" if action == "resume" else f"renews on {period_end}"
    url = f"/billing_portal/{portal_id}/subscriptions/{subscription['id']}/{action}"
    return (
        f"<li>{escape(product['name'])}: "
        f"{escape(_money(item['price']['unit_amount'], item['price']['currency']))}, "
        f"{escape(subscription['status'])}, {escape(state)}"
        f'<form method="post" action="{escape(url)}"><button type="submit">{label}</button>'
        "</form></li>"
    )


def portal_action(fake: FakeStripe, portal_id: str, subscription_id: str, action: str) -> Page:
    portal = fake.state.retrieve("billing_portal.session", portal_id)
    subscription = fake.state.retrieve("subscription", subscription_id)
    if subscription["customer"] != portal["customer"]:
        return Page(_document("Not found", "<p>No such subscription.</p>"), status=404)
    fake.update_subscription(subscription_id, cancel_at_period_end=action == "cancel")
    return Page(redirect=f"/billing_portal/{portal_id}")


# -- helpers ---------------------------------------------------------------------------------


def _money(amount: int, currency: str) -> str:
    return f"{amount / 100:.2f} {currency.upper()}"


def _document(title: str, body: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(title)} · Fake Stripe</title>
<style>body{{font-family:sans-serif;max-width:32rem;margin:2rem auto}}
label{{display:block;margin:.5rem 0}}button{{margin-top:1rem}}</style></head>
<body>{body}</body></html>"""
