"""System checks: every missing or contradictory setting surfaces in ``manage.py check``.

Importing this package (``PaymentsConfig.ready()`` does) registers the checks:
settings in ``configuration``, sellable tiers in ``tiers``, the PDF toolchain in
``pdf``, the seller data e-invoices need in ``einvoice``, privacy of PDFs and trusted
emails in ``security``, tax settings in ``tax``. Ids: ``payments.E0xx`` for errors,
``payments.W0xx`` for warnings.
"""

from payments.checks import configuration, einvoice, pdf, security, tax, tiers

__all__ = ["configuration", "einvoice", "pdf", "security", "tax", "tiers"]
