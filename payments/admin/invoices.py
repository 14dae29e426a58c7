"""Invoices in the admin: read-only records with their delivery state.

Issued fields never change and invoices are never deleted, so the admin offers no
add, change or delete; it shows what was delivered and repairs what was not
(resend the email, retry the Lexoffice sync, download the PDF or its e-invoice XML).
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from payments.admin.permissions import CHANGE_MODEL, ActionPermissionMixin
from payments.einvoice import EInvoiceError
from payments.formatting import money
from payments.invoicing.delivery import PDF, resend_email, retry_lexoffice, run_step
from payments.models import CreditNote, Invoice
from payments.services.recorded_steps import Outcome


@admin.register(Invoice)
class InvoiceAdmin(ActionPermissionMixin, admin.ModelAdmin):
    list_display = (
        "number",
        "email",
        "total",
        "issued_at",
        "tax_treatment",
        "pdf_state",
        "email_state",
        "lexoffice_state",
    )
    list_filter = (
        "livemode",
        "tax_treatment",
        "lexoffice_skipped",
        "lexoffice_needs_attention",
        ("emailed_at", admin.EmptyFieldListFilter),
    )
    search_fields = ("number", "email", "stripe_invoice_id", "lexoffice_voucher_id")
    date_hierarchy = "issued_at"
    actions = ("resend_email_action", "retry_sync_action")
    readonly_fields = ("download_link",)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "number",
                    "stripe_invoice_id",
                    "issued_at",
                    "email",
                    "language",
                    "user",
                    "subscription",
                    "guest_subscription",
                )
            },
        ),
        (
            _("Amounts"),
            {
                "fields": (
                    "currency",
                    "net_amount",
                    "tax_amount",
                    "total_amount",
                    "tax_treatment",
                    "tax_breakdown",
                )
            },
        ),
        (_("Issued data"), {"fields": ("buyer", "seller", "lines", "period_start", "period_end")}),
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
                    "lexoffice_needs_attention",
                )
            },
        ),
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Invoice | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Invoice | None = None) -> bool:
        return False

    def get_urls(self):
        download = self.admin_site.admin_view(self.download_pdf_view)
        download_xml = self.admin_site.admin_view(self.download_xml_view)
        return [
            path("<int:pk>/pdf/", download, name="payments_invoice_pdf"),
            path("<int:pk>/e-invoice/", download_xml, name="payments_invoice_xml"),
            *super().get_urls(),
        ]

    @admin.display(description=_("total"), ordering="total_amount")
    def total(self, invoice: Invoice) -> str:
        return money(invoice.total_amount, invoice.currency, invoice.language)

    @admin.display(description=_("PDF"))
    def pdf_state(self, invoice: Invoice) -> str:
        return _state(bool(invoice.pdf), invoice.pdf_attempts, invoice.pdf_error)

    @admin.display(description=_("email"))
    def email_state(self, invoice: Invoice) -> str:
        return _state(invoice.emailed_at is not None, invoice.email_attempts, invoice.email_error)

    @admin.display(description=_("Lexoffice"))
    def lexoffice_state(self, invoice: Invoice) -> str:
        if invoice.lexoffice_skipped:
            return str(_("skipped"))
        if invoice.lexoffice_needs_attention:
            return str(_("needs a person: %(error)s") % {"error": invoice.lexoffice_error})
        done = invoice.lexoffice_synced_at is not None
        return _state(done, invoice.lexoffice_attempts, invoice.lexoffice_error)

    @admin.display(description=_("PDF"))
    def download_link(self, invoice: Invoice) -> str:
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>',
            reverse("admin:payments_invoice_pdf", args=[invoice.pk]),
            _("Download PDF"),
            reverse("admin:payments_invoice_xml", args=[invoice.pk]),
            _("Download e-invoice (XML)"),
        )

    def download_pdf_view(self, request: HttpRequest, pk: int) -> FileResponse:
        invoice = get_object_or_404(Invoice, pk=pk)
        if not self.has_view_permission(request, invoice):
            raise PermissionDenied
        return pdf_download(invoice, lambda: run_step(invoice.pk, PDF))

    def download_xml_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The Factur-X/ZUGFeRD XML on its own, e.g. for a buyer's e-invoice inbox."""
        invoice = get_object_or_404(Invoice, pk=pk)
        if not self.has_view_permission(request, invoice):
            raise PermissionDenied
        return e_invoice_download(invoice)

    @admin.action(description=_("Send the invoice email again"), permissions=[CHANGE_MODEL])
    def resend_email_action(self, request: HttpRequest, queryset) -> None:
        self._report(request, [resend_email(pk) for pk in queryset.values_list("pk", flat=True)])

    @admin.action(description=_("Retry the Lexoffice sync"), permissions=[CHANGE_MODEL])
    def retry_sync_action(self, request: HttpRequest, queryset) -> None:
        self._report(request, [retry_lexoffice(pk) for pk in queryset.values_list("pk", flat=True)])

    def _report(self, request: HttpRequest, outcomes: list[Outcome]) -> None:
        done = outcomes.count(Outcome.DONE)
        failed = len(outcomes) - done
        if done:
            message = ngettext("%d invoice done.", "%d invoices done.", done) % done
            self.message_user(request, message, messages.SUCCESS)
        if failed:
            message = (
                ngettext(
                    "%d invoice failed or was busy; see its last error.",
                    "%d invoices failed or were busy; see their last errors.",
                    failed,
                )
                % failed
            )
            self.message_user(request, message, messages.WARNING)


def pdf_download(record: Invoice | CreditNote, make_pdf: Callable[[], object]) -> FileResponse:
    """The stored PDF as an attachment, made first (``make_pdf``) if it is missing."""
    if not record.pdf:
        make_pdf()
        record.refresh_from_db()
    if not record.pdf:
        raise Http404(record.pdf_error or "The PDF could not be made.")
    return FileResponse(
        record.pdf.open("rb"),
        as_attachment=True,
        filename=record.pdf_filename,
        content_type="application/pdf",
    )


def e_invoice_download(record: Invoice | CreditNote) -> HttpResponse:
    """The Factur-X/ZUGFeRD XML on its own, e.g. for a buyer's e-invoice inbox."""
    try:
        xml = record.e_invoice_xml()
    except EInvoiceError as exc:
        raise Http404(str(exc)) from exc
    response = HttpResponse(xml, content_type="application/xml")
    response["Content-Disposition"] = f'attachment; filename="{record.number}-factur-x.xml"'
    return response


def _state(done: bool, attempts: int, error: str) -> str:
    if done:
        return "✓"
    if error:
        return _("failed (%(attempts)d): %(error)s") % {"attempts": attempts, "error": error[:80]}
    return str(_("pending"))
