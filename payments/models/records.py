"""Issued tax records (invoices, cancellation invoices): frozen once created.

§14 UStG and GoBD allow no change to an issued document and no deletion: a wrong
or refunded invoice is corrected by a cancellation invoice of its own. A model
lists its frozen fields in ``issued_fields``; saving a changed value, updating
one through a queryset, or deleting raises ``ImmutableRecordError``. Delivery
state (PDF, email, Lexoffice) stays writable.
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from payments.exceptions import ImmutableRecordError
from payments.models.storage import invoice_storage, random_pdf_name

NEVER_DELETED = (
    "{name} are never deleted; money given back is corrected by a cancellation invoice "
    "(a refund or credit note in Stripe issues one)."
)


class IssuedRecordQuerySet(models.QuerySet):
    def delete(self):
        raise ImmutableRecordError(NEVER_DELETED.format(name=self.model._meta.verbose_name_plural))

    def update(self, **kwargs):
        frozen = sorted(set(kwargs) & set(self.model.issued_fields))
        if frozen:
            raise ImmutableRecordError(f"Issued fields cannot change: {', '.join(frozen)}")
        return super().update(**kwargs)


class IssuedRecord(models.Model):
    #: The fields fixed at issue time.
    issued_fields: ClassVar[tuple[str, ...]] = ()

    # Delivery state, one done/attempts/last-error group per step
    # (``payments.invoicing.delivery``): the same for every kind of document.
    pdf = models.FileField(
        _("PDF"), upload_to=random_pdf_name, storage=invoice_storage, max_length=255, blank=True
    )
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
    lexoffice_needs_attention = models.BooleanField(
        _("Lexoffice needs a person"),
        default=False,
        help_text=_(
            "Lexoffice refused the voucher for good (a 4xx); it is not retried until "
            "someone fixes the cause and retries the sync."
        ),
    )

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        changed = [
            name
            for name, value in getattr(self, "_issued_values", {}).items()
            if getattr(self, name) != value
        ]
        if changed and not self._state.adding:
            raise ImmutableRecordError(
                f"{self._meta.verbose_name} {self}: issued fields cannot change: "
                f"{', '.join(changed)}"
            )
        super().save(*args, **kwargs)
        self._issued_values = {
            name: copy.deepcopy(getattr(self, name)) for name in self.issued_fields
        }

    def delete(self, *args: Any, **kwargs: Any):
        raise ImmutableRecordError(NEVER_DELETED.format(name=self._meta.verbose_name_plural))

    @classmethod
    def from_db(cls, db, field_names, values, *args, **kwargs):
        instance = super().from_db(db, field_names, values, *args, **kwargs)
        instance._issued_values = {
            name: value
            for name, value in zip(field_names, values, strict=True)
            if name in cls.issued_fields
        }
        return instance
