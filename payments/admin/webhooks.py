"""Read-only admin for the webhook's records: events received and failures."""

from __future__ import annotations

from django.contrib import admin

from payments.models import StripeCheckoutEvent, StripeEventFailure


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records written by the webhook alone: viewing them must not change them."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(StripeCheckoutEvent)
class StripeCheckoutEventAdmin(ReadOnlyAdmin):
    list_display = ("event_id", "event_type", "outcome", "livemode", "received_at", "processed_at")
    list_filter = ("outcome", "event_type", "livemode")
    search_fields = ("event_id", "stripe_object_id")
    date_hierarchy = "received_at"


@admin.register(StripeEventFailure)
class StripeEventFailureAdmin(ReadOnlyAdmin):
    list_display = ("event_id", "event_type", "occurred_at")
    list_filter = ("event_type",)
    search_fields = ("event_id",)
    date_hierarchy = "occurred_at"
    fields = ("event_id", "event_type", "occurred_at", "traceback")
