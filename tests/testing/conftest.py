"""A tiny webhook receiver: what a site's endpoint would see, verified with Stripe's SDK."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import stripe

SECRET = "whsec_receiver"


@dataclass
class Receiver:
    url: str
    events: list[stripe.Event] = field(default_factory=list)

    @property
    def types(self) -> list[str]:
        return [event.type for event in self.events]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    received: list[stripe.Event] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            payload = self.rfile.read(int(self.headers["Content-Length"]))
            try:
                event = stripe.Webhook.construct_event(
                    payload, self.headers.get("Stripe-Signature"), SECRET
                )
            except stripe.SignatureVerificationError:
                self.send_response(400)
            else:
                assert json.loads(payload)["id"] == event.id
                received.append(event)
                self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield Receiver(f"http://127.0.0.1:{server.server_address[1]}/webhook/", received)
    server.shutdown()
    server.server_close()
