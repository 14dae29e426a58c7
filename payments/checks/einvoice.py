"""Check that the seller's settings let every e-invoice pass EN 16931.

BR-CO-26 wants the seller identified by a VAT ID (BT-31) or a commercial register
entry (BT-30); a tax number (BT-32) alone does not do, and outside the EU even the
VAT ID may not appear ("not subject to VAT", BR-O-02). Rather than embed XML the
buyer's software rejects, the PDF step fails with that reason; these checks say so
before the first invoice. A seller lacking what §14 UStG needs is reported by
``payments.E008`` first.
"""

from __future__ import annotations

from django.core.checks import Error, Warning, register

from payments.checks.configuration import SELLER_REQUIRED, SELLER_TAX_IDS, TAG, setting
from payments.conf import configured_settings as user_settings


def _given(seller: dict, key: str) -> bool:
    return bool(str(seller.get(key) or "").strip())


def _complete_for_ustg(seller: object) -> bool:
    return (
        isinstance(seller, dict)
        and all(_given(seller, key) for key in SELLER_REQUIRED)
        and any(_given(seller, key) for key in SELLER_TAX_IDS)
    )


@register(TAG)
def check_seller_identifier(app_configs=None, **kwargs) -> list:
    seller = setting("SELLER")
    if user_settings() is None or not _complete_for_ustg(seller):
        return []
    if not (_given(seller, "vat_id") or _given(seller, "register")):
        return [
            Error(
                "PAYMENTS['SELLER'] has neither a VAT ID nor a register entry: e-invoices "
                "fail EN 16931 rule BR-CO-26 (a tax number does not identify the seller), "
                "so no invoice PDF can be made.",
                hint='Set PAYMENTS["SELLER"]["vat_id"] (a USt-IdNr.; small businesses can '
                'get one from the Bundeszentralamt für Steuern) or ["register"].',
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
                "or silence payments.W005 if you sell only within the EU.",
                id="payments.W005",
            )
        ]
    return []
