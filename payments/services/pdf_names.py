"""Giving PDFs stored before random names (``RE-000001.pdf``) a name no one can guess.

For each such file: the content is saved under a new random name, the row is
pointed at it, and only then is the old file deleted, so an interruption leaves a
spare copy at worst, never a row whose file is gone. Safe to run again: files with
a random name are left alone.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.db import models

from payments.models import CreditNote, Invoice
from payments.models.storage import has_random_name, random_pdf_name

logger = logging.getLogger(__name__)

#: Models whose ``pdf`` field stores through ``invoice_storage``.
PDF_MODELS: tuple[type[models.Model], ...] = (Invoice, CreditNote)


@dataclass(frozen=True)
class Renamed:
    old: str
    new: str


def guessable(model: type[models.Model]) -> Iterator[models.Model]:
    """Rows of ``model`` whose stored PDF still has a guessable name."""
    for row in model.objects.exclude(pdf="").order_by("pk").iterator():
        if not has_random_name(row.pdf.name):
            yield row


def rename_guessable_pdfs(*, dry_run: bool = False) -> list[Renamed]:
    renamed = []
    for model in PDF_MODELS:
        for row in guessable(model):
            old = row.pdf.name
            new = old if dry_run else _move(row)
            renamed.append(Renamed(old, new))
    return renamed


def _move(row: models.Model) -> str:
    field = row._meta.get_field("pdf")
    storage = field.storage
    old = row.pdf.name
    with storage.open(old, "rb") as stored:
        content = stored.read()
    new = storage.save(random_pdf_name(row, row.pdf_filename), ContentFile(content))
    type(row).objects.filter(pk=row.pk).update(pdf=new)
    storage.delete(old)
    logger.info("Renamed %s to %s", old, new)
    return new
