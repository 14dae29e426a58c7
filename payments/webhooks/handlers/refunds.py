"""``credit_note.created`` and ``charge.refunded``: money given back becomes a
cancellation invoice (``payments.invoicing.credit_notes``), once per refund
whichever of the two arrives first. Neither changes a subscription: access ends
only when Stripe's own subscription events say so.
"""

from __future__ import annotations

from payments.invoicing.credit_notes import credit_refunded_charge, credit_stripe_credit_note
from payments.webhooks.registry import Outcome, StripeEvent, handles


@handles("credit_note.created")
def credit_note_created(event: StripeEvent) -> Outcome | None:
    if credit_stripe_credit_note(event.object) is None:
        return Outcome.IGNORED_UNKNOWN
    return None


@handles("charge.refunded")
def charge_refunded(event: StripeEvent) -> Outcome | None:
    if not credit_refunded_charge(event.object):
        return Outcome.IGNORED_UNKNOWN
    return None
