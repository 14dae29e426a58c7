"""Gap-free invoice numbers.

The sequence row of the prefix is locked (``SELECT ... FOR UPDATE``) inside the
transaction that creates the invoice: concurrent issuers queue on the lock, and a
rollback returns the number together with everything else the transaction wrote.
"""

from __future__ import annotations

from django.db import transaction

from payments.conf import payments_settings
from payments.models import InvoiceNumberSequence


def allocate_invoice_number(prefix: str | None = None) -> tuple[str, int]:
    """Lock the prefix's sequence row and take the next number; call inside atomic.

    Each prefix is its own range: invoices use ``INVOICE_NUMBER_PREFIX``,
    cancellation invoices pass ``CREDIT_NOTE_NUMBER_PREFIX``.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("Invoice numbers are allocated only inside the issuing transaction.")
    if prefix is None:
        prefix = payments_settings.INVOICE_NUMBER_PREFIX
    # get_or_create in a savepoint: two first-ever issuers racing to create the row
    # both end up locking the one row that won.
    InvoiceNumberSequence.objects.get_or_create(prefix=prefix)
    sequence = InvoiceNumberSequence.objects.select_for_update().get(prefix=prefix)
    sequence.last_number += 1
    sequence.save(update_fields=["last_number"])
    return format_invoice_number(prefix, sequence.last_number), sequence.last_number


def format_invoice_number(prefix: str, sequence: int) -> str:
    return f"{prefix}{sequence:06d}"
