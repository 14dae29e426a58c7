"""An invoice line as both the PDF and the e-invoice show it.

The PDF and the Factur-X XML must name and price each line alike, so its title
(in the active language: the invoice's, while either is rendered) and its net
amount are worked out here once, not in the template and the adapter apart.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext


def line_title(line: dict[str, Any]) -> str:
    """ "Reader subscription, monthly" from the tier; Stripe's own text for other lines."""
    tier = line.get("tier")
    if not tier:
        return str(line.get("description") or "")
    if line.get("interval") == "year":
        return gettext("%(tier)s subscription, yearly") % {"tier": tier}
    if line.get("interval") == "month":
        return gettext("%(tier)s subscription, monthly") % {"tier": tier}
    return str(tier)


def line_net(line: dict[str, Any]) -> int:
    """The line's amount without VAT: Stripe's ``amount`` includes it for inclusive
    prices; the snapshot's ``net_amount`` never does (invoices issued before it was
    recorded had exclusive amounts only)."""
    return line["net_amount"] if "net_amount" in line else line["amount"]
