"""Check that every tier on sale can be bought in the current mode.

Registered without ``Tags.database`` on purpose: Django runs database-tagged checks
only with ``check --database``, and a site owner expects plain ``manage.py check``
to say that a tier has no price. Before ``migrate`` (no table yet) or without a
reachable database the check is skipped instead of crashing the command.

A warning, not an error: ``migrate`` creates the tiers without prices, and an error
would stop ``runserver`` and with it the admin where the prices are entered.
"""

from __future__ import annotations

from django.core.checks import Warning, register
from django.db import DatabaseError

from payments.checks.configuration import TAG, mode
from payments.models import SubscriptionTier


@register(TAG)
def check_active_tiers_have_prices(app_configs=None, **kwargs) -> list:
    current = mode()
    field = f"stripe_price_id_{current}"
    try:
        slugs = list(
            SubscriptionTier.objects.active().filter(**{field: ""}).values_list("slug", flat=True)
        )
    except DatabaseError:  # no table before migrate, or no database server yet
        return []
    return [
        Warning(
            f"The active tier {slug!r} has no Stripe price ID for {current} mode; "
            "its checkout answers 400.",
            hint=f"Enter the tier's {field} in the admin (Payments → Subscription tiers), "
            "or deactivate the tier.",
            obj=f"SubscriptionTier {slug}",
            id="payments.W003",
        )
        for slug in slugs
    ]
