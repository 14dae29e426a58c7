"""Where invoice and credit-note PDFs are kept, and under which names.

Names carry a random part: ``payments/invoices/2026/RE-000001-<22 random chars>.pdf``.
The number is there for people browsing a bucket; the 128 random bits make the
name impossible to derive from the number, so a site whose media happen to be
public does not hand out every invoice to whoever counts up. (Download through the
admin, or a private storage's signed URLs, remains the way to serve them.)

``PAYMENTS["INVOICE_STORAGE"]`` names a key of Django's ``STORAGES`` (default
``"default"``), e.g. a private S3 bucket of django-storages. It is looked up on each
use, so the setting can change without a migration and tests can override it.
"""

from __future__ import annotations

import re
import secrets
from pathlib import PurePosixPath
from typing import Any

from django.core.files.storage import Storage, storages
from django.utils import timezone

from payments.conf import payments_settings

#: 16 random bytes, URL-safe base64: 22 characters, 128 bits.
RANDOM_NAME_BYTES = 16
#: How a name made by ``random_pdf_name`` ends.
RANDOM_NAME_END = re.compile(r"-[A-Za-z0-9_-]{22}\.pdf\Z")


def configured_storage() -> Storage:
    """The storage ``INVOICE_STORAGE`` names right now."""
    return storages[payments_settings.INVOICE_STORAGE]


class InvoiceStorage(Storage):
    """Hands every call to ``configured_storage()``, so ``INVOICE_STORAGE`` is read late.

    A ``FileField`` resolves its storage once, when the model class is built; this
    stand-in lets that happen before settings are final (and before a check can
    report a wrong alias instead of a crash at import).
    """


def _delegate(name: str):
    def method(self: InvoiceStorage, *args: Any, **kwargs: Any) -> Any:
        return getattr(configured_storage(), name)(*args, **kwargs)

    method.__name__ = name
    return method


for _name in (
    "open",
    "save",
    "delete",
    "exists",
    "size",
    "url",
    "path",
    "listdir",
    "generate_filename",
    "get_available_name",
    "get_accessed_time",
    "get_created_time",
    "get_modified_time",
):
    setattr(InvoiceStorage, _name, _delegate(_name))

_invoice_storage = InvoiceStorage()


def invoice_storage() -> Storage:
    """The ``storage`` of every PDF field (a callable, so migrations name it, not a class)."""
    return _invoice_storage


def random_pdf_name(instance: Any, filename: str) -> str:
    """``upload_to`` of PDF fields: ``payments/<model>s/<year>/<number>-<random>.pdf``."""
    stem, suffix = PurePosixPath(filename).stem, PurePosixPath(filename).suffix or ".pdf"
    issued = getattr(instance, "issued_at", None) or timezone.now()
    folder = f"payments/{instance._meta.model_name}s/{issued:%Y}"
    return f"{folder}/{stem}-{secrets.token_urlsafe(RANDOM_NAME_BYTES)}{suffix}"


def has_random_name(name: str) -> bool:
    """Whether a stored PDF's name has the random part (older ones are just the number)."""
    return bool(RANDOM_NAME_END.search(name))
