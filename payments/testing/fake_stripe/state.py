"""The fake's memory: Stripe objects, the operations on them, and the events they cause.

Objects are plain dicts in the shape of Stripe's current API (since 2025-03-31
"basil": billing periods sit on subscription items, an invoice names its
subscription under ``parent.subscription_details``, line items carry
``pricing.price_details``). Every operation takes the parameters Stripe's API
takes, already decoded from the form encoding, so the HTTP layer stays thin and
tests can call the same operations directly.

All access goes through one lock: the HTTP server is threaded, and the hosted
pages change state from the server's threads while tests read it from theirs.
"""

from __future__ import annotations

import calendar
import copy
import secrets
import string
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import stripe

from payments.testing.fake_stripe import tax as fake_tax

DEFAULT_API_VERSION: str = stripe.api_version
#: Germany's VAT, what Stripe Tax charges a domestic buyer (``tax_percent`` changes it).
DEFAULT_TAX_PERCENT = 19

StripeObject = dict[str, Any]


class StripeError(Exception):
    """An error answered in Stripe's shape: ``{"error": {"type", "message", ...}}``."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        type: str = "invalid_request_error",  # noqa: A002 - Stripe's field name
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"type": type, "message": message}
        if param is not None:
            self.body["param"] = param
        if code is not None:
            self.body["code"] = code

    def as_json(self) -> dict[str, Any]:
        return {"error": self.body}


def missing(kind: str, object_id: str, param: str = "id", status: int = 404) -> StripeError:
    return StripeError(
        f"No such {kind}: '{object_id}'", status=status, param=param, code="resource_missing"
    )


def required(param: str) -> StripeError:
    return StripeError(f"Missing required param: {param}.", param=param, code="parameter_missing")


def new_id(prefix: str, livemode: bool = False) -> str:
    alphabet = string.ascii_letters + string.digits
    body = "".join(secrets.choice(alphabet) for _ in range(24))
    if prefix == "cs":
        return f"cs_{'live' if livemode else 'test'}_{body}"
    return f"{prefix}_{body}"


def add_months(timestamp: int, months: int) -> int:
    """The same day and time ``months`` later, clamped to the month's end (as Stripe bills)."""
    moment = time.gmtime(timestamp)
    month_index = moment.tm_mon - 1 + months
    year, month = moment.tm_year + month_index // 12, month_index % 12 + 1
    day = min(moment.tm_mday, calendar.monthrange(year, month)[1])
    return calendar.timegm(
        (year, month, day, moment.tm_hour, moment.tm_min, moment.tm_sec, 0, 0, 0)
    )


def period_end(start: int, recurring: dict[str, Any]) -> int:
    count = int(recurring.get("interval_count") or 1)
    interval = recurring.get("interval", "month")
    if interval == "year":
        return add_months(start, 12 * count)
    if interval == "month":
        return add_months(start, count)
    seconds = {"day": 86400, "week": 7 * 86400}[interval]
    return start + seconds * count


def as_int(params: dict[str, Any], name: str, default: int | None = None) -> int:
    value = params.get(name)
    if value in (None, "") and default is not None:
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise StripeError(f"Invalid integer: {value}", param=name) from None


def as_bool(value: Any) -> bool:
    return value in (True, "true", "True", "1", 1)


def _recurring(params: Any) -> dict[str, Any] | None:
    if not params:
        return None
    interval = params.get("interval")
    if interval not in ("day", "week", "month", "year"):
        raise StripeError(
            "Invalid recurring[interval]: must be one of day, week, month, or year",
            param="recurring[interval]",
        )
    return {
        "interval": interval,
        "interval_count": as_int(params, "interval_count", default=1),
        "meter": None,
        "trial_period_days": None,
        "usage_type": "licensed",
    }


def list_object(data: list[StripeObject], url: str) -> StripeObject:
    return {"object": "list", "data": data, "has_more": False, "url": url}


def empty_address() -> dict[str, Any]:
    return dict.fromkeys(("city", "country", "line1", "line2", "postal_code", "state"))


@dataclass
class FakeStripeState:
    """Everything the fake knows. Reset between tests with :meth:`reset`."""

    base_url: str = ""
    tax_percent: int = DEFAULT_TAX_PERCENT
    api_version: str = DEFAULT_API_VERSION
    #: Whether the account saved its customer-portal settings (test mode's default
    #: configuration); without, a portal session needs an explicit ``configuration``.
    portal_configured: bool = True
    objects: dict[str, dict[str, StripeObject]] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)
    _invoice_sequence: int = 0

    def reset(self) -> None:
        with self.lock:
            self.objects.clear()
            self.tax_percent = DEFAULT_TAX_PERCENT
            self.api_version = DEFAULT_API_VERSION
            self.portal_configured = True
            self._invoice_sequence = 0

    # -- storage -----------------------------------------------------------------------

    def _store(self, obj: StripeObject) -> StripeObject:
        self.objects.setdefault(obj["object"], {})[obj["id"]] = obj
        return obj

    def get(self, kind: str, object_id: str, *, param: str = "id", status: int = 404):
        """The stored object (not a copy: callers under the lock may change it)."""
        found = self.objects.get(kind, {}).get(object_id)
        if found is None:
            raise missing(kind.split(".")[-1].replace("_", " "), object_id, param, status)
        return found

    def retrieve(self, kind: str, object_id: str) -> StripeObject:
        """A copy of the object as the API shows it."""
        with self.lock:
            return public(self.get(kind, object_id))

    def all(self, kind: str) -> list[StripeObject]:
        """Every stored object of ``kind`` (``"invoice"``, ``"event"``...), oldest first."""
        with self.lock:
            return [public(obj) for obj in self.objects.get(kind, {}).values()]

    def find(self, object_id: str) -> StripeObject | None:
        """Any stored object by id: what ``expand`` needs."""
        for objects in self.objects.values():
            if object_id in objects:
                return objects[object_id]
        return None

    # -- customers -----------------------------------------------------------------------

    def create_customer(self, params: dict[str, Any], livemode: bool = False) -> StripeObject:
        with self.lock:
            customer_id = new_id("cus")
            customer = {
                "id": customer_id,
                "object": "customer",
                "address": {**empty_address(), **(params.get("address") or {})},
                "balance": 0,
                "created": int(time.time()),
                "currency": None,
                "default_source": None,
                "delinquent": False,
                "description": params.get("description"),
                "email": params.get("email"),
                "invoice_prefix": secrets.token_hex(4).upper(),
                "livemode": livemode,
                "metadata": dict(params.get("metadata") or {}),
                "name": params.get("name"),
                "phone": params.get("phone"),
                "preferred_locales": list(params.get("preferred_locales") or []),
                "tax_exempt": params.get("tax_exempt", "none"),
                # Stripe shows ``tax_ids`` only with ``expand[]=tax_ids``.
                "_tax_ids": list_object([], f"/v1/customers/{customer_id}/tax_ids"),
            }
            for tax_id in params.get("tax_id_data") or []:
                self._add_tax_id(customer, tax_id)
            return copy.deepcopy(self._store(customer))

    def _add_tax_id(self, customer: StripeObject, data: dict[str, Any]) -> None:
        if not data.get("type") or not data.get("value"):
            raise required(
                "tax_id_data[0][type]" if not data.get("type") else "tax_id_data[0][value]"
            )
        value = str(data["value"])
        customer["_tax_ids"]["data"].append(
            {
                "id": new_id("txi"),
                "object": "tax_id",
                "country": value[:2].upper() if data["type"] == "eu_vat" else None,
                "created": int(time.time()),
                "customer": customer["id"],
                "livemode": customer["livemode"],
                "type": data["type"],
                "value": value,
                "verification": {
                    "status": "verified",
                    "verified_address": None,
                    "verified_name": None,
                },
            }
        )

    def update_customer(self, customer_id: str, params: dict[str, Any]) -> StripeObject:
        with self.lock:
            customer = self.get("customer", customer_id)
            for key in ("email", "name", "phone", "description", "tax_exempt"):
                if key in params:
                    customer[key] = params[key] or None
            if "address" in params:
                customer["address"] = {**empty_address(), **(params["address"] or {})}
            if "metadata" in params:
                customer["metadata"] = merge_metadata(customer["metadata"], params["metadata"])
            return copy.deepcopy(customer)

    # -- products and prices -------------------------------------------------------------

    def create_product(self, params: dict[str, Any], livemode: bool = False) -> StripeObject:
        if not params.get("name"):
            raise required("name")
        with self.lock:
            now = int(time.time())
            product = {
                "id": params.get("id") or new_id("prod"),
                "object": "product",
                "active": as_bool(params.get("active", True)),
                "created": now,
                "default_price": None,
                "description": params.get("description"),
                "livemode": livemode,
                "metadata": dict(params.get("metadata") or {}),
                "name": params["name"],
                "tax_code": params.get("tax_code"),
                "type": "service",
                "updated": now,
            }
            return copy.deepcopy(self._store(product))

    def create_price(self, params: dict[str, Any], livemode: bool = False) -> StripeObject:
        if not params.get("currency"):
            raise required("currency")
        unit_amount = as_int(params, "unit_amount")
        recurring = _recurring(params.get("recurring"))
        with self.lock:
            if params.get("product"):
                product_id = params["product"]
                self.get("product", product_id, param="product", status=400)  # must exist
            elif params.get("product_data"):
                product_id = self.create_product(params["product_data"], livemode)["id"]
            else:
                raise required("product")
            price = {
                "id": new_id("price"),
                "object": "price",
                "active": as_bool(params.get("active", True)),
                "billing_scheme": "per_unit",
                "created": int(time.time()),
                "currency": str(params["currency"]).lower(),
                "livemode": livemode,
                "lookup_key": params.get("lookup_key"),
                "metadata": dict(params.get("metadata") or {}),
                "nickname": params.get("nickname"),
                "product": product_id,
                "recurring": recurring,
                "tax_behavior": params.get("tax_behavior", "exclusive"),
                "tiers_mode": None,
                "transform_quantity": None,
                "type": "recurring" if recurring else "one_time",
                "unit_amount": unit_amount,
                "unit_amount_decimal": str(unit_amount),
            }
            return copy.deepcopy(self._store(price))

    def list_prices(self, params: dict[str, Any]) -> StripeObject:
        with self.lock:
            prices = self.all("price")
            if "active" in params:
                prices = [p for p in prices if p["active"] == as_bool(params["active"])]
            if params.get("product"):
                prices = [p for p in prices if p["product"] == params["product"]]
            if params.get("lookup_keys"):
                prices = [p for p in prices if p["lookup_key"] in params["lookup_keys"]]
            return copy.deepcopy(list_object(prices[::-1], "/v1/prices"))

    # -- checkout ------------------------------------------------------------------------

    def create_checkout_session(
        self, params: dict[str, Any], livemode: bool = False
    ) -> StripeObject:
        mode = params.get("mode")
        if not mode:
            raise required("mode")
        if mode != "subscription":
            raise StripeError(
                f"The fake Stripe only sells subscriptions, not mode={mode!r}.", param="mode"
            )
        if not params.get("success_url") and params.get("ui_mode") != "embedded":
            raise required("success_url")
        if params.get("customer") and params.get("customer_email"):
            raise StripeError(
                "You may only specify one of these parameters: customer, customer_email.",
                param="customer_email",
            )
        line_items = params.get("line_items") or []
        if not line_items:
            raise StripeError(
                "You must provide at least one recurring price in `subscription` mode "
                "when using prices.",
                param="line_items",
            )
        with self.lock:
            items = [self._checkout_line(item, index) for index, item in enumerate(line_items)]
            customer = None
            if params.get("customer"):
                customer = self.get("customer", params["customer"], param="customer", status=400)
            tax = fake_tax.session_tax(params, customer)
            session_id = new_id("cs", livemode)
            amount = sum(item["price"]["unit_amount"] * item["quantity"] for item in items)
            session = {
                "id": session_id,
                "object": "checkout.session",
                "amount_subtotal": amount,
                "amount_total": amount,
                "automatic_tax": {
                    "enabled": tax["automatic"],
                    "liability": {"type": "self"} if tax["automatic"] else None,
                    "provider": "stripe" if tax["automatic"] else None,
                    "status": "requires_location_inputs" if tax["automatic"] else None,
                },
                "billing_address_collection": tax["billing_address_collection"],
                "cancel_url": params.get("cancel_url"),
                "client_reference_id": params.get("client_reference_id"),
                "created": int(time.time()),
                "currency": items[0]["price"]["currency"],
                "customer": customer["id"] if customer else None,
                "customer_details": None,
                "customer_email": params.get("customer_email"),
                "expires_at": int(time.time()) + 86400,
                "invoice": None,
                "livemode": livemode,
                "locale": params.get("locale"),
                "metadata": dict(params.get("metadata") or {}),
                "mode": mode,
                "payment_status": "unpaid",
                "status": "open",
                "subscription": None,
                "success_url": params.get("success_url"),
                "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
                "url": f"{self.base_url}/checkout/{session_id}",
                # Not part of Stripe's session object; kept to build the subscription.
                "_line_items": items,
                "_subscription_data": params.get("subscription_data") or {},
                "_tax": tax,
            }
            return public(self._store(session))

    def _checkout_line(self, item: dict[str, Any], index: int) -> dict[str, Any]:
        param = f"line_items[{index}][price]"
        if not item.get("price"):
            raise required(param)
        price = self.get("price", item["price"], param=param, status=400)
        if not price["active"]:
            raise StripeError(
                "The price specified is inactive. This field only accepts active prices.",
                param=param,
            )
        if price["type"] != "recurring":
            raise StripeError(
                "You must provide at least one recurring price in `subscription` mode "
                "when using prices.",
                param="line_items",
            )
        quantity = as_int(item, "quantity", default=1)
        return {"price": copy.deepcopy(price), "quantity": quantity}

    def checkout_line_items(self, session_id: str) -> StripeObject:
        with self.lock:
            session = self.get("checkout.session", session_id, param="session")
            data = [
                {
                    "id": f"li_{session_id[-20:]}{index}",
                    "object": "item",
                    "amount_subtotal": line["price"]["unit_amount"] * line["quantity"],
                    "amount_total": line["price"]["unit_amount"] * line["quantity"],
                    "currency": line["price"]["currency"],
                    "description": self.get("product", line["price"]["product"])["name"],
                    "price": copy.deepcopy(line["price"]),
                    "quantity": line["quantity"],
                }
                for index, line in enumerate(session["_line_items"])
            ]
            return list_object(data, f"/v1/checkout/sessions/{session_id}/line_items")

    def complete_checkout(
        self, session_id: str, customer_details: dict[str, Any] | None = None
    ) -> list[StripeObject]:
        """What the hosted page's Pay button does: customer, subscription, paid invoice.

        ``customer_details`` is what the buyer typed on the page (``email``, ``name``,
        ``address``, ``tax_id_data``); it creates the customer when the session has none.
        Returns the three events Stripe sends, in Stripe's usual order.
        """
        with self.lock:
            session = self.get("checkout.session", session_id, param="session")
            if session["status"] != "open":
                raise StripeError(
                    f"This Checkout Session is no longer active (status={session['status']}).",
                    param="session",
                )
            livemode = session["livemode"]
            known = self.get("customer", session["customer"]) if session["customer"] else None
            details = fake_tax.typed_details(
                session, customer_details, known["address"] if known else None
            )
            if known is not None:
                customer = known
                self._apply_customer_update(customer, session["_tax"], details)
            else:
                if session["customer_email"]:  # fixed by the site, as on Stripe's page
                    details["email"] = session["customer_email"]
                if not details.get("email"):
                    raise required("customer_details[email]")
                customer = self.get("customer", self.create_customer(details, livemode)["id"])
            subscription = self._create_subscription(session, customer)
            invoice = self._create_paid_invoice(subscription, "subscription_create")
            subscription["latest_invoice"] = invoice["id"]
            session.update(
                customer=customer["id"],
                customer_details={
                    "address": copy.deepcopy(customer["address"]),
                    "email": customer["email"],
                    "name": customer["name"],
                    "phone": customer["phone"],
                    "tax_exempt": customer["tax_exempt"],
                    "tax_ids": [
                        {"type": t["type"], "value": t["value"]}
                        for t in customer["_tax_ids"]["data"]
                    ],
                },
                invoice=invoice["id"],
                automatic_tax={**session["automatic_tax"], "status": "complete"}
                if session["automatic_tax"]["enabled"]
                else session["automatic_tax"],
                payment_status="paid",
                status="complete",
                subscription=subscription["id"],
                url=None,  # Stripe drops the hosted page's address once paid
                amount_total=invoice["total"],
                total_details={
                    "amount_discount": 0,
                    "amount_shipping": 0,
                    "amount_tax": invoice["total"] - invoice["subtotal"],
                },
            )
            return [
                self.emit("checkout.session.completed", public(session)),
                self.emit("customer.subscription.created", subscription),
                self.emit("invoice.paid", invoice),
            ]

    def _apply_customer_update(
        self, customer: StripeObject, tax: dict[str, Any], details: dict[str, Any]
    ) -> None:
        """What an existing customer keeps of the page: only what ``customer_update`` allows."""
        update = tax["customer_update"]
        if update.get("address") == "auto" and details.get("address"):
            customer["address"] = {**empty_address(), **details["address"]}
        if update.get("name") == "auto" and details.get("name"):
            customer["name"] = details["name"]
        if tax["tax_id_collection"]:
            known = {t["value"] for t in customer["_tax_ids"]["data"]}
            for tax_id in details.get("tax_id_data") or []:
                if tax_id.get("value") not in known:
                    self._add_tax_id(customer, tax_id)

    # -- subscriptions -------------------------------------------------------------------

    def _create_subscription(self, session: StripeObject, customer: StripeObject) -> StripeObject:
        now = int(time.time())
        subscription_id = new_id("sub")
        # subscription_data[trial_period_days]: the first period is the free trial.
        trial_days = as_int(session["_subscription_data"], "trial_period_days", default=0)
        trial_end = now + trial_days * 86400 if trial_days else None
        items = []
        tax = session["_tax"]
        for index, line in enumerate(session["_line_items"]):
            price = copy.deepcopy(self.get("price", line["price"]["id"]))
            rate = fake_tax.matching_tax_rate(self, tax["dynamic_tax_rates"][index], customer)
            items.append(
                {
                    "id": new_id("si"),
                    "object": "subscription_item",
                    "created": now,
                    "current_period_start": now,
                    "current_period_end": trial_end or period_end(now, price["recurring"]),
                    "discounts": [],
                    "metadata": {},
                    "price": price,
                    "quantity": line["quantity"],
                    "subscription": subscription_id,
                    "tax_rates": [copy.deepcopy(rate)] if rate else [],
                }
            )
        return self._store(
            {
                "id": subscription_id,
                "object": "subscription",
                "automatic_tax": {
                    "disabled_reason": None,
                    "enabled": tax["automatic"],
                    "liability": {"type": "self"} if tax["automatic"] else None,
                },
                "billing_cycle_anchor": now,
                "cancel_at": None,
                "cancel_at_period_end": False,
                "canceled_at": None,
                "cancellation_details": {"comment": None, "feedback": None, "reason": None},
                "collection_method": "charge_automatically",
                "created": now,
                "currency": items[0]["price"]["currency"],
                "customer": customer["id"],
                "ended_at": None,
                "items": list_object(
                    items, f"/v1/subscription_items?subscription={subscription_id}"
                ),
                "latest_invoice": None,
                "livemode": session["livemode"],
                "metadata": dict(session["_subscription_data"].get("metadata") or {}),
                "start_date": now,
                "status": "trialing" if trial_end else "active",
                "trial_end": trial_end,
                "trial_start": now if trial_end else None,
            }
        )

    def retrieve_subscription(self, subscription_id: str) -> StripeObject:
        with self.lock:
            return copy.deepcopy(self.get("subscription", subscription_id))

    def list_subscriptions(self, params: dict[str, Any]) -> StripeObject:
        with self.lock:
            subscriptions = self.all("subscription")
            if params.get("customer"):
                subscriptions = [s for s in subscriptions if s["customer"] == params["customer"]]
            status = params.get("status")
            if status and status != "all":
                subscriptions = [s for s in subscriptions if s["status"] == status]
            elif not status:
                subscriptions = [s for s in subscriptions if s["status"] != "canceled"]
            return copy.deepcopy(list_object(subscriptions[::-1], "/v1/subscriptions"))

    def update_subscription(
        self, subscription_id: str, params: dict[str, Any]
    ) -> tuple[StripeObject, list[StripeObject]]:
        """Apply an update; returns the subscription and the events it caused."""
        with self.lock:
            subscription = self.get("subscription", subscription_id)
            if subscription["status"] == "canceled":
                raise StripeError(
                    "A canceled subscription can only update its cancellation_details "
                    "and metadata.",
                )
            # Changes are made on a draft and kept only if every one is valid, so a
            # refused update leaves the subscription exactly as it was (as Stripe does).
            draft = copy.deepcopy(subscription)
            for index, change in enumerate(params.get("items") or []):
                self._update_item(draft, change, index)
            if "cancel_at_period_end" in params:
                cancel = as_bool(params["cancel_at_period_end"])
                draft["cancel_at_period_end"] = cancel
                draft["cancel_at"] = (
                    draft["items"]["data"][0]["current_period_end"] if cancel else None
                )
                draft["canceled_at"] = int(time.time()) if cancel else None
            if "metadata" in params:
                draft["metadata"] = merge_metadata(draft["metadata"], params["metadata"])
            previous = changed_fields(subscription, draft)
            subscription.update(draft)
            events = []
            if previous:
                events.append(self.emit("customer.subscription.updated", subscription, previous))
            return copy.deepcopy(subscription), events

    def _update_item(self, subscription: StripeObject, change: dict[str, Any], index: int) -> None:
        items = subscription["items"]["data"]
        if change.get("id"):
            matches = [item for item in items if item["id"] == change["id"]]
            if not matches:
                raise missing("subscription item", change["id"], f"items[{index}][id]", 400)
            item = matches[0]
        elif len(items) == 1:
            item = items[0]
        else:
            raise required(f"items[{index}][id]")
        if change.get("price"):
            param = f"items[{index}][price]"
            price = self.get("price", change["price"], param=param, status=400)
            if not price["active"]:
                raise StripeError("The price specified is inactive.", param=param)
            item["price"] = copy.deepcopy(price)
        if change.get("quantity"):
            item["quantity"] = as_int(change, "quantity")

    def cancel_subscription(self, subscription_id: str) -> tuple[StripeObject, list[StripeObject]]:
        with self.lock:
            subscription = self.get("subscription", subscription_id)
            if subscription["status"] == "canceled":
                raise StripeError(
                    f"No such subscription: '{subscription_id}' is already canceled.",
                    code="resource_missing",
                    status=404,
                )
            now = int(time.time())
            subscription.update(
                status="canceled",
                canceled_at=subscription["canceled_at"] or now,
                ended_at=now,
                cancellation_details={
                    "comment": None,
                    "feedback": None,
                    "reason": "cancellation_requested",
                },
            )
            event = self.emit("customer.subscription.deleted", subscription)
            return copy.deepcopy(subscription), [event]

    def renew_subscription(self, subscription_id: str) -> list[StripeObject]:
        """Start the next period and bill it, as Stripe does at the period's end."""
        with self.lock:
            subscription = self.get("subscription", subscription_id)
            if subscription["cancel_at_period_end"]:
                _, events = self.cancel_subscription(subscription_id)
                return events
            before = copy.deepcopy(subscription)
            for item in subscription["items"]["data"]:
                start = item["current_period_end"]
                item["current_period_start"] = start
                item["current_period_end"] = period_end(start, item["price"]["recurring"])
            invoice = self._create_paid_invoice(subscription, "subscription_cycle")
            subscription["latest_invoice"] = invoice["id"]
            return [
                self.emit(
                    "customer.subscription.updated",
                    subscription,
                    changed_fields(before, subscription),
                ),
                self.emit("invoice.paid", invoice),
            ]

    # -- invoices ------------------------------------------------------------------------

    def _create_paid_invoice(self, subscription: StripeObject, reason: str) -> StripeObject:
        customer = self.get("customer", subscription["customer"])
        invoice_id = new_id("in")
        now = int(time.time())
        lines = [
            self._invoice_line(invoice_id, subscription, item, customer)
            for item in subscription["items"]["data"]
        ]
        subtotal = sum(line["amount"] for line in lines)
        total_taxes = fake_tax.total_taxes(lines)
        inclusive = fake_tax.inclusive_tax(total_taxes)
        tax = fake_tax.exclusive_tax(total_taxes)  # added on top of the subtotal
        automatic = bool(subscription["automatic_tax"]["enabled"])
        self._invoice_sequence += 1
        invoice = self._store(
            {
                "id": invoice_id,
                "object": "invoice",
                "account_country": "DE",
                "account_name": None,
                "amount_due": subtotal + tax,
                "amount_paid": subtotal + tax,
                "amount_remaining": 0,
                "attempt_count": 1,
                "attempted": True,
                "automatic_tax": {
                    "disabled_reason": None,
                    "enabled": automatic,
                    "liability": {"type": "self"} if automatic else None,
                    "provider": "stripe" if automatic else None,
                    "status": "complete" if automatic else None,
                },
                "billing_reason": reason,
                "collection_method": "charge_automatically",
                "created": now,
                "currency": subscription["currency"],
                "customer": customer["id"],
                "customer_address": copy.deepcopy(customer["address"]),
                "customer_email": customer["email"],
                "customer_name": customer["name"],
                "customer_phone": customer["phone"],
                "customer_tax_exempt": customer["tax_exempt"],
                "customer_tax_ids": [
                    {"type": t["type"], "value": t["value"]} for t in customer["_tax_ids"]["data"]
                ],
                "description": None,
                "effective_at": now,
                "hosted_invoice_url": None,
                "invoice_pdf": None,
                "lines": list_object(lines, f"/v1/invoices/{invoice_id}/lines"),
                "livemode": subscription["livemode"],
                "metadata": {},
                "number": f"{customer['invoice_prefix']}-{self._invoice_sequence:04d}",
                # As on Stripe, the invoice's own period is when it was made; the
                # service period it bills is on each line (``lines.data[].period``).
                "period_end": now,
                "period_start": now,
                "parent": {
                    "quote_details": None,
                    "subscription_details": {
                        "metadata": copy.deepcopy(subscription["metadata"]),
                        "subscription": subscription["id"],
                    },
                    "type": "subscription_details",
                },
                "status": "paid",
                "status_transitions": {
                    "finalized_at": now,
                    "marked_uncollectible_at": None,
                    "paid_at": now,
                    "voided_at": None,
                },
                "subtotal": subtotal,
                "subtotal_excluding_tax": subtotal - inclusive,
                "total": subtotal + tax,
                "total_excluding_tax": subtotal - inclusive,
                "total_taxes": total_taxes,
                "total_discount_amounts": [],
            }
        )
        # Payment intent, charge and invoice payment: see refunds.py.
        from payments.testing.fake_stripe.refunds import pay_invoice

        pay_invoice(self, invoice)
        return invoice

    def _invoice_line(
        self,
        invoice_id: str,
        subscription: StripeObject,
        item: StripeObject,
        customer: StripeObject,
    ) -> StripeObject:
        price = item["price"]
        product = self.get("product", price["product"])
        # A trial's first invoice bills nothing, as Stripe's does ("Trial period for ...").
        trialing = subscription["status"] == "trialing"
        amount = 0 if trialing else price["unit_amount"] * item["quantity"]
        description = f"{item['quantity']} × {product['name']}"
        return {
            "id": new_id("il"),
            "object": "line_item",
            "amount": amount,
            "currency": price["currency"],
            "description": f"Trial period for {product['name']}" if trialing else description,
            "discount_amounts": [],
            "discountable": True,
            "discounts": [],
            "invoice": invoice_id,
            "livemode": subscription["livemode"],
            "metadata": {},
            "parent": {
                "invoice_item_details": None,
                "subscription_item_details": {
                    "invoice_item": None,
                    "proration": False,
                    "proration_details": {"credited_items": None},
                    "subscription": subscription["id"],
                    "subscription_item": item["id"],
                },
                "type": "subscription_item_details",
            },
            "period": {"start": item["current_period_start"], "end": item["current_period_end"]},
            "pretax_credit_amounts": [],
            "pricing": {
                "price_details": {"price": price["id"], "product": product["id"]},
                "type": "price_details",
                "unit_amount_decimal": price["unit_amount_decimal"],
            },
            "quantity": item["quantity"],
            "subtotal": amount,
            "taxes": fake_tax.line_taxes(
                self,
                customer,
                amount,
                price.get("tax_behavior") or "exclusive",
                automatic=bool(subscription["automatic_tax"]["enabled"]),
                rate_ids=[rate["id"] for rate in item.get("tax_rates") or []],
            ),
        }

    def list_invoices(self, params: dict[str, Any]) -> StripeObject:
        with self.lock:
            invoices = self.all("invoice")
            if params.get("subscription"):
                invoices = [
                    i
                    for i in invoices
                    if i["parent"]["subscription_details"]["subscription"] == params["subscription"]
                ]
            if params.get("customer"):
                invoices = [i for i in invoices if i["customer"] == params["customer"]]
            if params.get("status"):
                invoices = [i for i in invoices if i["status"] == params["status"]]
            return copy.deepcopy(list_object(invoices[::-1], "/v1/invoices"))

    # -- billing portal ------------------------------------------------------------------

    def create_portal_session(self, params: dict[str, Any], livemode: bool = False) -> StripeObject:
        if not params.get("customer"):
            raise required("customer")
        if not params.get("configuration") and not self.portal_configured:
            mode = "live" if livemode else "test"
            dashboard = "https://dashboard.stripe.com/" + ("" if livemode else "test/")
            raise StripeError(
                f"No configuration provided and your {mode} mode default configuration has "
                "not been created. Provide a configuration or create your default by saving "
                f"your customer portal settings in {mode} mode at "
                f"{dashboard}settings/billing/portal."
            )
        with self.lock:
            customer = self.get("customer", params["customer"], param="customer", status=400)
            session_id = new_id("bps")
            return copy.deepcopy(
                self._store(
                    {
                        "id": session_id,
                        "object": "billing_portal.session",
                        "configuration": "bpc_fake",
                        "created": int(time.time()),
                        "customer": customer["id"],
                        "flow": None,
                        "livemode": livemode,
                        "locale": params.get("locale"),
                        "on_behalf_of": None,
                        "return_url": params.get("return_url"),
                        "url": f"{self.base_url}/billing_portal/{session_id}",
                    }
                )
            )

    # -- events --------------------------------------------------------------------------

    def emit(
        self,
        event_type: str,
        obj: StripeObject,
        previous_attributes: dict[str, Any] | None = None,
    ) -> StripeObject:
        """Record an event with a snapshot of ``obj`` as it is now."""
        data: dict[str, Any] = {"object": copy.deepcopy(public(obj))}
        if previous_attributes is not None:
            data["previous_attributes"] = previous_attributes
        event = {
            "id": new_id("evt"),
            "object": "event",
            "api_version": self.api_version,
            "created": int(time.time()),
            "data": data,
            "livemode": obj["livemode"],
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": event_type,
        }
        self._store(event)
        return copy.deepcopy(event)

    def list_events(self, params: dict[str, Any]) -> StripeObject:
        """``GET /v1/events``: newest first, filtered by ``type``/``types[]`` and
        ``created[gte|gt|lte|lt]``, paged by ``limit`` (1-100, default 10) and
        ``starting_after``/``ending_before``, like Stripe's list endpoints."""
        limit = as_int(params, "limit", 10)
        if not 1 <= limit <= 100:
            raise StripeError(
                "This value must be greater than or equal to 1 and less than or equal to 100.",
                param="limit",
            )
        with self.lock:
            events = [public(e) for e in reversed(list(self.objects.get("event", {}).values()))]
        types = params.get("types") or ([params["type"]] if params.get("type") else [])
        if types:
            events = [e for e in events if e["type"] in types]
        created = params.get("created")
        if isinstance(created, dict):
            bounds = {op: int(value) for op, value in created.items()}
            events = [e for e in events if _within(e["created"], bounds)]
        elif created is not None:
            events = [e for e in events if e["created"] == int(created)]
        ids = [e["id"] for e in events]
        if params.get("starting_after"):
            cursor = params["starting_after"]
            if cursor not in ids:
                raise missing("event", cursor, "starting_after", 400)
            events = events[ids.index(cursor) + 1 :]
        elif params.get("ending_before"):
            cursor = params["ending_before"]
            if cursor not in ids:
                raise missing("event", cursor, "ending_before", 400)
            events = events[: ids.index(cursor)][-limit:]
        page = list_object(copy.deepcopy(events[:limit]), "/v1/events")
        page["has_more"] = len(events) > limit
        return page

    def attach_request(self, events: list[StripeObject], request: dict[str, Any]) -> None:
        """Name the API request that caused ``events`` (their ``request`` field)."""
        with self.lock:
            for event in events:
                event["request"] = dict(request)
                self.objects["event"][event["id"]]["request"] = dict(request)

    # -- expand ----------------------------------------------------------------------------

    def expand(self, obj: StripeObject, paths: list[str]) -> StripeObject:
        """Replace ids named by ``expand[]`` paths (``subscription``, ``a.b``) with objects."""
        with self.lock:
            expanded = copy.deepcopy(obj)
            for path in paths:
                if path == "line_items" and expanded.get("object") == "checkout.session":
                    expanded["line_items"] = self.checkout_line_items(expanded["id"])
                    continue
                if path == "tax_ids" and expanded.get("object") == "customer":
                    stored = self.get("customer", expanded["id"])["_tax_ids"]
                    expanded["tax_ids"] = copy.deepcopy(stored)
                    continue
                self._expand_path(expanded, path.split("."), path)
            return expanded

    def _expand_path(self, node: Any, parts: list[str], path: str) -> None:
        if isinstance(node, dict) and node.get("object") == "list" and parts[0] == "data":
            for item in node["data"]:
                self._expand_path(item, parts[1:], path)
            return
        if not isinstance(node, dict) or parts[0] not in node:
            raise StripeError(f"This property cannot be expanded ({path}).", param="expand")
        head, rest = parts[0], parts[1:]
        value = node[head]
        if isinstance(value, str):
            found = self.find(value)
            if found is None:
                raise StripeError(f"This property cannot be expanded ({path}).", param="expand")
            value = node[head] = public(copy.deepcopy(found))
        if rest and value is not None:
            self._expand_path(value, rest, path)


def _within(created: int, bounds: dict[str, int]) -> bool:
    checks = {
        "gte": created >= bounds.get("gte", created),
        "gt": created > bounds["gt"] if "gt" in bounds else True,
        "lte": created <= bounds.get("lte", created),
        "lt": created < bounds["lt"] if "lt" in bounds else True,
    }
    return all(checks.values())


def public(obj: StripeObject) -> StripeObject:
    """The object without the fake's private ``_`` bookkeeping keys."""
    return {key: copy.deepcopy(value) for key, value in obj.items() if not key.startswith("_")}


def merge_metadata(current: dict[str, str], update: Any) -> dict[str, str]:
    """Stripe's metadata rules: ``metadata=""`` clears, a key set to ``""`` is removed."""
    if not update:
        return {}
    merged = {**current, **update}
    return {key: value for key, value in merged.items() if value != ""}


def changed_fields(before: StripeObject, after: StripeObject) -> dict[str, Any]:
    """``previous_attributes``: the top-level values that changed, as they were."""
    return {key: before[key] for key in after if key in before and before[key] != after[key]}
