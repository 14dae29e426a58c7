"""The example site as the browser tests run it: its own settings, a test database.

Everything a buyer sees comes from ``example_project.settings`` (URLs, templates,
languages, the demo app); only what a test must control is changed here.
"""

import os

import django

from example_project.settings import *  # noqa: F403

# Playwright's sync API keeps an event loop on the test's thread; the tests' own ORM
# calls (reading the fake's state into the database, fixtures) are plain sync code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": ":memory:",
        # live_server's thread shares the in-memory database only through a name.
        "TEST": {"NAME": "file:payments-e2e?mode=memory&cache=shared"},
    }
}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "invoices": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
}
if django.VERSION >= (6, 1):
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
else:
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGGING = {"version": 1, "disable_existing_loggers": False}
