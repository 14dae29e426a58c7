from __future__ import annotations

import copy

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower, Trim
from django.utils.translation import gettext_lazy as _

from payments.exceptions import ImmutableRecordError

#: Fields fixed when the invoice is issued (§14 UStG): they never change afterwards.
ISSUED_FIELDS = (
    "number",
    "sequence",
    "stripe_invoice_id",
    "email",
    "currency",
    "net_amount",
    "tax_amount",
    "total_amount",
    "discount_amount",
    "issued_at",
    "buyer",
    "seller",
    "lines",
    "tax_breakdown",
    "period_start",
    "period_end",
    "language",
    "livemode",
)


class InvoiceQuerySet(models.QuerySet):
    def delete(self):
        raise ImmutableRecordError("Invoices are never deleted; issue a correction instead.")

    def update(self, **kwargs):
        frozen = sorted(set(kwargs) & set(ISSUED_FIELDS))
        if frozen:
            raise ImmutableRecordError(f"Issued invoice fields cannot change: {', '.join(frozen)}")
        return super().update(**kwargs)


class InvoiceNumberSequence(models.Model):
    """The last number handed out per prefix.

    The row is incremented (``UPDATE ... RETURNING``, which locks it) inside the
    transaction that creates the invoice, so concurrent webhooks queue for the next
    number and a rollback gives the number back: numbers stay gap-free.
    """

    prefix = models.CharField(_("prefix"), max_length=20, unique=True)
    last_number = models.PositiveBigIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("invoice number sequence")
        verbose_name_plural = _("invoice number sequences")

    def __str__(self) -> str:
        return f"{self.prefix}{self.last_number}"


class Invoice(models.Model):
    """An issued invoice: an immutable tax record plus its delivery state.

    The issued fields (``ISSUED_FIELDS``) are frozen at creation. Delivery (PDF,
    email, Lexoffice) is tracked per step with done-at, attempts and last error so a
    retry does only what is missing.
    """

    number = models.CharField(_("number"), max_length=40, unique=True)
    sequence = models.PositiveBigIntegerField(_("sequence"), editable=False)
    stripe_invoice_id = models.CharField(_("Stripe invoice ID"), max_length=255, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invoices",
        verbose_name=_("user"),
    )
    subscription = models.ForeignKey(
        "payments.Subscription",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invoices",
        verbose_name=_("subscription"),
    )
    guest_subscription = models.ForeignKey(
        "payments.GuestSubscription",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invoices",
        verbose_name=_("guest subscription"),
    )
    email = models.EmailField(_("email"), db_index=True)
    currency = models.CharField(_("currency"), max_length=3)
    net_amount = models.BigIntegerField(_("net amount"))
    tax_amount = models.BigIntegerField(_("tax amount"))
    total_amount = models.BigIntegerField(_("total amount"))
    #: Stripe's discounts (coupons), already deducted from the net amount.
    discount_amount = models.BigIntegerField(_("discount"), default=0)
    issued_at = models.DateTimeField(_("issued"))
    #: Snapshots taken at issue time, so the PDF can be rendered again identically.
    buyer = models.JSONField(_("buyer"), default=dict, blank=True)
    seller = models.JSONField(_("seller"), default=dict, blank=True)
    lines = models.JSONField(_("lines"), default=list, blank=True)
    tax_breakdown = models.JSONField(_("tax per rate"), default=list, blank=True)
    period_start = models.DateTimeField(_("service period start"), null=True, blank=True)
    period_end = models.DateTimeField(_("service period end"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=10, default="de")
    livemode = models.BooleanField(_("live mode"), default=False)

    pdf = models.FileField(_("PDF"), upload_to="payments/invoices/%Y/", blank=True)
    pdf_attempts = models.PositiveSmallIntegerField(_("PDF attempts"), default=0)
    pdf_error = models.TextField(_("last PDF error"), blank=True)
    emailed_at = models.DateTimeField(_("emailed"), null=True, blank=True)
    email_attempts = models.PositiveSmallIntegerField(_("email attempts"), default=0)
    email_error = models.TextField(_("last email error"), blank=True)
    lexoffice_voucher_id = models.CharField(_("Lexoffice voucher ID"), max_length=64, blank=True)
    lexoffice_synced_at = models.DateTimeField(_("synced to Lexoffice"), null=True, blank=True)
    lexoffice_skipped = models.BooleanField(
        _("Lexoffice sync skipped"),
        default=False,
        help_text=_("Set when no LEXOFFICE_API_KEY was configured at delivery time."),
    )
    lexoffice_attempts = models.PositiveSmallIntegerField(_("Lexoffice attempts"), default=0)
    lexoffice_error = models.TextField(_("last Lexoffice error"), blank=True)

    objects = InvoiceQuerySet.as_manager()

    class Meta:
        ordering = ["-issued_at", "-sequence"]
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        indexes = [
            # Matches the normalised email the account-link backfill joins on.
            models.Index(Lower(Trim("email")), name="payments_invoice_email_norm"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(total_amount=models.F("net_amount") + models.F("tax_amount")),
                name="payments_invoice_total_is_net_plus_tax",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    def save(self, *args, **kwargs):
        changed = [
            name
            for name, value in getattr(self, "_issued_values", {}).items()
            if getattr(self, name) != value
        ]
        if changed and not self._state.adding:
            raise ImmutableRecordError(
                f"Invoice {self.number}: issued fields cannot change: {', '.join(changed)}"
            )
        super().save(*args, **kwargs)
        self._issued_values = {name: copy.deepcopy(getattr(self, name)) for name in ISSUED_FIELDS}

    def delete(self, *args, **kwargs):
        raise ImmutableRecordError("Invoices are never deleted; issue a correction instead.")

    @classmethod
    def from_db(cls, db, field_names, values, *args, **kwargs):
        instance = super().from_db(db, field_names, values, *args, **kwargs)
        instance._issued_values = {
            name: value
            for name, value in zip(field_names, values, strict=True)
            if name in ISSUED_FIELDS
        }
        return instance

    @property
    def pdf_filename(self) -> str:
        """The PDF's name wherever it goes: storage, email attachment, Lexoffice."""
        return f"{self.number}.pdf"

    @property
    def is_small_business(self) -> bool:
        """Issued under §19 UStG: no VAT charged, a note instead of a tax line."""
        return bool(self.seller.get("small_business"))

    @property
    def is_reverse_charge(self) -> bool:
        """An EU business buyer (VAT ID given) charged no tax: the buyer owes it."""
        return (
            not self.is_small_business and self.tax_amount == 0 and bool(self.buyer.get("vat_ids"))
        )
