"""``make load``: the example site under webhook load, against a floor in the same run.

gunicorn (``LOAD_WEB_WORKERS`` sync workers, default 4) serves the example site on
PostgreSQL (``LOAD_DATABASE_URL``, dropped and recreated) with a django-tasks-db
worker (``TASKS_BACKEND=db``) beside it and the fake Stripe in this process. A
bounded load generator (``LOAD_CONCURRENCY`` connections, default 16, only to
127.0.0.1) posts pre-signed events:

- the floor, ``load-floor/``: signature check and one insert, for ``LOAD_FLOOR_SECONDS``
  (default 10);
- the webhook, for ``LOAD_SECONDS`` (default 20): guest sales' three events
  (``checkout.session.completed``, ``customer.subscription.created``, ``invoice.paid``),
  every other sale with its checkout and ``invoice.paid`` swapped, and one request in
  five a duplicate of an event already sent.

The two alternate (floor, webhook, floor, webhook), each round half its duration.

It prints events/s and the p50/p99 latency of both, and the ratio (goal >= 0.35x).
The worker renders PDFs on the same cores as gunicorn from the first webhook round
on; ``LOAD_WORKER_NICE=19`` runs it at the lowest CPU priority, closer to a site
whose workers have hosts of their own.

Then, once the worker has drained the queue, the integrity: one event row per event
id sent, one invoice per paid Stripe invoice, gap-free numbers, every invoice
delivered, and every guest's emailed access link answering 200.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
WEBHOOK_PATH = "/payments/checkout/webhook/"
FLOOR_PATH = "/load-floor/"
WEBHOOK_SECRET = "whsec_fake_stripe_demo"  # the example site's, for its fake Stripe
DUPLICATE_SHARE = 0.2
GOAL = 0.35
#: Floor and webhook phases alternate this many times, each a share of its duration.
ROUNDS = 2


def setting(name: str, default: str) -> str:
    return os.environ.get(name, default)


@dataclass
class Phase:
    """What one phase's connections measured."""

    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    sent_ids: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, other: Phase) -> None:
        self.latencies += other.latencies
        self.sent_ids += other.sent_ids
        self.seconds += other.seconds
        for status, count in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + count

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile_ms(self, share: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000

    def line(self, name: str) -> str:
        return (
            f"{name:<8} {len(self.latencies):6d} events in {self.seconds:5.1f} s  "
            f"{self.rate:7.1f} events/s  p50 {self.percentile_ms(0.5):6.1f} ms  "
            f"p99 {self.percentile_ms(0.99):6.1f} ms  "
            f"statuses {dict(sorted(self.statuses.items()))}"
        )


def main() -> int:
    database_url = setting("LOAD_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/payments_load")
    port = int(setting("LOAD_PORT", "8089"))
    seconds = float(setting("LOAD_SECONDS", "20"))
    floor_seconds = float(setting("LOAD_FLOOR_SECONDS", "10"))
    concurrency = int(setting("LOAD_CONCURRENCY", "16"))
    web_workers = setting("LOAD_WEB_WORKERS", "4")
    recreate_database(database_url)

    from payments.testing.fake_stripe import FakeStripe

    with FakeStripe() as fake:
        env = site_environment(database_url, fake.url, port)
        os.environ.update(env)
        sys.path.insert(0, str(ROOT / "example_project"))
        import django

        django.setup()
        # The fake Stripe logs every request the worker makes; not this run's output.
        logging.getLogger("payments.testing").setLevel(logging.WARNING)
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
        sales = make_sales(fake, count=int(setting("LOAD_SALES", "1500")))
        log_dir = Path(setting("LOAD_LOG_DIR", "/tmp")) / f"payments-load-{os.getpid()}"
        log_dir.mkdir(parents=True, exist_ok=True)
        worker_log = log_dir / "worker.log"
        web = start(
            ["gunicorn", "--workers", web_workers, "--bind", f"{HOST}:{port}"]
            + ["--log-level", "warning", "example_project.wsgi:application"],
            env,
            log_dir / "gunicorn.log",
        )
        worker = start(
            ["django-admin", "db_worker", "--no-startup-delay", "--interval", "0.1"],
            env,
            worker_log,
            niceness=int(setting("LOAD_WORKER_NICE", "0")),
        )
        try:
            wait_for_port(port, web)
            print(
                f"database {database_url}, gunicorn {web_workers} workers, "
                f"concurrency {concurrency}, worker nice {setting('LOAD_WORKER_NICE', '0')}, "
                f"logs in {log_dir}",
                flush=True,
            )
            floor, app = Phase(), Phase()
            floor_queue, app_queue = iter(floor_requests(40000)), iter(webhook_requests(sales))
            for _ in range(ROUNDS):  # interleaved: a slow spell of the machine hits both
                floor.add(run_phase(port, floor_queue, concurrency, floor_seconds / ROUNDS))
                app.add(run_phase(port, app_queue, concurrency, seconds / ROUNDS))
            print(floor.line("floor"), flush=True)
            print(app.line("webhook"), flush=True)
            ratio = app.rate / floor.rate
            verdict = "met" if ratio >= GOAL else "NOT met"
            print(f"webhook / floor: {ratio:.3f}x (goal >= {GOAL}x): {verdict}", flush=True)
            drained = wait_for_queue(timeout=float(setting("LOAD_DRAIN_SECONDS", "600")))
            print(f"worker drained the queue in {drained:.1f} s after the load", flush=True)
            problems = check_integrity(app, sales, worker_log, port)
        finally:
            for process in (worker, web):
                stop(process)
    for problem in problems:
        print(f"INTEGRITY: {problem}", flush=True)
    print("integrity: " + ("ok" if not problems else f"{len(problems)} problem(s)"), flush=True)
    return 1 if problems else 0


# -- set-up -----------------------------------------------------------------------------


def recreate_database(database_url: str) -> None:
    """Drop and create the load database (its name is the URL's path)."""
    import psycopg

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def site_environment(database_url: str, stripe_url: str, port: int) -> dict[str, str]:
    path = os.pathsep.join([str(ROOT), str(ROOT / "example_project")])
    return {
        **os.environ,
        "PYTHONPATH": path + os.pathsep + os.environ.get("PYTHONPATH", ""),
        "DJANGO_SETTINGS_MODULE": "benchmarks._load_site",
        "DATABASE_URL": database_url,
        "DJANGO_DEBUG": "0",
        "TASKS_BACKEND": "db",
        "STRIPE_API_BASE": stripe_url,
        "SITE_URL": f"http://{HOST}:{port}",
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
    }


def make_sales(fake, count: int) -> list[dict[str, dict]]:
    """``count`` guest sales completed in the fake Stripe: their three events by type."""
    from payments.models import SubscriptionTier

    price = fake.create_price(990, product_name="Reader")
    SubscriptionTier.objects.filter(slug="reader").update(stripe_price_id_test=price["id"])
    sales = []
    for number in range(count):
        session = fake.create_checkout_session(
            price["id"],
            customer_email=f"load{number}@example.com",
            metadata={"price_id": price["id"], "tier": "reader"},
        )
        events = fake.complete_checkout(session["id"], deliver=False)
        sales.append({event["type"]: event for event in events})
    return sales


def start(
    command: list[str], env: dict[str, str], log: Path, niceness: int = 0
) -> subprocess.Popen:
    """Run a program of this virtualenv; ``niceness`` lowers its CPU priority."""
    binary = Path(sys.executable).parent / command[0]
    output = log.open("w")
    nice = ["nice", "-n", str(niceness)] if niceness else []
    return subprocess.Popen(
        [*nice, str(binary), *command[1:]],
        env=env,
        cwd=ROOT / "example_project",
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited; see its log")
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=2)
            connection.request("GET", "/payments/config/")
            connection.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer on {HOST}:{port} within {timeout} s")


# -- the requests -------------------------------------------------------------------------


def signed(payload: dict) -> tuple[bytes, str, str]:
    """The body, its ``Stripe-Signature`` and the event id."""
    import hashlib
    import hmac

    body = json.dumps(payload).encode()
    timestamp = int(time.time())
    digest = hmac.new(
        WEBHOOK_SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()
    return body, f"t={timestamp},v1={digest}", payload["id"]


def floor_requests(count: int) -> list[tuple[str, bytes, str, str]]:
    template = {"id": "", "object": "event", "type": "load.floor", "data": {"object": {}}}
    return [
        (FLOOR_PATH, *signed({**template, "id": f"evt_floor_{number}"})) for number in range(count)
    ]


def webhook_requests(sales: list[dict[str, dict]]) -> list[tuple[str, bytes, str, str]]:
    """Each sale's events in order (every other with checkout and invoice.paid swapped),
    and after the first events, one request in five a re-send of one already queued."""
    rng = random.Random(14)
    order = ["checkout.session.completed", "customer.subscription.created", "invoice.paid"]
    requests: list[tuple[str, bytes, str, str]] = []
    for number, sale in enumerate(sales):
        types = order if number % 2 == 0 else list(reversed(order))
        for event_type in types:
            if requests and rng.random() < DUPLICATE_SHARE / (1 - DUPLICATE_SHARE):
                requests.append(rng.choice(requests[-200:]))
            requests.append((WEBHOOK_PATH, *signed(sale[event_type])))
    return requests


def run_phase(port: int, requests: Iterator, concurrency: int, seconds: float) -> Phase:
    """Send the next of ``requests`` over ``concurrency`` keep-alive connections, for at
    most ``seconds`` (and never more than the iterator holds)."""
    phase = Phase()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def connection_loop() -> None:
        connection = http.client.HTTPConnection(HOST, port, timeout=30)
        while time.monotonic() < deadline:
            with lock:
                request = next(requests, None)
            if request is None:
                return
            path, body, signature, event_id = request
            start = time.perf_counter()
            connection.request(
                "POST",
                path,
                body=body,
                headers={"Content-Type": "application/json", "Stripe-Signature": signature},
            )
            response = connection.getresponse()
            response.read()
            elapsed = time.perf_counter() - start
            with lock:
                phase.latencies.append(elapsed)
                phase.statuses[response.status] = phase.statuses.get(response.status, 0) + 1
                phase.sent_ids.append(event_id)
        connection.close()

    threads = [threading.Thread(target=connection_loop) for _ in range(concurrency)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    phase.seconds = time.monotonic() - began
    return phase


# -- afterwards ---------------------------------------------------------------------------


def wait_for_queue(timeout: float) -> float:
    """Seconds until the worker has no task left to run (bounded by ``timeout``)."""
    from django_tasks_db.models import DBTaskResult

    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if not DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).exists():
            return time.monotonic() - began
        time.sleep(0.5)
    raise RuntimeError(f"the worker did not drain the queue within {timeout} s")


def check_integrity(app: Phase, sales: list[dict], worker_log: Path, port: int) -> list[str]:
    from payments.models import GuestSubscription, Invoice, StripeCheckoutEvent

    problems = []
    if set(app.statuses) != {200}:
        problems.append(f"the webhook answered {app.statuses}, not only 200")
    sent = set(app.sent_ids)
    recorded = list(
        StripeCheckoutEvent.objects.exclude(event_type="load.floor").values_list(
            "event_id", flat=True
        )
    )
    if len(recorded) != len(set(recorded)) or set(recorded) != sent:
        problems.append(
            f"{len(sent)} event ids sent, {len(recorded)} rows for "
            f"{len(set(recorded))} ids, {len(sent - set(recorded))} sent ids without a row"
        )
    paid = {
        sale["invoice.paid"]["data"]["object"]["id"]
        for sale in sales
        if sale["invoice.paid"]["id"] in sent
    }
    invoices = list(Invoice.objects.values_list("stripe_invoice_id", "sequence"))
    stripe_ids = [stripe_id for stripe_id, _ in invoices]
    if len(stripe_ids) != len(set(stripe_ids)) or not paid <= set(stripe_ids):
        problems.append(
            f"{len(paid)} paid Stripe invoices sent, {len(invoices)} invoices, "
            f"{len(paid - set(stripe_ids))} paid without an invoice"
        )
    sequences = sorted(sequence for _, sequence in invoices)
    if sequences != list(range(1, len(sequences) + 1)):
        problems.append(f"invoice numbers are not gap-free 1..{len(sequences)}")
    undelivered = (
        Invoice.objects.filter(pdf="").count()
        + Invoice.objects.filter(emailed_at__isnull=True).count()
    )
    if undelivered:
        problems.append(f"{undelivered} invoice steps (PDF, email) not done")
    links = sorted(
        set(re.findall(r"http://\S+/manage-tier/\?token=[\w-]+", worker_log.read_text()))
    )
    guests = GuestSubscription.objects.count()
    if len(links) != guests:
        problems.append(f"{guests} guest subscriptions, {len(links)} distinct access links emailed")
    broken = [link for link in links if link_status(link, port) != 200]
    if broken:
        problems.append(f"{len(broken)} of {len(links)} access links do not answer 200")
    print(
        f"checked: {len(sent)} event ids, {len(invoices)} invoices "
        f"(numbers 1..{len(sequences)}), {guests} guests, {len(links)} access links",
        flush=True,
    )
    return problems


def link_status(link: str, port: int) -> int:
    parts = urlsplit(link)
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    connection.request("GET", f"{parts.path}?{parts.query}", headers={"Accept": "application/json"})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response.status


if __name__ == "__main__":
    sys.exit(main())
