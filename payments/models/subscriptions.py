from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower, Trim
from django.utils.translation import gettext_lazy as _

#: Stripe subscription statuses that grant access to a tier's features.
ACCESS_GRANTING_STATUSES = ("active", "trialing")


class Customer(models.Model):
    """A signed-in user's Stripe customer, reused across purchases."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="stripe_customer",
        verbose_name=_("user"),
    )
    stripe_customer_id = models.CharField(_("Stripe customer ID"), max_length=255, unique=True)
    livemode = models.BooleanField(_("live mode"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")

    def __str__(self) -> str:
        return self.stripe_customer_id


class SubscriptionQuerySet(models.QuerySet):
    def granting_access(self) -> SubscriptionQuerySet:
        """Subscriptions whose status unlocks their tier's features (paid or trialing)."""
        return self.filter(status__in=ACCESS_GRANTING_STATUSES)


class SubscriptionStateFields(models.Model):
    """State that Stripe's ``customer.subscription.*`` events keep current.

    ``stripe_state_at`` is the ``created`` time of the Stripe event that last wrote
    the state, so an older event arriving late never overwrites a newer one.
    """

    tier = models.ForeignKey(
        "payments.SubscriptionTier",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("tier"),
    )
    stripe_subscription_id = models.CharField(
        _("Stripe subscription ID"), max_length=255, unique=True
    )
    status = models.CharField(_("status"), max_length=32, db_index=True)
    current_period_end = models.DateTimeField(_("current period ends"), null=True, blank=True)
    cancel_at_period_end = models.BooleanField(_("cancels at period end"), default=False)
    livemode = models.BooleanField(_("live mode"), default=False)
    language = models.CharField(
        _("language"),
        max_length=10,
        blank=True,
        help_text=_("The language the buyer checked out in; emails and invoices use it."),
    )
    stripe_state_at = models.DateTimeField(_("state as of"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = SubscriptionQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def grants_access(self) -> bool:
        return self.status in ACCESS_GRANTING_STATUSES


class Subscription(SubscriptionStateFields):
    """A registered user's Stripe subscription, current or historical."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="subscriptions",
        verbose_name=_("user"),
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="subscriptions", verbose_name=_("customer")
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        indexes = [models.Index(fields=["user", "status"], name="payments_sub_user_status")]

    def __str__(self) -> str:
        return f"{self.stripe_subscription_id} ({self.status})"


class GuestSubscription(SubscriptionStateFields):
    """A subscription bought without an account, reached through a secret link.

    Only a SHA-256 hash of the access token is stored; the token itself exists in
    the email sent to the buyer and nowhere else (``services.access_links``).
    """

    email = models.EmailField(_("email"), db_index=True)
    stripe_customer_id = models.CharField(
        _("Stripe customer ID"), max_length=255, blank=True, db_index=True
    )
    token_hash = models.CharField(
        _("access token hash"), max_length=64, unique=True, editable=False
    )
    #: The link the buyer had before asking ``access-link/`` for a fresh one: it keeps
    #: working beside the fresh one until staff send a new link (which revokes both).
    previous_token_hash = models.CharField(
        _("previous access token hash"),
        max_length=64,
        blank=True,
        default="",
        db_default="",  # rows inserted by raw SQL (bulk loads) have no previous link
        db_index=True,
        editable=False,
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="guest_subscriptions",
        verbose_name=_("linked user"),
    )
    #: The access email's delivery, tracked like an invoice's steps.
    access_link_sent_at = models.DateTimeField(
        _("access link sent"), null=True, blank=True, editable=False
    )
    access_link_attempts = models.PositiveSmallIntegerField(
        _("access link attempts"), default=0, editable=False
    )
    access_link_error = models.TextField(_("last access link error"), blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("guest subscription")
        verbose_name_plural = _("guest subscriptions")
        indexes = [
            # Matches the normalised email the account-link backfill joins on.
            models.Index(Lower(Trim("email")), name="payments_guest_email_norm"),
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.status})"


class PaymentFailureNotice(models.Model):
    """The one email a buyer gets when Stripe could not charge an invoice.

    Stripe sends ``invoice.payment_failed`` for every failed attempt of the same
    invoice (Smart Retries); the unique ``stripe_invoice_id`` keeps it to one
    email per invoice. Sent after the commit like an invoice's email: attempts and
    the last error are recorded here, and ``deliver_invoices`` retries.
    """

    stripe_invoice_id = models.CharField(_("Stripe invoice ID"), max_length=255, unique=True)
    subscription = models.ForeignKey(
        Subscription,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        verbose_name=_("subscription"),
    )
    guest_subscription = models.ForeignKey(
        GuestSubscription,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        verbose_name=_("guest subscription"),
    )
    email = models.EmailField(_("email"), blank=True)
    #: Where the portal link points: ``SITE_URL`` or the webhook request's host,
    #: kept so a retry outside any request builds the same link.
    site_url = models.CharField(_("site address"), max_length=200, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    emailed_at = models.DateTimeField(_("emailed"), null=True, blank=True, editable=False)
    email_attempts = models.PositiveSmallIntegerField(
        _("email attempts"), default=0, editable=False
    )
    email_error = models.TextField(_("last email error"), blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("payment failure notice")
        verbose_name_plural = _("payment failure notices")

    def __str__(self) -> str:
        return f"{self.stripe_invoice_id} → {self.email}"

    @property
    def record(self) -> Subscription | GuestSubscription | None:
        return self.subscription or self.guest_subscription
