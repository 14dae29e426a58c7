from __future__ import annotations

from datetime import date, datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower, Trim
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from payments.models.records import IssuedRecord, IssuedRecordQuerySet

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
    "tax_treatment",
)


class TaxTreatment(models.TextChoices):
    """How VAT applies to one sale (``payments.invoicing.tax.decide_treatment``)."""

    DOMESTIC = "domestic", _("German VAT")
    REVERSE_CHARGE = "reverse_charge", _("Reverse charge (EU business)")
    EU_CONSUMER = "eu_consumer", _("EU consumer (VAT of their country, OSS)")
    OUTSIDE_EU = "outside_eu", _("Outside the EU (not taxable in Germany)")
    SMALL_BUSINESS = "small_business", _("Small business (§ 19 UStG)")

    def fill_missing_email(self, email: str) -> int:
        """Give an email to those of these invoices issued without one.

        The one exception to the frozen issued fields: an invoice issued before
        its checkout was known may lack the buyer's address, which is not part
        of what §14 UStG fixes, and without it the invoice is never sent.
        """
        return models.QuerySet.update(self.filter(email=""), email=email)


class InvoiceQuerySet(IssuedRecordQuerySet):
    def fill_missing_email(self, email: str) -> int:
        """Give an email to those of these invoices issued without one.

        The one exception to the frozen issued fields: an invoice issued before
        its checkout was known may lack the buyer's address, which is not part
        of what §14 UStG fixes, and without it the invoice is never sent.
        """
        return models.QuerySet.update(self.filter(email=""), email=email)


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


class Invoice(IssuedRecord):
    """An issued invoice: an immutable tax record plus its delivery state.

    The issued fields (``ISSUED_FIELDS``) are frozen at creation. Delivery (PDF,
    email, Lexoffice) is tracked per step with done-at, attempts and last error so a
    retry does only what is missing.
    """

    issued_fields = ISSUED_FIELDS

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
    tax_treatment = models.CharField(
        _("tax treatment"),
        max_length=20,
        choices=TaxTreatment.choices,
        default=TaxTreatment.DOMESTIC,
    )

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

    @property
    def pdf_filename(self) -> str:
        """The PDF's name wherever it goes: storage, email attachment, Lexoffice."""
        return f"{self.number}.pdf"

    def e_invoice_xml(self) -> bytes:
        """The Factur-X/ZUGFeRD EN 16931 CII XML: embedded in the PDF, or sent on its own."""
        from payments.einvoice import invoice_xml

        return invoice_xml(self)

    @property
    def is_small_business(self) -> bool:
        """Issued under §19 UStG: no VAT charged, a note instead of a tax line."""
        return self.tax_treatment == TaxTreatment.SMALL_BUSINESS

    @property
    def is_reverse_charge(self) -> bool:
        """An EU business buyer with a VAT ID of its country: the buyer owes the VAT."""
        return self.tax_treatment == TaxTreatment.REVERSE_CHARGE

    # The buyer and seller as issued, for every document made from this invoice
    # (PDF, e-invoice, credit note): read these, not the raw snapshots.

    @property
    def buyer_name(self) -> str:
        return self.buyer.get("name") or ""

    @property
    def buyer_address_lines(self) -> list[str]:
        """Street lines, postcode and city, state, country, as printed."""
        return list(self.buyer.get("address") or [])

    @property
    def buyer_postal_address(self) -> dict[str, str]:
        """Stripe's structured address (``line1``, ``line2``, ``postal_code``, ``city``,
        ``state``, ``country``), empty strings where unknown."""
        address = self.buyer.get("postal_address") or {}
        keys = ("line1", "line2", "postal_code", "city", "state", "country")
        return {key: address.get(key) or "" for key in keys}

    @property
    def buyer_country(self) -> str:
        return (self.buyer.get("country") or "").upper()

    @property
    def buyer_vat_id(self) -> str:
        """The VAT ID of the buyer's country that reverse charge relies on, else the
        first one the buyer gave, or ""."""
        vat_ids = self.buyer.get("vat_ids") or []
        return self.buyer.get("vat_id") or (vat_ids[0] if vat_ids else "")

    @property
    def period_first_day(self) -> date | None:
        return timezone.localdate(self.period_start) if self.period_start else None

    @property
    def period_last_day(self) -> date | None:
        """The last day served, printed inclusive (``last_day_of``)."""
        return last_day_of(self.period_end)

    @property
    def seller_address_lines(self) -> list[str]:
        """The seller's address as printed: the structured one if given, else ``address``."""
        seller = self.seller
        if seller.get("street"):
            city = " ".join(filter(None, (seller.get("postal_code"), seller.get("city"))))
            return [line for line in (seller["street"], city, seller.get("country")) if line]
        return [line for line in str(seller.get("address") or "").splitlines() if line.strip()]


def last_day_of(period_end: datetime | None) -> date | None:
    """Stripe's period end is the moment the next period starts: its day belongs to the
    next period, so the last day served is the day before (a month from 3 Dec is
    3 Dec to 2 Jan)."""
    if period_end is None:
        return None
    return timezone.localdate(period_end) - timedelta(days=1)


class WithheldInvoice(models.Model):
    """A paid Stripe invoice that could not become an ``Invoice`` yet, and why.

    Nothing is numbered for it (numbers stay gap-free). ``deliver_invoices`` and the
    admin's retry read the Stripe invoice and customer again and issue it once the
    missing data (e.g. the buyer's full address, §33 UStDV) is there, or a person
    corrects the tax setup.
    """

    stripe_invoice_id = models.CharField(_("Stripe invoice ID"), max_length=255, unique=True)
    reason = models.TextField(_("reason"))
    subscription = models.ForeignKey(
        "payments.Subscription",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("subscription"),
    )
    guest_subscription = models.ForeignKey(
        "payments.GuestSubscription",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("guest subscription"),
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=1)
    created_at = models.DateTimeField(_("first refused"), auto_now_add=True)
    updated_at = models.DateTimeField(_("last attempt"), auto_now=True)
    invoice = models.OneToOneField(
        Invoice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("issued as"),
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("withheld invoice")
        verbose_name_plural = _("withheld invoices")

    def __str__(self) -> str:
        return self.stripe_invoice_id
