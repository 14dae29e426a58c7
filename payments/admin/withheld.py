"""Paid Stripe invoices not issued yet, with the reason, and a way to retry them."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from payments.invoicing.issue import retry_withheld
from payments.models import WithheldInvoice


@admin.register(WithheldInvoice)
class WithheldInvoiceAdmin(admin.ModelAdmin):
    list_display = (
        "stripe_invoice_id",
        "reason",
        "attempts",
        "created_at",
        "updated_at",
        "invoice",
    )
    list_filter = (("invoice", admin.EmptyFieldListFilter),)
    search_fields = ("stripe_invoice_id", "reason")
    readonly_fields = [field.name for field in WithheldInvoice._meta.fields]
    actions = ("retry_action",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: WithheldInvoice | None = None):
        return False

    @admin.action(description=_("Issue again from Stripe's current data"), permissions=["change"])
    def retry_action(self, request: HttpRequest, queryset) -> None:
        issued = 0
        for withheld in queryset.filter(invoice__isnull=True):
            try:
                with transaction.atomic():
                    issued += retry_withheld(withheld) is not None
            except Exception as error:  # Stripe unreachable: say so, keep the row
                self.message_user(request, f"{withheld}: {error}", messages.ERROR)
        self.message_user(
            request,
            ngettext("%(count)d invoice issued.", "%(count)d invoices issued.", issued)
            % {"count": issued},
            messages.SUCCESS if issued else messages.WARNING,
        )
