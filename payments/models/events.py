from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from payments.exceptions import ImmutableRecordError


class StripeCheckoutEvent(models.Model):
    """One row per Stripe event id: the webhook's idempotency guard and its log.

    The row is inserted in the same transaction as the event's domain changes; the
    unique ``event_id`` makes a concurrent duplicate wait for, then fail on, the
    first insert instead of processing twice. The stored payload, found by the
    indexed ``stripe_object_id``, lets a later handler read what an early event
    said about an object instead of asking Stripe.
    """

    class Outcome(models.TextChoices):
        PROCESSED = "processed", _("processed")
        IGNORED_TYPE = "ignored_type", _("ignored: unhandled type")
        IGNORED_LIVEMODE = "ignored_livemode", _("ignored: other mode")
        #: About a subscription not known here (yet): no effect. A checkout
        #: arriving later applies the newest such event from its stored payload.
        IGNORED_UNKNOWN = "ignored_unknown", _("ignored: unknown subscription")
        #: Can never apply (``reason`` says why): answered 200 so Stripe stops retrying.
        REJECTED = "rejected", _("rejected: cannot apply")

    class Reason(models.TextChoices):
        """Why an event was rejected: ``payments.exceptions.PermanentEventError``."""

        RESOURCE_MISSING = "resource_missing", _("Stripe object not found")
        CONNECTED_ACCOUNT = "connected_account", _("event of a connected account")
        NOT_A_TIER = "not_a_tier", _("not for a tier subscription")
        MALFORMED = "malformed", _("object lacks or mistypes a field")

    event_id = models.CharField(_("Stripe event ID"), max_length=255, unique=True)
    event_type = models.CharField(_("type"), max_length=100, db_index=True)
    livemode = models.BooleanField(_("live mode"), default=False)
    api_version = models.CharField(_("API version"), max_length=50, blank=True)
    stripe_created_at = models.DateTimeField(_("created at Stripe"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True)
    stripe_object_id = models.CharField(
        _("Stripe object ID"), max_length=255, blank=True, db_index=True
    )
    reason = models.CharField(
        _("reason"), max_length=20, choices=Reason.choices, blank=True, db_index=True
    )
    reason_detail = models.TextField(_("reason detail"), blank=True)
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now, db_index=True)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name = _("Stripe event")
        verbose_name_plural = _("Stripe events")

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"


class StripeEventFailure(models.Model):
    """A webhook delivery whose handling raised.

    The event's own row rolls back with the failure (so Stripe's retry processes
    it in full), which is why the traceback lives here, written after the rollback.
    """

    event_id = models.CharField(_("Stripe event ID"), max_length=255, db_index=True)
    event_type = models.CharField(_("type"), max_length=100)
    traceback = models.TextField(_("traceback"))
    occurred_at = models.DateTimeField(_("occurred"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-occurred_at"]
        verbose_name = _("Stripe event failure")
        verbose_name_plural = _("Stripe event failures")

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} at {self.occurred_at:%Y-%m-%d %H:%M:%S}"


class IdentityEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ImmutableRecordError("Identity events are append-only.")

    def delete(self):
        raise ImmutableRecordError("Identity events are append-only.")


class IdentityEventType(models.TextChoices):
    SIGNUP = "signup", _("signup")
    LOGIN = "login", _("login")
    LOGOUT = "logout", _("logout")
    LOGIN_FAILED = "login_failed", _("login failed")
    GUEST_CHECKOUT = "guest_checkout", _("guest checkout")
    EMAIL_CLAIM = "email_claim", _("email claim")
    ACCOUNT_LINK = "account_link", _("account link")


class IdentityEvent(models.Model):
    """Append-only audit log of identity events: who signed up, logged in, claimed."""

    EventType = IdentityEventType

    event_type = models.CharField(_("type"), max_length=20, choices=EventType.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="identity_events",
        verbose_name=_("user"),
    )
    email = models.EmailField(_("email"), blank=True)
    metadata = models.JSONField(_("metadata"), default=dict, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)

    objects = IdentityEventQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("identity event")
        verbose_name_plural = _("identity events")
        indexes = [
            models.Index(fields=["event_type", "created_at"], name="payments_idev_type_created"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(event_type__in=IdentityEventType.values),
                name="payments_idev_type_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.email or self.user_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableRecordError("Identity events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableRecordError("Identity events are append-only.")
