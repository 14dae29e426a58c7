"""Who may act in the admin: one rule for every action that sends or changes something.

Invoices and credit notes are read-only screens (``has_change_permission`` is False
for everyone, superusers included), yet staff must be able to repair their delivery.
So an action is gated by the model's *change permission* as granted in
``django.contrib.auth`` (``payments.change_invoice``), not by the admin form's
editability: a staff user with only the view permission sees the screens and gets a
403 for every action.

Apply it to any ``ModelAdmin``::

    class CreditNoteAdmin(ActionPermissionMixin, admin.ModelAdmin):
        @admin.action(description=..., permissions=[CHANGE_MODEL])
        def resend_email_action(self, request, queryset): ...

and check downloads with ``self.has_view_permission(request, obj)``.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

#: The ``permissions`` entry of ``@admin.action`` that needs the model's change permission.
CHANGE_MODEL = "change_model"


class ActionPermissionMixin:
    """Gates actions marked ``permissions=[CHANGE_MODEL]``; refuses the rest with a 403.

    Django hides an action the user may not run and answers a forged POST of it with
    the change list and a message. Here that POST is a 403, so a refusal is visible
    to the client and in the access log, and nothing is done.
    """

    def has_change_model_permission(self, request: HttpRequest) -> bool:
        """The ``auth`` change permission of the model, whatever the form allows."""
        opts = self.opts  # type: ignore[attr-defined]
        codename = get_permission_codename("change", opts)
        return request.user.has_perm(f"{opts.app_label}.{codename}")

    def changelist_view(self, request: HttpRequest, extra_context=None) -> HttpResponse:
        if request.method == "POST":
            allowed = dict(self.get_action_choices(request))  # type: ignore[attr-defined]
            if any(name and name not in allowed for name in request.POST.getlist("action")):
                raise PermissionDenied
        return super().changelist_view(request, extra_context)  # type: ignore[misc]


class ReadOnlyAdmin(ActionPermissionMixin, admin.ModelAdmin):
    """Staff may look but never add, change or delete: every field is read-only."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]
