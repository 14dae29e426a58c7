"""Settings for the test suite: SQLite by default, ``DATABASE_URL`` for PostgreSQL."""

import os

import dj_database_url
import django

SECRET_KEY = "tests-only-not-secret"
DEBUG = False
USE_TZ = True
TIME_ZONE = "Europe/Berlin"
LANGUAGE_CODE = "en"
LANGUAGES = [("de", "Deutsch"), ("en", "English")]
USE_I18N = True
ALLOWED_HOSTS = ["*"]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", "sqlite:///:memory:"), conn_max_age=0
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # live_server and thread tests share one in-memory database only through a name.
    DATABASES["default"]["TEST"] = {"NAME": "file:payments-tests?mode=memory&cache=shared"}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "payments",
    "django_tasks_db",  # the worker tests' queue (tests/workers); unused elsewhere
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "tests.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
STATIC_URL = "/static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
if django.VERSION >= (6, 1):  # MAILERS replaces EMAIL_BACKEND; both at once are refused
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
else:
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DEFAULT_FROM_EMAIL = "shop@example.com"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "/accounts/login/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

PAYMENTS = {
    "STRIPE_TEST_SECRET_KEY": "sk_test_123",
    "STRIPE_TEST_PUBLISHABLE_KEY": "pk_test_123",
    "STRIPE_WEBHOOK_SECRETS": ["whsec_test_secret"],
    "SITE_URL": "https://shop.example.com",
    "EMAIL_IS_VERIFIED": "tests.verification.email_is_verified",
    "SELLER": {
        "name": "Beispiel Verlag GmbH",
        "address": "Musterstraße 1\n10115 Berlin\nDeutschland",
        "vat_id": "DE123456789",
        "email": "rechnung@example.com",
        "register": "Amtsgericht Berlin-Charlottenburg HRB 12345",
    },
}
