"""The HTTP side of the fake: Stripe's REST API, its hosted pages, and webhook delivery.

Stripe's SDK talks to :class:`FakeStripe` exactly as it talks to api.stripe.com:
form-encoded requests with a Bearer secret key, JSON answers, Stripe-shaped errors,
``Idempotency-Key`` replays. Every request is recorded in :attr:`FakeStripe.requests`
so tests can assert what the site sent.

Events reach the site's webhook the way Stripe sends them: a JSON body signed in
the ``Stripe-Signature`` header. Events caused by API calls (a subscription update
or cancel) are delivered in the background, as Stripe does, so a site's view that
holds a database transaction while calling Stripe is not deadlocked by its own
webhook; tests call :meth:`FakeStripe.flush_webhooks` before asserting on them.
Events of a completed checkout are delivered before the buyer is redirected.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import queue
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from payments.testing.fake_stripe import pages, previews, refunds
from payments.testing.fake_stripe import tax as fake_tax
from payments.testing.fake_stripe.params import parse_form
from payments.testing.fake_stripe.state import (
    FakeStripeState,
    StripeError,
    StripeObject,
    new_id,
)
from payments.testing.fake_stripe.versions import shaped_for

logger = logging.getLogger(__name__)

#: ``sender(payload, signature_header) -> HTTP status``: how a signed event reaches a site.
WebhookSender = Callable[[bytes, str], int]


@dataclass(frozen=True)
class RecordedRequest:
    """One API request as the fake received it."""

    method: str
    path: str
    params: dict[str, Any]
    headers: dict[str, str]
    status: int

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("idempotency-key")


@dataclass(frozen=True)
class Delivery:
    """One attempt to post an event to the site's webhook."""

    event_id: str
    event_type: str
    status: int | None
    error: str = ""


@dataclass
class _IdempotentResult:
    method: str
    path: str
    params: dict[str, Any]
    status: int
    body: dict[str, Any]


@dataclass
class FakeStripe:
    """A Stripe API server on loopback with the state behind it.

    Use it as a context manager (``with FakeStripe() as fake:``) or call
    :meth:`start` / :meth:`stop`. ``fake.url`` is what ``PAYMENTS["STRIPE_API_BASE"]``
    should be.
    """

    host: str = "127.0.0.1"
    port: int = 0
    webhook_url: str = ""
    webhook_secret: str = ""
    state: FakeStripeState = field(default_factory=FakeStripeState)
    requests: list[RecordedRequest] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    webhook_sender: WebhookSender | None = field(default=None, repr=False)
    _server: ThreadingHTTPServer | None = field(default=None, repr=False)
    _idempotency: dict[tuple[str, str], _IdempotentResult] = field(default_factory=dict, repr=False)
    _api_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _outbox: queue.Queue = field(default_factory=queue.Queue, repr=False)
    _held: list[StripeObject] = field(default_factory=list, repr=False)

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> FakeStripe:
        server = ThreadingHTTPServer((self.host, self.port), _Handler)
        server.daemon_threads = True
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        self.port = server.server_address[1]
        self.state.base_url = self.url
        threading.Thread(target=server.serve_forever, name="fake-stripe", daemon=True).start()
        threading.Thread(
            target=self._deliver_outbox, name="fake-stripe-webhooks", daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
            self._outbox.put(None)

    def __enter__(self) -> FakeStripe:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def reset(self) -> None:
        """Forget every object, request, event and webhook target (between tests).

        Events held for a test client are dropped (that client's test is over);
        events already queued for a URL still go there before the target is cleared.
        """
        self._held.clear()
        self._outbox.join()
        with self._api_lock:
            self.state.reset()
            self.requests.clear()
            self.deliveries.clear()
            self._idempotency.clear()
            self.webhook_url = self.webhook_secret = ""
            self.webhook_sender = None

    # -- configuration tests reach for -----------------------------------------------

    @property
    def tax_percent(self) -> int:
        """German VAT, as Stripe Tax charges it to a buyer in Germany (``fake_stripe.tax``)."""
        return self.state.tax_percent

    @tax_percent.setter
    def tax_percent(self, value: int) -> None:
        self.state.tax_percent = value

    @property
    def events(self) -> list[StripeObject]:
        """Every event so far, oldest first, whether delivered or not."""
        return self.state.all("event")

    def deliver_webhooks_to(self, url: str, secret: str) -> None:
        """Post every later event to ``url``, signed with ``secret`` (a live server)."""
        self.webhook_url, self.webhook_secret, self.webhook_sender = url, secret, None

    def deliver_webhooks_to_client(self, client: Any, path: str, secret: str) -> None:
        """Post every later event through a Django test ``client`` to ``path``.

        The client runs the view in the thread that delivers, so use this with
        :meth:`complete_checkout` and :meth:`flush_webhooks` called from the test
        itself, not with the hosted pages (those run in the server's threads).
        """

        def send(payload: bytes, signature: str) -> int:
            response = client.post(
                path,
                data=payload,
                content_type="application/json",
                HTTP_STRIPE_SIGNATURE=signature,
            )
            return response.status_code

        self.webhook_url, self.webhook_secret, self.webhook_sender = path, secret, send

    # -- shortcuts for tests (the same operations the API runs) ----------------------

    def create_customer(
        self,
        email: str = "buyer@example.com",
        *,
        name: str | None = None,
        address: dict[str, str] | None = None,
        vat_id: str | None = None,
        livemode: bool = False,
    ) -> StripeObject:
        params: dict[str, Any] = {"email": email, "name": name, "address": address}
        if vat_id:
            params["tax_id_data"] = [{"type": "eu_vat", "value": vat_id}]
        return self.state.create_customer(params, livemode)

    def create_price(
        self,
        unit_amount: int,
        *,
        product_name: str = "Reader",
        currency: str = "eur",
        interval: str = "month",
        lookup_key: str | None = None,
        tax_behavior: str = "exclusive",
        livemode: bool = False,
    ) -> StripeObject:
        params = {
            "tax_behavior": tax_behavior,
            "unit_amount": unit_amount,
            "currency": currency,
            "recurring": {"interval": interval},
            "product_data": {"name": product_name},
            "lookup_key": lookup_key,
        }
        return self.state.create_price(params, livemode)

    def create_checkout_session(
        self,
        price: str,
        *,
        customer: str | None = None,
        customer_email: str | None = None,
        client_reference_id: str | None = None,
        metadata: dict[str, str] | None = None,
        success_url: str = "https://shop.example.com/success?session_id={CHECKOUT_SESSION_ID}",
        automatic_tax: bool = True,
        livemode: bool = False,
    ) -> StripeObject:
        """A session as the app starts one: Stripe Tax, billing address and tax IDs."""
        params: dict[str, Any] = {
            "mode": "subscription",
            "line_items": [{"price": price, "quantity": 1}],
            "automatic_tax": {"enabled": automatic_tax},
            "billing_address_collection": "required",
            "tax_id_collection": {"enabled": True},
            "customer": customer,
            "customer_email": customer_email,
            "client_reference_id": client_reference_id,
            "metadata": metadata or {},
            "subscription_data": {"metadata": metadata or {}},
            "success_url": success_url,
        }
        if customer:
            params["customer_update"] = {"address": "auto", "name": "auto"}
        return self.state.create_checkout_session(params, livemode)

    def complete_checkout(
        self,
        session_id: str,
        *,
        deliver: bool = True,
        customer_details: dict[str, Any] | None = None,
    ) -> list[StripeObject]:
        """Pay a checkout session; returns its three events (delivered if ``deliver``)."""
        events = self.state.complete_checkout(session_id, customer_details)
        if deliver:
            self.deliver(events)
        return events

    def update_subscription(self, subscription_id: str, **params: Any) -> list[StripeObject]:
        """Change a subscription as the billing portal would; its events go out at once."""
        _, events = self.state.update_subscription(subscription_id, params)
        self.deliver(events)
        return events

    def renew_subscription(
        self, subscription_id: str, *, deliver: bool = True
    ) -> list[StripeObject]:
        """Bill the next period now (or end a subscription set to cancel at period end)."""
        events = self.state.renew_subscription(subscription_id)
        if deliver:
            self.deliver(events)
        return events

    def refund_invoice(
        self, invoice_id: str, amount: int | None = None, *, deliver: bool = True, **params: Any
    ) -> list[StripeObject]:
        """Refund an invoice's payment as the Dashboard's "Refund payment" does."""
        with self.state.lock:
            charge = refunds._invoice_charge(self.state, invoice_id, "invoice")
        if amount is not None:
            params["amount"] = amount
        _, events = refunds.create_refund(self.state, {"charge": charge["id"], **params})
        if deliver:
            self.deliver(events)
        return events

    def credit_invoice(
        self,
        invoice_id: str,
        amount: int | None = None,
        *,
        refund: bool = True,
        deliver: bool = True,
        **params: Any,
    ) -> list[StripeObject]:
        """Issue a credit note on a paid invoice (whole total by default), refunded
        on its payment (``refund=True``) or credited out of band; returns its events:
        ``credit_note.created``, then a refund's ``charge.refunded``."""
        if amount is None and "lines" not in params:
            amount = self.state.retrieve("invoice", invoice_id)["total"]
        if amount is not None:
            params["amount"] = amount
        total = amount if amount is not None else None
        if total is not None and not any(
            key in params
            for key in ("refund_amount", "credit_amount", "out_of_band_amount", "refunds")
        ):
            params["refund_amount" if refund else "out_of_band_amount"] = total
        _, events = refunds.create_credit_note(self.state, {"invoice": invoice_id, **params})
        if deliver:
            self.deliver(events)
        return events

    # -- webhooks ----------------------------------------------------------------------

    def sign(self, payload: bytes, secret: str | None = None, timestamp: int | None = None) -> str:
        """A ``Stripe-Signature`` header for ``payload``, as Stripe computes it."""
        secret = secret or self.webhook_secret
        if not secret:
            raise ValueError("No webhook secret: pass one or call deliver_webhooks_to().")
        timestamp = int(time.time()) if timestamp is None else timestamp
        signed = f"{timestamp}.".encode() + payload
        digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
        return f"t={timestamp},v1={digest}"

    @staticmethod
    def payload(event: StripeObject) -> bytes:
        """The bytes Stripe posts for ``event`` (pretty-printed JSON, as Stripe sends)."""
        return json.dumps(event, indent=2).encode()

    def deliver(self, events: list[StripeObject]) -> list[Delivery]:
        """Post ``events`` to the configured webhook now, in order; no target: nothing."""
        if not (self.webhook_url or self.webhook_sender):
            return []
        return [self._deliver_one(event) for event in events]

    def deliver_later(self, events: list[StripeObject]) -> None:
        """Queue events caused by an API call; a test client target waits for a flush."""
        if self.webhook_sender is not None:
            self._held.extend(events)
            return
        for event in events:
            self._outbox.put(event)

    def flush_webhooks(self) -> None:
        """Post every event queued by API calls before returning."""
        self._outbox.join()
        held, self._held = self._held, []
        self.deliver(held)

    def _deliver_outbox(self) -> None:
        while (event := self._outbox.get()) is not None:
            try:
                self.deliver([event])
            finally:
                self._outbox.task_done()
        self._outbox.task_done()

    def _deliver_one(self, event: StripeObject) -> Delivery:
        # Rendered in the account's API version, as Stripe renders webhook events.
        payload = self.payload(shaped_for(event, self.state.api_version))
        signature = self.sign(payload)
        sender = self.webhook_sender or self._post
        try:
            delivery = Delivery(event["id"], event["type"], sender(payload, signature))
        except Exception as error:  # a site that is down must not break the fake
            logger.warning("Webhook %s for %s failed: %s", event["type"], event["id"], error)
            delivery = Delivery(event["id"], event["type"], None, str(error))
        level = logging.INFO if delivery.status and delivery.status < 300 else logging.WARNING
        logger.log(level, "Posted %s %s: %s", event["type"], event["id"], delivery.status)
        self.deliveries.append(delivery)
        return delivery

    def _post(self, payload: bytes, signature: str) -> int:
        request = urllib.request.Request(
            self.webhook_url,
            data=payload,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": signature,
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            },
        )
        try:
            with _no_redirects.open(request, timeout=30) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    # -- requests ----------------------------------------------------------------------

    # -- delivery order and older API versions (what real Stripe does too) -----------

    @staticmethod
    def in_order(events: list[StripeObject], *types: str) -> list[StripeObject]:
        """``events`` reordered so that the ``types`` named come first, in that order.

        Stripe promises no order: ``fake.deliver(fake.in_order(events,
        "customer.subscription.created", "invoice.paid"))`` sends a checkout's
        subscription and invoice events before its ``checkout.session.completed``.
        """
        rank = {event_type: index for index, event_type in enumerate(types)}
        return sorted(events, key=lambda event: rank.get(event["type"], len(types)))

    def use_api_version(self, api_version: str) -> None:
        """The account's default version: the shape webhook events are rendered in.

        API answers follow each request's ``Stripe-Version`` header instead (the
        SDK sends ``PAYMENTS["STRIPE_API_VERSION"]`` or its own).
        """
        self.state.api_version = api_version

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        """Recorded requests for one endpoint, e.g. ``("POST", "/v1/checkout/sessions")``."""
        return [r for r in list(self.requests) if r.method == method and r.path == path]

    def handle_api(
        self, method: str, path: str, params: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Answer one API request: auth, idempotency, routing, recording."""
        with self._api_lock:
            status, body, extra_headers = self._answer(method, path, params, headers)
            self.requests.append(RecordedRequest(method, path, params, headers, status))
        return status, body, extra_headers

    def _answer(
        self, method: str, path: str, params: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        api_key = _bearer_key(headers.get("authorization", ""))
        try:
            livemode = _livemode_of(api_key)
        except StripeError as error:
            return error.status, error.as_json(), {}
        idempotency_key = headers.get("idempotency-key")
        if idempotency_key and method in ("POST", "DELETE"):
            earlier = self._idempotency.get((api_key, idempotency_key))
            if earlier is not None:
                return _replay(earlier, method, path, params, idempotency_key)
        try:
            status, body, events = 200, *route_api(self.state, method, path, params, livemode)
        except StripeError as error:
            status, body, events = error.status, error.as_json(), []
        except (TypeError, ValueError) as error:  # a hash where a string belongs, and such
            status, body, events = 400, StripeError(f"Invalid request: {error}").as_json(), []
        except Exception:
            logger.exception("Fake Stripe failed on %s %s", method, path)
            error = StripeError(
                "The fake Stripe failed; see its log.", status=500, type="api_error"
            )
            status, body, events = error.status, error.as_json(), []
        body = shaped_for(body, headers.get("stripe-version") or self.state.api_version)
        request_id = new_id("req")
        self.state.attach_request(events, {"id": request_id, "idempotency_key": idempotency_key})
        self.deliver_later(events)
        if idempotency_key and method in ("POST", "DELETE") and status < 500:
            self._idempotency[(api_key, idempotency_key)] = _IdempotentResult(
                method, path, params, status, body
            )
        return status, body, {"Request-Id": request_id}


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """Stripe does not follow a webhook's redirect; it counts as a failed delivery."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_no_redirects = urllib.request.build_opener(_RefuseRedirects)


def _bearer_key(authorization: str) -> str:
    scheme, _, key = authorization.partition(" ")
    return key.strip() if scheme.lower() == "bearer" else ""


def _livemode_of(api_key: str) -> bool:
    if not api_key:
        raise StripeError(
            "You did not provide an API key. You need to provide your API key in the "
            "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
            "YOUR_SECRET_KEY').",
            status=401,
        )
    if re.fullmatch(r"(sk|rk)_(test|live)_\w+", api_key) is None:
        raise StripeError(f"Invalid API Key provided: {api_key[:8]}***{api_key[-4:]}", status=401)
    return "_live_" in api_key


def _replay(
    earlier: _IdempotentResult, method: str, path: str, params: dict[str, Any], key: str
) -> tuple[int, dict[str, Any], dict[str, str]]:
    if (earlier.method, earlier.path, earlier.params) != (method, path, params):
        error = StripeError(
            "Keys for idempotent requests can only be used with the same parameters they "
            f"were first used with. Try using a key other than '{key}' if you meant to "
            "execute a different request.",
            type="idempotency_error",
        )
        return error.status, error.as_json(), {}
    return earlier.status, earlier.body, {"Idempotent-Replayed": "true"}


# -- API routes ----------------------------------------------------------------------------

_ID = r"(?P<id>[A-Za-z0-9_]+)"


_ROUTES: list[tuple[str, re.Pattern[str], Callable[..., Any]]] = []


def _route(method: str, pattern: str):
    def register(handler):
        _ROUTES.append((method, re.compile(f"/v1/{pattern}"), handler))
        return handler

    return register


def route_api(
    state: FakeStripeState, method: str, path: str, params: dict[str, Any], livemode: bool
) -> tuple[StripeObject, list[StripeObject]]:
    """Run the operation ``method path`` names; returns the answer and the events it caused."""
    for route_method, pattern, handler in _ROUTES:
        match = pattern.fullmatch(path)
        if match and route_method == method:
            answer = handler(state, params, livemode, **match.groupdict())
            obj, events = answer if isinstance(answer, tuple) else (answer, [])
            expand = params.get("expand") or []
            return (state.expand(obj, expand) if expand else obj), events
    raise StripeError(
        f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs "
        "or we can help at https://support.stripe.com/.",
        status=404,
    )


@_route("POST", "customers")
def _create_customer(state, params, livemode):
    return state.create_customer(params, livemode)


@_route("GET", f"customers/{_ID}")
def _retrieve_customer(state, params, livemode, id):  # noqa: A002
    return state.retrieve("customer", id)


@_route("POST", f"customers/{_ID}")
def _update_customer(state, params, livemode, id):  # noqa: A002
    return state.update_customer(id, params)


@_route("POST", "products")
def _create_product(state, params, livemode):
    return state.create_product(params, livemode)


@_route("GET", f"products/{_ID}")
def _retrieve_product(state, params, livemode, id):  # noqa: A002
    return state.retrieve("product", id)


@_route("POST", "prices")
def _create_price(state, params, livemode):
    return state.create_price(params, livemode)


@_route("GET", "prices")
def _list_prices(state, params, livemode):
    return state.list_prices(params)


@_route("GET", f"prices/{_ID}")
def _retrieve_price(state, params, livemode, id):  # noqa: A002
    return state.retrieve("price", id)


@_route("POST", "tax_rates")
def _create_tax_rate(state, params, livemode):
    return fake_tax.create_tax_rate(state, params, livemode)


@_route("GET", f"tax_rates/{_ID}")
def _retrieve_tax_rate(state, params, livemode, id):  # noqa: A002
    return state.retrieve("tax_rate", id)


@_route("POST", "checkout/sessions")
def _create_checkout_session(state, params, livemode):
    return state.create_checkout_session(params, livemode)


@_route("GET", f"checkout/sessions/{_ID}")
def _retrieve_checkout_session(state, params, livemode, id):  # noqa: A002
    return state.retrieve("checkout.session", id)


@_route("GET", f"checkout/sessions/{_ID}/line_items")
def _checkout_line_items(state, params, livemode, id):  # noqa: A002
    return state.checkout_line_items(id)


@_route("GET", "subscriptions")
def _list_subscriptions(state, params, livemode):
    return state.list_subscriptions(params)


@_route("GET", f"subscriptions/{_ID}")
def _retrieve_subscription(state, params, livemode, id):  # noqa: A002
    return state.retrieve("subscription", id)


@_route("POST", f"subscriptions/{_ID}")
def _update_subscription(state, params, livemode, id):  # noqa: A002
    return state.update_subscription(id, params)


@_route("DELETE", f"subscriptions/{_ID}")
def _cancel_subscription(state, params, livemode, id):  # noqa: A002
    return state.cancel_subscription(id)


@_route("GET", "invoices")
def _list_invoices(state, params, livemode):
    return state.list_invoices(params)


@_route("GET", f"invoices/{_ID}")
def _retrieve_invoice(state, params, livemode, id):  # noqa: A002
    return state.retrieve("invoice", id)


@_route("POST", "billing_portal/sessions")
def _create_portal_session(state, params, livemode):
    return state.create_portal_session(params, livemode)


@_route("GET", "events")
def _list_events(state, params, livemode):
    return state.list_events(params)


@_route("GET", f"events/{_ID}")
def _retrieve_event(state, params, livemode, id):  # noqa: A002
    return state.retrieve("event", id)


# -- payments, refunds and credit notes (refunds.py) -------------------------------------


@_route("GET", f"payment_intents/{_ID}")
def _retrieve_payment_intent(state, params, livemode, id):  # noqa: A002
    return state.retrieve("payment_intent", id)


@_route("GET", f"charges/{_ID}")
def _retrieve_charge(state, params, livemode, id):  # noqa: A002
    return state.retrieve("charge", id)


@_route("GET", "invoice_payments")
def _list_invoice_payments(state, params, livemode):
    return refunds.list_invoice_payments(state, params)


@_route("GET", f"invoice_payments/{_ID}")
def _retrieve_invoice_payment(state, params, livemode, id):  # noqa: A002
    return state.retrieve("invoice_payment", id)


@_route("POST", "refunds")
def _create_refund(state, params, livemode):
    return refunds.create_refund(state, params, livemode)


@_route("GET", "refunds")
def _list_refunds(state, params, livemode):
    return refunds.list_refunds(state, params)


@_route("GET", f"refunds/{_ID}")
def _retrieve_refund(state, params, livemode, id):  # noqa: A002
    return state.retrieve("refund", id)


@_route("POST", "credit_notes")
def _create_credit_note(state, params, livemode):
    return refunds.create_credit_note(state, params, livemode)


@_route("GET", "credit_notes")
def _list_credit_notes(state, params, livemode):
    return refunds.list_credit_notes(state, params)


@_route("GET", f"credit_notes/{_ID}")
def _retrieve_credit_note(state, params, livemode, id):  # noqa: A002
    return state.retrieve("credit_note", id)


# -- invoice previews (previews.py) -------------------------------------------------------


@_route("POST", "invoices/create_preview")
def _create_invoice_preview(state, params, livemode):
    return previews.create_preview(state, params)


# -- HTTP ----------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    """Splits API calls (``/v1/...``) from the hosted pages and writes the answers."""

    server_version = "FakeStripe/1.0"
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, a keep-alive
    # client waits ~40 ms for the delayed ACK on every call.
    disable_nagle_algorithm = True

    @property
    def fake(self) -> FakeStripe:
        return self.server.fake  # type: ignore[attr-defined]

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def do_DELETE(self) -> None:  # noqa: N802
        self._dispatch("DELETE")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        logger.info("%s " + format, self.address_string(), *args)

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        try:
            params = parse_form(url.query if method == "GET" else body or url.query)
        except ValueError as error:
            self._send_json(400, StripeError(str(error)).as_json())
            return
        if url.path.startswith("/v1/"):
            self._serve_api(method, url.path, params)
        else:
            self._serve_page(method, url.path, params)

    def _serve_api(self, method: str, path: str, params: dict[str, Any]) -> None:
        headers = {name.lower(): value for name, value in self.headers.items()}
        status, body, extra = self.fake.handle_api(method, path, params, headers)
        extra["Stripe-Version"] = headers.get("stripe-version") or self.fake.state.api_version
        if headers.get("idempotency-key"):
            extra["Idempotency-Key"] = headers["idempotency-key"]
        self._send_json(status, body, extra)

    def _serve_page(self, method: str, path: str, params: dict[str, Any]) -> None:
        try:
            page = pages.serve(self.fake, method, path, params)
        except StripeError as error:
            page = pages.error_page(error)
        except Exception:
            logger.exception("Fake Stripe page %s %s failed", method, path)
            page = pages.error_page(StripeError("The fake Stripe failed.", status=500))
        if page.redirect:
            self._send(HTTPStatus.SEE_OTHER, b"", {"Location": page.redirect})
        else:
            self._send(
                page.status, page.html.encode(), {"Content-Type": "text/html; charset=utf-8"}
            )

    def _send_json(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        payload = json.dumps(body, indent=2).encode()
        self._send(status, payload, {"Content-Type": "application/json", **(headers or {})})

    def _send(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
