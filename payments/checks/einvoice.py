"""Check that the seller's settings let every e-invoice pass EN 16931.

BR-CO-26 wants the seller identified by a VAT ID (BT-31) or a commercial register
entry (BT-30). A §19 UStG small business often has neither, and outside the EU the
VAT ID may not appear at all ("not subject to VAT", BR-O-02). Rather than issue
e-invoices the buyer's software rejects, the e-invoice step fails with this reason;
these checks say so before the first invoice.
"""

from __future__ import annotations

from django.core.checks import Error, Warning, register

from payments.checks.configuration import TAG, setting
from payments.conf import configured_settings as user_settings


def _given(seller: dict, key: str) -> bool:
    return bool(str(seller.get(key) or "").strip())


@register(TAG)
def check_seller_identifier(app_configs=None, **kwargs) -> list:
    seller = setting("SELLER")
    if user_settings() is None or not isinstance(seller, dict) or not seller:
        return []
    if seller.get("small_business") and not (
        _given(seller, "vat_id") or _given(seller, "register")
    ):
        return [
            Error(
                "PAYMENTS['SELLER'] is a §19 UStG small business without a VAT ID or "
                "register entry: its e-invoices fail EN 16931 rule BR-CO-26, so no "
                "invoice PDF can be made.",
                hint='Set PAYMENTS["SELLER"]["vat_id"] (a USt-IdNr., which small businesses '
                'can get from the Bundeszentralamt für Steuern) or ["register"].',
                id="payments.E011",
            )
        ]
    if not seller.get("small_business") and not _given(seller, "register"):
        return [
            Warning(
                "PAYMENTS['SELLER'] has no register entry: invoices to buyers outside the "
                "EU (VAT category 'not subject to VAT') may not carry the VAT ID "
                "(EN 16931 BR-O-02) and then lack the seller identifier BR-CO-26 requires; "
                "their PDF is not made.",
                hint='Set PAYMENTS["SELLER"]["register"], e.g. "Amtsgericht Berlin HRB 12345"; '
                "ignore this if you sell only within the EU.",
                id="payments.W005",
            )
        ]
    return []
