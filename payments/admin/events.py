"""Stripe events, webhook failures and identity events: evidence, so the admin only reads them."""

from django.contrib import admin

from payments.admin.permissions import ReadOnlyAdmin
from payments.models import (
    IdentityEvent,
    PaymentFailureNotice,
    StripeCheckoutEvent,
    StripeEventFailure,
)


@admin.register(StripeCheckoutEvent)
class StripeCheckoutEventAdmin(ReadOnlyAdmin):
    list_display = [
        "event_id",
        "event_type",
        "outcome",
        "reason",
        "livemode",
        "received_at",
        "processed_at",
    ]
    list_filter = ["event_type", "outcome", "reason", "livemode"]
    search_fields = ["event_id", "stripe_object_id"]
    date_hierarchy = "received_at"


@admin.register(StripeEventFailure)
class StripeEventFailureAdmin(ReadOnlyAdmin):
    """Where an operator finds why a delivery answered 500 (the event row rolled back)."""

    list_display = ["event_id", "event_type", "occurred_at"]
    list_filter = ["event_type"]
    search_fields = ["event_id"]
    date_hierarchy = "occurred_at"
    fields = ["event_id", "event_type", "occurred_at", "traceback"]


@admin.register(IdentityEvent)
class IdentityEventAdmin(ReadOnlyAdmin):
    list_display = ["event_type", "user", "email", "ip_address", "created_at"]
    list_filter = ["event_type"]
    list_select_related = ["user"]
    search_fields = ["email", "user__email", "user__username"]
    date_hierarchy = "created_at"


@admin.register(PaymentFailureNotice)
class PaymentFailureNoticeAdmin(ReadOnlyAdmin):
    """The one email per Stripe invoice whose payment failed; unsent ones show their error."""

    list_display = ["stripe_invoice_id", "email", "created_at", "emailed_at", "email_attempts"]
    list_filter = [("emailed_at", admin.EmptyFieldListFilter)]
    search_fields = ["stripe_invoice_id", "email"]
    date_hierarchy = "created_at"
