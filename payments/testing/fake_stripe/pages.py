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
    session = fake.state.retrieve("checkout.session", session_id)
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
  <label>{text["name"]} <input name="name"></label>
  <label>{text["country"]} <input name="country" value="DE" maxlength="2"></label>
  <label>{text["vat_id"]} <input name="vat_id"></label>
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
        "country": "Country",
        "vat_id": "VAT ID (optional)",
        "pay": "Pay",
        "cancel": "Cancel and go back",
        "note": "Fake Stripe: no card is charged.",
    },
    "de": {
        "title": "Abonnieren",
        "email": "E-Mail",
        "name": "Name",
        "country": "Land",
        "vat_id": "USt-IdNr. (optional)",
        "pay": "Bezahlen",
        "cancel": "Abbrechen und zurück",
        "note": "Fake Stripe: Es wird keine Karte belastet.",
    },
}


def _checkout_text(locale: str | None) -> dict[str, str]:
    return CHECKOUT_TEXT.get((locale or "").split("-")[0], CHECKOUT_TEXT["en"])


def pay(fake: FakeStripe, session_id: str, form: dict[str, Any]) -> Page:
    """Complete the session (events go to the site first), then return to the site."""
    session = fake.state.retrieve("checkout.session", session_id)
    if session["status"] == "open":
        fake.complete_checkout(session_id, customer_details=_customer_details(form))
        session = fake.state.retrieve("checkout.session", session_id)
    return Page(redirect=_success_url(session))


def _customer_details(form: dict[str, Any]) -> dict[str, Any]:
    details: dict[str, Any] = {"email": form.get("email") or None, "name": form.get("name") or None}
    if form.get("country"):
        details["address"] = {"country": form["country"].upper()}
    if form.get("vat_id"):
        details["tax_id_data"] = [{"type": "eu_vat", "value": form["vat_id"].replace(" ", "")}]
    return details


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
