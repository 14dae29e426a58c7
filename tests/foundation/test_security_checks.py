"""System checks of where invoice PDFs live and whose email counts as verified."""

import pytest
from django.core.checks import Error, Warning, run_checks
from django.test import override_settings

from tests.settings import PAYMENTS as COMPLETE

pytestmark = pytest.mark.django_db

WITHOUT_VERIFIER = {key: value for key, value in COMPLETE.items() if key != "EMAIL_IS_VERIFIED"}


def messages(payments=COMPLETE, **django_settings):
    with override_settings(PAYMENTS=payments, **django_settings):
        return {m.id: m for m in run_checks(tags=["payments"]) if m.id.startswith("payments.")}


def test_without_allauth_or_a_verifier_every_email_counts_and_check_says_so():
    found = messages(WITHOUT_VERIFIER)
    warning = found["payments.W012"]
    assert isinstance(warning, Warning)
    assert "Every user's email counts as verified" in warning.msg
    assert "django-allauth" in warning.hint
    assert "payments.W012" not in messages(), "a verifier is set"


@pytest.mark.parametrize(
    "value", ["tests.nowhere.verify", "tests.verification.UNVERIFIED", 42, ["a.b"]]
)
def test_an_unusable_verifier_is_an_error(value):
    found = messages({**COMPLETE, "EMAIL_IS_VERIFIED": value})
    assert isinstance(found["payments.E020"], Error)
    assert "payments.W012" not in found


@pytest.mark.parametrize("alias", ["invoices", 5, None])
def test_invoice_storage_must_be_a_key_of_storages(alias):
    error = messages({**COMPLETE, "INVOICE_STORAGE": alias})["payments.E021"]
    assert repr(alias) in error.msg
    assert "default" in error.hint


def file_storages(media_root, invoice_location):
    return {
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(media_root)},
        },
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        "invoices": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(invoice_location)},
        },
    }


@pytest.mark.parametrize("alias", ["default", "invoices"])
def test_pdfs_under_the_served_media_root_warn(tmp_path, alias):
    media = tmp_path / "media"
    storages = file_storages(media, media / "invoices")  # both under MEDIA_ROOT
    found = messages(
        {**COMPLETE, "INVOICE_STORAGE": alias},
        STORAGES=storages,
        MEDIA_ROOT=str(media),
        MEDIA_URL="/media/",
    )
    warning = found["payments.W013"]
    assert "/media/" in warning.msg
    assert "admin" in warning.hint


def test_private_storage_or_unserved_media_is_silent(tmp_path):
    media = tmp_path / "media"
    storages = file_storages(media, tmp_path / "private")
    assert "payments.W013" not in messages(
        {**COMPLETE, "INVOICE_STORAGE": "invoices"},
        STORAGES=storages,
        MEDIA_ROOT=str(media),
        MEDIA_URL="/media/",
    )
    assert "payments.W013" not in messages(
        STORAGES=storages, MEDIA_ROOT=str(media), MEDIA_URL=""
    ), "no MEDIA_URL: the site does not serve media"
