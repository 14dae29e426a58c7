from payments.models.events import IdentityEvent, StripeCheckoutEvent, StripeEventFailure
from payments.models.invoices import Invoice, InvoiceNumberSequence
from payments.models.subscriptions import (
    ACCESS_GRANTING_STATUSES,
    Customer,
    GuestSubscription,
    PaymentFailureNotice,
    Subscription,
)
from payments.models.tiers import SubscriptionTier

__all__ = [
    "ACCESS_GRANTING_STATUSES",
    "Customer",
    "GuestSubscription",
    "IdentityEvent",
    "Invoice",
    "InvoiceNumberSequence",
    "PaymentFailureNotice",
    "StripeCheckoutEvent",
    "StripeEventFailure",
    "Subscription",
    "SubscriptionTier",
]
