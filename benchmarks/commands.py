"""backfill_user_links and identity_overview at 10,000 and 1,000,000 rows.

``python -m benchmarks commands`` measures the database ``DATABASE_URL`` names
(SQLite in memory without it). ``BENCH_SIZES=10000`` picks the sizes (default
``10000,1000000``). Per size: N guest subscriptions (nine in ten match one of
N/2 users, in mixed case and padded with spaces), N/10 guest invoices, N/1000
emails shared by two users, and N identity events, half of them older than the
30-day window. The floor is one sequential scan of the guest table at that size,
so "x floor" says how many table scans a command costs; the last lines give the
ratio between the largest and the smallest size (goal: no more than the ratio of
the rows).
"""

from __future__ import annotations

import os
import time
from datetime import timedelta
from io import StringIO

from benchmarks.support import count_queries, setup_django, test_database

#: One series of integers 1..n, written as a recursive CTE: PostgreSQL and SQLite
#: both run it, so the fill is one INSERT ... SELECT per table on either.
SERIES = "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < %s) "

#: Empty JSON values as each database takes them in an INSERT ... SELECT.
EMPTY_JSON = {
    "postgresql": {"object": "'{}'::jsonb", "array": "'[]'::jsonb"},
    "sqlite": {"object": "'{}'", "array": "'[]'"},
}


TABLES = ("payments_invoice", "payments_guestsubscription", "payments_identityevent", "auth_user")


def sizes() -> list[int]:
    return [int(size) for size in os.environ.get("BENCH_SIZES", "10000,1000000").split(",")]


def clear() -> None:
    """Empty the tables a previous size filled (children before parents)."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"DELETE FROM {table}")


def fill(n: int) -> None:
    """Write the data set with one set-based INSERT per table."""
    from django.db import connection
    from django.utils import timezone

    users = n // 2
    shared = max(n // 1000, 1)
    now = timezone.now()
    recent = connection.ops.adapt_datetimefield_value(now - timedelta(days=1))
    old = connection.ops.adapt_datetimefield_value(now - timedelta(days=60))
    user_email = f"'user' || ((i - 1) %% {users} + 1) || '@example.com'"
    json_ = EMPTY_JSON[connection.vendor]
    statements = [
        (
            "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, "
            "email, is_staff, is_active, date_joined) " + SERIES + "SELECT '', %s, 'user' || i, "
            "'', '', CASE WHEN i %% 3 = 0 THEN ' User' || i || '@Example.COM ' "
            "ELSE 'user' || i || '@example.com' END, %s, %s, %s FROM s",
            [users, False, False, True, old],
        ),
        (
            "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, "
            "email, is_staff, is_active, date_joined) " + SERIES + "SELECT '', %s, 'twin' || i, "
            "'', '', 'USER' || i || '@example.com', %s, %s, %s FROM s",
            [shared, False, False, True, old],
        ),
        (
            "INSERT INTO payments_guestsubscription (stripe_subscription_id, status, "
            "cancel_at_period_end, livemode, language, created_at, updated_at, email, "
            "stripe_customer_id, token_hash, access_link_attempts, access_link_error) "
            + SERIES
            + "SELECT 'sub_' || i, 'active', %s, %s, 'en', %s, %s, "
            "CASE WHEN i %% 10 = 0 THEN 'nobody' || i || '@example.com' "
            f"WHEN i %% 5 = 1 THEN '  ' || UPPER({user_email}) ELSE {user_email} END, "
            "'', 'token' || i, 0, '' FROM s",
            [n, False, False, old, old],
        ),
        (
            "INSERT INTO payments_invoice (number, sequence, stripe_invoice_id, email, currency, "
            "net_amount, tax_amount, discount_amount, total_amount, issued_at, buyer, seller, "
            "lines, "
            "tax_breakdown, language, livemode, pdf, pdf_attempts, pdf_error, email_attempts, "
            "email_error, lexoffice_voucher_id, lexoffice_skipped, lexoffice_attempts, "
            "lexoffice_error, lexoffice_needs_attention, tax_treatment) "
            + SERIES
            + "SELECT 'RE-' || i, i, 'in_' || i, "
            f"UPPER({user_email}), 'eur', 1000, 190, 0, 1190, %s, {json_['object']}, "
            f"{json_['object']}, {json_['array']}, {json_['array']}, 'de', %s, "
            "'', 0, '', 0, '', '', %s, 0, '', %s, 'domestic' FROM s",
            [n // 10, old, False, False, False],
        ),
        (
            "INSERT INTO payments_identityevent (event_type, user_id, email, metadata, "
            "created_at) " + SERIES + "SELECT CASE i %% 4 WHEN 0 THEN 'signup' WHEN 1 THEN "
            "'login' WHEN 2 THEN 'logout' ELSE 'login_failed' END, "
            "CASE WHEN i %% 4 = 3 THEN NULL "
            f"ELSE (SELECT MIN(id) FROM auth_user) + (i - 1) %% {users} END, '', "
            f"{json_['object']}, CASE WHEN i %% 2 = 0 THEN %s ELSE %s END FROM s",
            [n, recent, old],
        ),
    ]
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)
        cursor.execute("ANALYZE")


def seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def call(*args: str) -> str:
    from django.core.management import call_command

    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def guest_scan() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) FROM payments_guestsubscription WHERE email LIKE %s", ["%#%"]
        )


def measure(n: int) -> dict[str, float]:
    """Seconds per command at size ``n``, on tables holding only that size's rows."""
    clear()
    fill_s = seconds(lambda: fill(n))
    floor = min(seconds(guest_scan) for _ in range(3))
    results = {
        "backfill --dry-run": seconds(lambda: call("backfill_user_links", "--dry-run")),
    }
    summary: list[str] = []
    results["backfill"] = seconds(lambda: summary.append(call("backfill_user_links")))
    results["backfill, second run"] = seconds(lambda: call("backfill_user_links"))
    results["identity_overview --json"] = min(
        seconds(lambda: call("identity_overview", "--json")) for _ in range(3)
    )
    queries = count_queries(lambda: call("identity_overview", "--json"))
    print(f"-- {n:,} rows (fill {fill_s:.1f} s, floor {floor * 1000:.1f} ms)", flush=True)
    print("   " + summary[0].strip().splitlines()[-1], flush=True)
    for name, value in results.items():
        print(f"   {name:<28} {value:8.2f} s  {value / floor:8.1f}x floor", flush=True)
    print(f"   identity_overview queries    {queries}", flush=True)
    return results


def run() -> None:
    setup_django()
    from django.db import connection

    print(f"database: {connection.vendor}", flush=True)
    with test_database():
        figures = {n: measure(n) for n in sorted(sizes())}
    if len(figures) < 2:
        return
    small, large = min(figures), max(figures)
    print(f"-- ratio {large:,} / {small:,} rows ({large // small}x the rows)", flush=True)
    for name in figures[small]:
        ratio = figures[large][name] / figures[small][name]
        print(f"   {name:<28} {ratio:8.1f}x", flush=True)
