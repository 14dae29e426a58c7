"""Settings of the task-worker processes the worker tests start.

The test suite's settings, pointed by the environment at what the test set up: its
database (``DATABASE_URL``), a PDF directory (``WORKER_MEDIA_ROOT``), a mail
directory (``WORKER_MAIL_DIR``), the fake Lexoffice (``WORKER_LEXOFFICE_URL``,
``WORKER_LEXOFFICE_KEY``), the Redis shared by the processes (``REDIS_URL``) and the
task backend (``WORKER_TASK_BACKEND``: ``db`` or ``rq``).
"""

import os

import dj_database_url

from tests.settings import *  # noqa: F403
from tests.settings import INSTALLED_APPS, PAYMENTS

DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=0)}
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": os.environ["WORKER_MEDIA_ROOT"]},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if "MAILERS" in globals():  # Django >= 6.1
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": os.environ["WORKER_MAIL_DIR"]},
        }
    }
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = os.environ["WORKER_MAIL_DIR"]
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "shared": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": os.environ.get("WORKER_CACHE_PREFIX", "worker-tests"),
    },
}
PAYMENTS = {
    **PAYMENTS,
    "LEXOFFICE_API_BASE": os.environ["WORKER_LEXOFFICE_URL"],
    "LEXOFFICE_API_KEY": os.environ["WORKER_LEXOFFICE_KEY"],
    "LEXOFFICE_RATE_LIMIT_CACHE": "shared",
}
if os.environ.get("WORKER_TASK_BACKEND") == "rq":
    INSTALLED_APPS = [*INSTALLED_APPS, "django_rq", "django_tasks_rq"]
    RQ_QUEUES = {"default": {"URL": REDIS_URL}}
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend"}}
else:
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
