"""Real task-worker processes, two at once, on PostgreSQL: each step once per invoice.

For each backend a site runs workers with (django-tasks-db's ``db_worker``, and
django-tasks-rq's ``rqworker`` on Redis), the test issues invoices as the webhook
does (delivery enqueued on commit, to that backend's queue) and enqueues every
delivery a second time, as a retry racing the first would. Two worker processes
drain the queue together: every invoice ends with one PDF, one email and one
Lexoffice voucher (the workers share the Lexoffice limiter through Redis;
tests/lexoffice/test_shared_limiter.py proves it holds).
"""

import os
import subprocess
import sys
from email import message_from_string
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection, transaction
from django_tasks_db.models import DBTaskResult

from payments.invoicing import issue_invoice
from payments.invoicing.delivery import deliver_invoice
from payments.models import Invoice
from tests.conftest_redis import REDIS_URL
from tests.invoices.stripe_data import stripe_invoice

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
INVOICES = 4


#: Per backend: the test process's TASKS backend and a worker that exits when idle.
BACKENDS = {
    "db": (
        "django_tasks_db.DatabaseBackend",
        ["db_worker", "--batch", "--no-startup-delay"],
    ),
    "rq": (
        "django_tasks_rq.RQBackend",
        ["rqworker", "--burst", "--job-class", "django_tasks_rq.Job", "default"],
    ),
}


@pytest.fixture(params=sorted(BACKENDS))
def backend(request, settings) -> str:
    """Enqueue to the backend's queue (emptied first: Redis outlives test databases)."""
    settings.TASKS = {"default": {"BACKEND": BACKENDS[request.param][0]}}
    if request.param == "rq":
        import django_rq

        settings.RQ_QUEUES = {"default": {"URL": REDIS_URL}}
        django_rq.get_queue("default").empty()
    return request.param


@pytest.fixture
def worker_env(tmp_path, settings, fake_lexoffice, backend) -> dict[str, str]:
    """The environment of the worker processes, and this process set up to match."""
    media, mail_dir = tmp_path / "media", tmp_path / "mail"
    media.mkdir()
    mail_dir.mkdir()
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(media)},
        },
    }
    database = connection.settings_dict
    credentials = quote(database["USER"] or "", safe="")
    if database["PASSWORD"]:
        credentials += ":" + quote(database["PASSWORD"], safe="")
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.workers.worker_settings",
        # The test database this process created, under its own name.
        "DATABASE_URL": f"postgres://{credentials}@{database['HOST'] or 'localhost'}:"
        f"{database['PORT'] or 5432}/{database['NAME']}",
        "WORKER_MEDIA_ROOT": str(media),
        "WORKER_MAIL_DIR": str(mail_dir),
        "WORKER_LEXOFFICE_URL": fake_lexoffice.url,
        "WORKER_LEXOFFICE_KEY": fake_lexoffice.api_key,
        "WORKER_CACHE_PREFIX": f"worker-test-{tmp_path.name}",
        "REDIS_URL": REDIS_URL,
        "WORKER_TASK_BACKEND": backend,
    }


def issue_and_enqueue_twice(reader_tier) -> list[Invoice]:
    invoices = []
    for _ in range(INVOICES):
        with transaction.atomic():  # the webhook's transaction: delivery queued on commit
            invoice = issue_invoice(stripe_invoice())
        deliver_invoice.enqueue(invoice.pk)  # a second delivery racing the first
        invoices.append(invoice)
    return invoices


def run_workers(env: dict[str, str], count: int = 2) -> None:
    """``count`` workers at once, each draining the queue until it is empty."""
    command = [sys.executable, "-m", "django", *BACKENDS[env["WORKER_TASK_BACKEND"]][1]]
    workers = [
        subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
        for _ in range(count)
    ]
    for worker in workers:
        _, errors = worker.communicate(timeout=240)
        assert worker.returncode == 0, errors[-3000:]


def sent_subjects(mail_dir: Path) -> list[str]:
    """The subject of every email the workers wrote (one file per connection)."""
    subjects = []
    for path in mail_dir.iterdir():
        for raw in path.read_text().split("-" * 79):
            if raw.strip():
                subjects.append(message_from_string(raw.strip())["Subject"])
    return subjects


def test_two_workers_deliver_each_invoice_exactly_once(
    worker_env, backend, reader_tier, payments_settings, fake_lexoffice
):
    invoices = issue_and_enqueue_twice(reader_tier)

    run_workers(worker_env)

    if backend == "db":
        results = DBTaskResult.objects.all()
        assert [result.status for result in results] == ["SUCCESSFUL"] * 2 * INVOICES
        assert len({worker for result in results for worker in result.worker_ids}) == 2
    numbers = sorted(invoice.number for invoice in invoices)
    delivered = Invoice.objects.order_by("number")
    assert all(invoice.pdf and invoice.emailed_at for invoice in delivered)
    assert all(invoice.lexoffice_synced_at for invoice in delivered)
    assert [invoice.pdf_attempts for invoice in delivered] == [1] * INVOICES
    assert [invoice.email_attempts for invoice in delivered] == [1] * INVOICES
    subjects = sent_subjects(Path(worker_env["WORKER_MAIL_DIR"]))
    assert sorted(next(n for n in numbers if n in subject) for subject in subjects) == numbers
    assert sorted(v["voucherNumber"] for v in fake_lexoffice.vouchers.values()) == numbers
    pdfs = list(Path(worker_env["WORKER_MEDIA_ROOT"]).rglob("*.pdf"))
    assert len(pdfs) == INVOICES
    assert all(path.read_bytes().startswith(b"%PDF-") for path in pdfs)
