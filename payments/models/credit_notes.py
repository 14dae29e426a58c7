from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from payments.models.records import IssuedRecord, IssuedRecordQuerySet

#: Fixed at issue time. The Stripe IDs are not among them: a credit note made from
#: a refund gets the ID of the Stripe credit note that links that refund later.
CREDIT_NOTE_ISSUED_FIELDS = (
    "number",
    "sequence",
    "invoice_id",
    "email",
    "currency",
    "net_amount",
    "tax_amount",
    "total_amount",
    "issued_at",
    "lines",
    "tax_breakdown",
    "reason",
    "language",
    "livemode",
)


class CreditNote(IssuedRecord):
    """A cancellation invoice (Stornorechnung): money given back on an invoice.

    It has its own gap-free number range (``CREDIT_NOTE_NUMBER_PREFIX``), refers to
    the corrected invoice (whose seller, buyer and tax treatment it repeats) and
    records the credited amounts per tax rate. One per Stripe refund and one per
    Stripe credit note: both IDs are unique, and a refund that a credit note links
    is the same credit. Delivery is tracked per step like an invoice's.
    """

    issued_fields = CREDIT_NOTE_ISSUED_FIELDS

    number = models.CharField(_("number"), max_length=40, unique=True)
    sequence = models.PositiveBigIntegerField(_("sequence"), editable=False)
    invoice = models.ForeignKey(
        "payments.Invoice",
        on_delete=models.PROTECT,
        related_name="credit_notes",
        verbose_name=_("corrected invoice"),
    )
    stripe_credit_note_id = models.CharField(
        _("Stripe credit note ID"), max_length=255, unique=True, null=True, blank=True
    )
    stripe_refund_id = models.CharField(
        _("Stripe refund ID"), max_length=255, unique=True, null=True, blank=True
    )
    email = models.EmailField(_("email"), blank=True)
    currency = models.CharField(_("currency"), max_length=3)
    net_amount = models.BigIntegerField(_("credited net amount"))
    tax_amount = models.BigIntegerField(_("credited tax amount"))
    total_amount = models.BigIntegerField(_("credited total"))
    issued_at = models.DateTimeField(_("issued"))
    lines = models.JSONField(_("lines"), default=list, blank=True)
    tax_breakdown = models.JSONField(_("tax per rate"), default=list, blank=True)
    #: Stripe's reason code (``duplicate``, ``requested_by_customer``, ...), or empty.
    reason = models.CharField(_("reason"), max_length=50, blank=True)
    language = models.CharField(_("language"), max_length=10, default="de")
    livemode = models.BooleanField(_("live mode"), default=False)

    objects = IssuedRecordQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_at", "-sequence"]
        verbose_name = _("cancellation invoice")
        verbose_name_plural = _("cancellation invoices")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(total_amount=models.F("net_amount") + models.F("tax_amount")),
                name="payments_creditnote_total_is_net_plus_tax",
            ),
            models.CheckConstraint(
                condition=models.Q(total_amount__gt=0),
                name="payments_creditnote_credits_something",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def pdf_filename(self) -> str:
        return f"{self.number}.pdf"

    def e_invoice_xml(self) -> bytes:
        """The Factur-X/ZUGFeRD EN 16931 CII XML (type 381, referring to the corrected
        invoice): embedded in the PDF, or sent on its own."""
        from payments.einvoice import credit_note_xml

        return credit_note_xml(self)
