"""The one import shim for Django's tasks framework.

Django 6.0 ships ``django.tasks``; on Django 5.2 the ``django-tasks`` backport
provides the same API. Everything else in this app imports ``task`` from here.
"""

try:  # Django >= 6.0
    from django.tasks import default_task_backend, task
except ImportError:  # Django 5.2: the backport
    from django_tasks import default_task_backend, task

__all__ = ["default_task_backend", "task"]
