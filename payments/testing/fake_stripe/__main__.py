"""Run the fake Stripe for the demo: ``python -m payments.testing.fake_stripe --port 12111``."""

from __future__ import annotations

import argparse
import logging
import threading

from payments.testing.fake_stripe.server import FakeStripe


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m payments.testing.fake_stripe",
        description="A local Stripe API with hosted checkout and billing-portal pages.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--webhook-url", default="", help="where to post signed events")
    parser.add_argument("--webhook-secret", default="", help="whsec_... used to sign them")
    parser.add_argument(
        "--tax-percent", type=int, default=19, help="German VAT that Stripe Tax charges (percent)"
    )
    args = parser.parse_args(argv)
    if args.webhook_url and not args.webhook_secret:
        parser.error("--webhook-url needs --webhook-secret to sign events")

    logging.basicConfig(level=logging.INFO, format="fake-stripe: %(message)s")
    fake = FakeStripe(host=args.host, port=args.port)
    fake.start()
    fake.tax_percent = args.tax_percent
    if args.webhook_url:
        fake.deliver_webhooks_to(args.webhook_url, args.webhook_secret)
    print(fake.url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
