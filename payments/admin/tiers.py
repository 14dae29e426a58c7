from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from payments.admin.permissions import ActionPermissionMixin
from payments.models import SubscriptionTier


@admin.register(SubscriptionTier)
class SubscriptionTierAdmin(ActionPermissionMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "slug",
        "unit_amount",
        "currency",
        "interval",
        "trial_days",
        "stripe_price_id_test",
        "stripe_price_id_live",
        "position",
        "is_active",
    ]
    list_editable = ["position", "is_active"]
    list_filter = ["is_active", "interval"]
    search_fields = ["slug", "name", "name_de", "stripe_price_id_test", "stripe_price_id_live"]
    prepopulated_fields = {"slug": ["name"]}
    fieldsets = [
        (None, {"fields": ["name", "slug", "description", ("position", "is_active")]}),
        (_("German"), {"fields": ["name_de", "description_de"]}),
        (_("Price"), {"fields": [("unit_amount", "currency", "interval"), "trial_days"]}),
        (
            _("Stripe price IDs"),
            {
                "fields": [("stripe_price_id_test", "stripe_price_id_live")],
                "description": _(
                    "The price ID of the mode set by STRIPE_LIVE_MODE is used at checkout."
                ),
            },
        ),
        (_("Features"), {"fields": [("includes_data", "includes_reading", "includes_ebooks")]}),
    ]
