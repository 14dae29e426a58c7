"""Cancellation invoices in the admin: read-only, like invoices, and listed on the
invoice they correct. Resending the email and retrying the Lexoffice sync change
something, so those actions need the change permission (``payments.change_creditnote``),
not just view.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from payments.admin.invoices import InvoiceAdmin, _state, e_invoice_download, pdf_download
from payments.admin.permissions import CHANGE_MODEL, ActionPermissionMixin
from payments.formatting import money
from payments.invoicing.delivery import (
    CREDIT_NOTE_PDF,
    resend_credit_note_email,
    retry_credit_note_lexoffice,
    run_credit_note_step,
)
from payments.models import CreditNote
from payments.services.recorded_steps import Outcome


def credited_total(credit_note: CreditNote) -> str:
    return money(credit_note.total_amount, credit_note.currency, credit_note.language)


class ReadOnly:
    """Issued documents are never added, changed or deleted here."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class CreditNoteInline(ReadOnly, admin.TabularInline):
    """The invoice's cancellation invoices, on the invoice's page."""

    model = CreditNote
    fields = ("link", "issued_at", "total", "reason", "emailed_at", "lexoffice_synced_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    @admin.display(description=_("cancellation invoice"))
    def link(self, credit_note: CreditNote) -> str:
        url = reverse("admin:payments_creditnote_change", args=[credit_note.pk])
        return format_html('<a href="{}">{}</a>', url, credit_note.number)

    @admin.display(description=_("credited total"))
    def total(self, credit_note: CreditNote) -> str:
        return credited_total(credit_note)


#: The invoice's page lists its cancellation invoices (kept here, with the inline).
InvoiceAdmin.inlines = (*InvoiceAdmin.inlines, CreditNoteInline)


@admin.register(CreditNote)
class CreditNoteAdmin(ActionPermissionMixin, ReadOnly, admin.ModelAdmin):
    list_display = (
        "number",
        "invoice_link",
        "email",
        "total",
        "issued_at",
        "pdf_state",
        "email_state",
        "lexoffice_state",
    )
    list_filter = ("livemode", "lexoffice_skipped", ("emailed_at", admin.EmptyFieldListFilter))
    list_select_related = ("invoice",)
    search_fields = (
        "number",
        "invoice__number",
        "email",
        "stripe_credit_note_id",
        "stripe_refund_id",
        "lexoffice_voucher_id",
    )
    date_hierarchy = "issued_at"
    actions = ("resend_email_action", "retry_sync_action")
    readonly_fields = ("invoice_link", "download_link")
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "number",
                    "invoice_link",
                    "issued_at",
                    "reason",
                    "stripe_credit_note_id",
                    "stripe_refund_id",
                    "email",
                    "language",
                )
            },
        ),
        (
            _("Amounts"),
            {"fields": ("currency", "net_amount", "tax_amount", "total_amount", "tax_breakdown")},
        ),
        (_("Issued data"), {"fields": ("lines",)}),
        (
            _("Delivery"),
            {
                "fields": (
                    "download_link",
                    "pdf_attempts",
                    "pdf_error",
                    "emailed_at",
                    "email_attempts",
                    "email_error",
                    "lexoffice_voucher_id",
                    "lexoffice_synced_at",
                    "lexoffice_skipped",
                    "lexoffice_attempts",
                    "lexoffice_error",
                )
            },
        ),
    )

    def get_urls(self):
        download = self.admin_site.admin_view(self.download_pdf_view)
        download_xml = self.admin_site.admin_view(self.download_xml_view)
        return [
            path("<int:pk>/pdf/", download, name="payments_creditnote_pdf"),
            path("<int:pk>/e-invoice/", download_xml, name="payments_creditnote_xml"),
            *super().get_urls(),
        ]

    @admin.display(description=_("corrected invoice"), ordering="invoice__number")
    def invoice_link(self, credit_note: CreditNote) -> str:
        url = reverse("admin:payments_invoice_change", args=[credit_note.invoice_id])
        return format_html('<a href="{}">{}</a>', url, credit_note.invoice.number)

    @admin.display(description=_("credited total"), ordering="total_amount")
    def total(self, credit_note: CreditNote) -> str:
        return credited_total(credit_note)

    @admin.display(description=_("PDF"))
    def pdf_state(self, credit_note: CreditNote) -> str:
        return _state(bool(credit_note.pdf), credit_note.pdf_attempts, credit_note.pdf_error)

    @admin.display(description=_("email"))
    def email_state(self, credit_note: CreditNote) -> str:
        done = credit_note.emailed_at is not None
        return _state(done, credit_note.email_attempts, credit_note.email_error)

    @admin.display(description=_("Lexoffice"))
    def lexoffice_state(self, credit_note: CreditNote) -> str:
        if credit_note.lexoffice_skipped:
            return str(_("skipped"))
        done = credit_note.lexoffice_synced_at is not None
        return _state(done, credit_note.lexoffice_attempts, credit_note.lexoffice_error)

    @admin.display(description=_("PDF"))
    def download_link(self, credit_note: CreditNote) -> str:
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>',
            reverse("admin:payments_creditnote_pdf", args=[credit_note.pk]),
            _("Download PDF"),
            reverse("admin:payments_creditnote_xml", args=[credit_note.pk]),
            _("Download e-invoice (XML)"),
        )

    def download_pdf_view(self, request: HttpRequest, pk: int) -> FileResponse:
        credit_note = get_object_or_404(CreditNote, pk=pk)
        if not self.has_view_permission(request, credit_note):
            raise PermissionDenied
        return pdf_download(
            credit_note, lambda: run_credit_note_step(credit_note.pk, CREDIT_NOTE_PDF)
        )

    def download_xml_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        credit_note = get_object_or_404(CreditNote, pk=pk)
        if not self.has_view_permission(request, credit_note):
            raise PermissionDenied
        return e_invoice_download(credit_note)

    @admin.action(description=_("Send the email again"), permissions=[CHANGE_MODEL])
    def resend_email_action(self, request: HttpRequest, queryset) -> None:
        pks = queryset.values_list("pk", flat=True)
        self._report(request, [resend_credit_note_email(pk) for pk in pks])

    @admin.action(description=_("Retry the Lexoffice sync"), permissions=[CHANGE_MODEL])
    def retry_sync_action(self, request: HttpRequest, queryset) -> None:
        pks = queryset.values_list("pk", flat=True)
        self._report(request, [retry_credit_note_lexoffice(pk) for pk in pks])

    def _report(self, request: HttpRequest, outcomes: list[Outcome]) -> None:
        done = outcomes.count(Outcome.DONE)
        failed = len(outcomes) - done
        if done:
            message = (
                ngettext("%d cancellation invoice done.", "%d cancellation invoices done.", done)
                % done
            )
            self.message_user(request, message, messages.SUCCESS)
        if failed:
            message = (
                ngettext(
                    "%d cancellation invoice failed or was busy; see its last error.",
                    "%d cancellation invoices failed or were busy; see their last errors.",
                    failed,
                )
                % failed
            )
            self.message_user(request, message, messages.WARNING)
