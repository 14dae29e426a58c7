from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from payments.conf import payments_settings

#: The features a tier can include, as buyers read them.
FEATURE_LABELS = {
    "data": _("Data products"),
    "reading": _("Blog posts and articles"),
    "ebooks": _("Ebook downloads"),
}


class SubscriptionTierQuerySet(models.QuerySet):
    def active(self) -> SubscriptionTierQuerySet:
        return self.filter(is_active=True).order_by("position", "pk")

    def with_price_id(self, price_id: str) -> SubscriptionTierQuerySet:
        """Tiers sold under ``price_id`` in the current mode: never the other mode's."""
        return self.filter(**{f"stripe_price_id_{payments_settings.mode}": price_id})


class SubscriptionTier(models.Model):
    """What a subscription sells: a price per mode and the features it unlocks."""

    class Interval(models.TextChoices):
        MONTH = "month", _("monthly")
        YEAR = "year", _("yearly")

    slug = models.SlugField(_("slug"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_de = models.CharField(
        _("name (German)"), max_length=100, blank=True, help_text=_("Empty: the name above.")
    )
    description = models.TextField(_("description"), blank=True)
    description_de = models.TextField(
        _("description (German)"), blank=True, help_text=_("Empty: the description above.")
    )
    unit_amount = models.PositiveIntegerField(
        _("price in minor units"), null=True, blank=True, help_text=_("e.g. 990 for 9.90 EUR")
    )
    currency = models.CharField(_("currency"), max_length=3, default="eur")
    interval = models.CharField(
        _("billing interval"), max_length=5, choices=Interval.choices, default=Interval.MONTH
    )
    stripe_price_id_test = models.CharField(_("Stripe price ID (test)"), max_length=255, blank=True)
    stripe_price_id_live = models.CharField(_("Stripe price ID (live)"), max_length=255, blank=True)
    includes_data = models.BooleanField(_("includes data products"), default=False)
    includes_reading = models.BooleanField(_("includes reading"), default=False)
    includes_ebooks = models.BooleanField(_("includes ebooks"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    trial_days = models.PositiveSmallIntegerField(
        _("trial days"),
        default=0,
        help_text=_("Checkout starts a free trial of this many days; 0: no trial."),
    )

    objects = SubscriptionTierQuerySet.as_manager()

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("subscription tier")
        verbose_name_plural = _("subscription tiers")
        constraints = [
            models.UniqueConstraint(
                fields=["stripe_price_id_test"],
                condition=~models.Q(stripe_price_id_test=""),
                name="payments_tier_unique_test_price",
            ),
            models.UniqueConstraint(
                fields=["stripe_price_id_live"],
                condition=~models.Q(stripe_price_id_live=""),
                name="payments_tier_unique_live_price",
            ),
            models.CheckConstraint(
                condition=models.Q(interval__in=["month", "year"]),
                name="payments_tier_interval_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(currency=Lower("currency")),
                name="payments_tier_currency_lowercase",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    #: Languages with their own name and description columns (``name_<code>``).
    TRANSLATED_LANGUAGES = ("de",)

    def _in_language(self, field: str) -> str:
        """``field`` in the active language, falling back to the default column."""
        language = (get_language() or "").split("-")[0]
        if language in self.TRANSLATED_LANGUAGES:
            return getattr(self, f"{field}_{language}") or getattr(self, field)
        return getattr(self, field)

    @property
    def localized_name(self) -> str:
        return self._in_language("name")

    @property
    def localized_description(self) -> str:
        return self._in_language("description")

    @property
    def feature_labels(self) -> list[str]:
        """What the tier unlocks, as buyers read it (never the internal keys)."""
        return [str(FEATURE_LABELS[name]) for name, on in self.features.items() if on]

    @property
    def stripe_price_id(self) -> str:
        """The price ID of the current mode (``STRIPE_LIVE_MODE``)."""
        return getattr(self, f"stripe_price_id_{payments_settings.mode}")

    @property
    def features(self) -> dict[str, bool]:
        return {
            "data": self.includes_data,
            "reading": self.includes_reading,
            "ebooks": self.includes_ebooks,
        }

    @property
    def feature_set(self) -> frozenset[str]:
        return frozenset(name for name, included in self.features.items() if included)
