"""Settings of the example site, from environment variables.

Without any Stripe key in the environment the site talks to the fake Stripe
server that ``make demo`` starts on 127.0.0.1:12111 (``FAKE_STRIPE_*`` below).
With ``STRIPE_TEST_SECRET_KEY`` set it uses your Stripe test account instead.
"""

import os
from pathlib import Path

import dj_database_url
import django

BASE_DIR = Path(__file__).resolve().parent.parent


def env_flag(name: str, default: str = "0") -> bool:
    return os.environ.get(name, default) == "1"


def env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "example-project-only-never-in-production")
DEBUG = env_flag("DJANGO_DEBUG", "1")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS") or ["127.0.0.1", "localhost"]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}", conn_max_age=60
    )
}

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # Before payments: the site's templates/payments/base.html wraps the app's pages.
    "demo",
    "payments",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "example_project.urls"
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
WSGI_APPLICATION = "example_project.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "de"
LANGUAGES = [("de", "Deutsch"), ("en", "English")]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "Europe/Berlin"

STATIC_URL = "/static/"
MEDIA_URL = "/media/"
MEDIA_ROOT = BASE_DIR / "media"
# Invoice PDFs stay outside MEDIA_ROOT: only the admin's download view serves them.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "invoices": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": BASE_DIR / "private"},
    },
}
# The demo has no email verification, so every email counts as verified (a real site
# installs django-allauth or sets PAYMENTS["EMAIL_IS_VERIFIED"]).
SILENCED_SYSTEM_CHECKS = ["payments.W012"]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# Emails (invoices, guest access links) are printed in the terminal. Django 6.1
# replaces EMAIL_BACKEND with MAILERS and refuses both at once.
mail_backend = os.environ.get(
    "DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
if django.VERSION >= (6, 1):
    MAILERS = {"default": {"BACKEND": mail_backend}}
else:
    EMAIL_BACKEND = mail_backend
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Beispiel Verlag <shop@example.com>")

# The demo's own fake Stripe (see the Makefile's `demo` target).
FAKE_STRIPE_URL = "http://127.0.0.1:12111"
FAKE_STRIPE_SECRET_KEY = "sk_test_fake_stripe_demo"
FAKE_STRIPE_PUBLISHABLE_KEY = "pk_test_fake_stripe_demo"
FAKE_STRIPE_WEBHOOK_SECRET = "whsec_fake_stripe_demo"
USES_FAKE_STRIPE = not (
    os.environ.get("STRIPE_TEST_SECRET_KEY") or os.environ.get("STRIPE_LIVE_SECRET_KEY")
)


def stripe_setting(name: str, fake: str) -> str:
    return fake if USES_FAKE_STRIPE else os.environ.get(name, "")


PAYMENTS = {
    "STRIPE_LIVE_MODE": env_flag("STRIPE_LIVE_MODE"),
    "STRIPE_TEST_SECRET_KEY": stripe_setting("STRIPE_TEST_SECRET_KEY", FAKE_STRIPE_SECRET_KEY),
    "STRIPE_TEST_PUBLISHABLE_KEY": stripe_setting(
        "STRIPE_TEST_PUBLISHABLE_KEY", FAKE_STRIPE_PUBLISHABLE_KEY
    ),
    "STRIPE_LIVE_SECRET_KEY": os.environ.get("STRIPE_LIVE_SECRET_KEY", ""),
    "STRIPE_LIVE_PUBLISHABLE_KEY": os.environ.get("STRIPE_LIVE_PUBLISHABLE_KEY", ""),
    "STRIPE_WEBHOOK_SECRETS": env_list("STRIPE_WEBHOOK_SECRETS")
    or ([FAKE_STRIPE_WEBHOOK_SECRET] if USES_FAKE_STRIPE else []),
    "STRIPE_API_BASE": os.environ.get(
        "STRIPE_API_BASE", FAKE_STRIPE_URL if USES_FAKE_STRIPE else ""
    ),
    "SITE_URL": os.environ.get("SITE_URL", "http://127.0.0.1:8000"),
    "SELLER": {
        "name": "Beispiel Verlag GmbH",
        "street": "Musterstraße 1",
        "postal_code": "10115",
        "city": "Berlin",
        "country": "DE",
        "vat_id": "DE123456789",
        "tax_number": "37/123/45678",
        "email": "rechnung@example.com",
        "phone": "+49 30 1234567",
        "register": "Amtsgericht Berlin-Charlottenburg HRB 12345",
        "managing_directors": "Erika Mustermann",
    },
    "TAX_CALCULATION": "stripe_tax",
    "PRICES_INCLUDE_TAX": True,
    "INVOICE_NUMBER_PREFIX": os.environ.get("INVOICE_NUMBER_PREFIX", "RE-"),
    "LEXOFFICE_API_KEY": os.environ.get("LEXOFFICE_API_KEY", ""),
    "LEXOFFICE_API_BASE": os.environ.get("LEXOFFICE_API_BASE", "https://api.lexware.io"),
    "PRICING_URL": "pricing",
    "INVOICE_STORAGE": "invoices",
}

# Where invoice delivery and access-link emails run (TASKS_BACKEND):
# - "immediate" (default): inside the request that enqueued them, after its commit.
#   Zero set-up, for small sites and the demo.
# - "db": django-tasks-db's queue in this database; run workers with `make worker`
#   (manage.py db_worker).
# - "rq": RQ on Redis (REDIS_URL); run workers with
#   `manage.py rqworker --job-class django_tasks_rq.Job default`.
# With workers, set CACHES' "shared" (REDIS_URL) so that Lexoffice's 2 requests/s
# hold across all of them: PAYMENTS["LEXOFFICE_RATE_LIMIT_CACHE"] below.
TASKS_BACKEND = os.environ.get("TASKS_BACKEND", "immediate")
REDIS_URL = os.environ.get("REDIS_URL", "")
if TASKS_BACKEND == "db":
    INSTALLED_APPS.append("django_tasks_db")
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
elif TASKS_BACKEND == "rq":
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    RQ_QUEUES = {"default": {"URL": REDIS_URL or "redis://127.0.0.1:6379/0"}}
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend"}}
elif TASKS_BACKEND != "immediate":
    raise ValueError(f"TASKS_BACKEND must be immediate, db or rq, not {TASKS_BACKEND!r}")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "shared": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL},
    }
    PAYMENTS["LEXOFFICE_RATE_LIMIT_CACHE"] = "shared"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"payments": {"handlers": ["console"], "level": "INFO"}},
}
