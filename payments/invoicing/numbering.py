"""Gap-free document numbers, one range per prefix.

Taking a number is one ``UPDATE ... SET last_number = last_number + 1 ... RETURNING``
inside the transaction that creates the document: the update locks the prefix's
row until that transaction ends, so concurrent issuers queue on it, and a rollback
gives the number back together with everything else the transaction wrote. Only the
very first number of a prefix needs a second statement, an insert that two first
issuers may race to: ``ON CONFLICT`` turns the loser's insert into the same locked
increment.

Invoices use ``INVOICE_NUMBER_PREFIX``; another range (the credit notes' ``ST-``)
calls :func:`allocate_number` with its own prefix.
"""

from __future__ import annotations

from django.db import connection, transaction

from payments.conf import payments_settings
from payments.models import InvoiceNumberSequence


def allocate_invoice_number() -> tuple[str, int]:
    """The next invoice number and its sequence; call inside the issuing atomic block."""
    return allocate_number(payments_settings.INVOICE_NUMBER_PREFIX)


def allocate_number(prefix: str) -> tuple[str, int]:
    """Take the next number of ``prefix``'s range; call inside the issuing atomic block."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Document numbers are allocated only inside the issuing transaction.")
    table = connection.ops.quote_name(InvoiceNumberSequence._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET last_number = last_number + 1 "  # noqa: S608 (quoted name)
            "WHERE prefix = %s RETURNING last_number",
            [prefix],
        )
        row = cursor.fetchone()
        if row is None:  # the range's first number
            cursor.execute(
                f"INSERT INTO {table} (prefix, last_number) VALUES (%s, 1) "  # noqa: S608
                f"ON CONFLICT (prefix) DO UPDATE SET last_number = {table}.last_number + 1 "
                "RETURNING last_number",
                [prefix],
            )
            row = cursor.fetchone()
    return format_number(prefix, row[0]), row[0]


def format_number(prefix: str, sequence: int) -> str:
    return f"{prefix}{sequence:06d}"
