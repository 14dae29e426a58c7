from payments.models.credit_notes import CreditNote
from payments.models.events import IdentityEvent, StripeCheckoutEvent, StripeEventFailure
from payments.models.invoices import (
    Invoice,
    InvoiceNumberSequence,
    TaxTreatment,
    WithheldInvoice,
)
from payments.models.subscriptions import (
    ACCESS_GRANTING_STATUSES,
    Customer,
    GuestSubscription,
    PaymentFailureNotice,
    Subscription,
)
from payments.models.tiers import FEATURE_LABELS, SubscriptionTier

__all__ = [
    "ACCESS_GRANTING_STATUSES",
    "CreditNote",
    "FEATURE_LABELS",
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
    "TaxTreatment",
    "WithheldInvoice",
]
