"""Customers and subscriptions: searchable by email and every Stripe ID.

State fields mirror Stripe and are overwritten by the next webhook, so they are
shown read-only: a change belongs in Stripe (or ``manage-tier/``), not here.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from payments.models import Customer, GuestSubscription, Subscription

STRIPE_STATE_FIELDS = [
    "stripe_subscription_id",
    "status",
    "current_period_end",
    "cancel_at_period_end",
    "livemode",
    "stripe_state_at",
    "created_at",
    "updated_at",
]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["stripe_customer_id", "user", "livemode", "created_at"]
    list_filter = ["livemode"]
    list_select_related = ["user"]
    search_fields = ["stripe_customer_id", "user__email", "user__username"]
    raw_id_fields = ["user"]
    readonly_fields = ["created_at"]
    date_hierarchy = "created_at"


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = [
        "stripe_subscription_id",
        "user",
        "tier",
        "status",
        "current_period_end",
        "cancel_at_period_end",
        "livemode",
    ]
    list_filter = ["status", "tier", "livemode", "cancel_at_period_end"]
    list_select_related = ["user", "tier"]
    search_fields = [
        "stripe_subscription_id",
        "customer__stripe_customer_id",
        "user__email",
        "user__username",
    ]
    raw_id_fields = ["user", "customer"]
    readonly_fields = STRIPE_STATE_FIELDS
    date_hierarchy = "created_at"


@admin.register(GuestSubscription)
class GuestSubscriptionAdmin(admin.ModelAdmin):
    """Fieldsets leave out the access token's hash: staff never see or edit it."""

    list_display = [
        "email",
        "tier",
        "status",
        "current_period_end",
        "cancel_at_period_end",
        "user",
        "created_at",
    ]
    list_filter = ["status", "tier", "livemode", ("user", admin.EmptyFieldListFilter)]
    list_select_related = ["user", "tier"]
    search_fields = [
        "email",
        "stripe_customer_id",
        "stripe_subscription_id",
        "user__email",
    ]
    raw_id_fields = ["user"]
    readonly_fields = ["stripe_customer_id", *STRIPE_STATE_FIELDS]
    date_hierarchy = "created_at"
    fieldsets = [
        (None, {"fields": ["email", "tier", "user"]}),
        (_("Stripe"), {"fields": ["stripe_customer_id", *STRIPE_STATE_FIELDS]}),
    ]
