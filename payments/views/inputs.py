"""One validation step for what a client sends: query strings, form and JSON bodies.

Every public view declares its parameters as a Django form; ``validated_input``
checks them before the view runs. A value that is not a string (JSON can send
numbers, lists, objects), contains a NUL character (PostgreSQL refuses it in any
text column or comparison) or is longer than its field allows is answered 400
with the field and the reason, so no client input reaches the database or Stripe
malformed and none can end in a 500. What the value *means* (a known tier, a
valid email, a matching token) stays with the services, which answer their own
4xx.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from payments.views.common import MalformedBody, error_response, json_answer, read_body

#: Longest value of each kind of parameter: a tier slug (the model's), an email
#: (RFC 5321 path), a Stripe id, a guest token (43 characters, room to spare).
SLUG_LENGTH = 50
EMAIL_LENGTH = 254
STRIPE_ID_LENGTH = 255
TOKEN_LENGTH = 200


def text(max_length: int) -> forms.CharField:
    """An optional string parameter; ``CharField`` refuses NUL characters by itself."""
    return forms.CharField(required=False, max_length=max_length, strip=False)


class InvalidInput(ValueError):
    """A parameter of the wrong type, too long, or with a NUL character."""


class CheckoutInput(forms.Form):
    tier = text(SLUG_LENGTH)
    email = text(EMAIL_LENGTH)


class LegacyCheckoutInput(CheckoutInput):
    price_id = text(STRIPE_ID_LENGTH)


class TokenInput(forms.Form):
    token = text(TOKEN_LENGTH)


class ManageInput(TokenInput):
    action = text(32)
    tier = text(SLUG_LENGTH)
    #: The preview's second (Unix time), so the change is prorated as it was shown.
    proration_date = forms.IntegerField(required=False, min_value=0, max_value=2**31 - 1)


class PreviewInput(TokenInput):
    tier = text(SLUG_LENGTH)


class AccessLinkInput(forms.Form):
    email = text(EMAIL_LENGTH)


class SuccessInput(forms.Form):
    session_id = text(STRIPE_ID_LENGTH)


@dataclass(frozen=True)
class Inputs:
    """The checked parameters that were sent (absent ones are absent, not empty)."""

    query: dict[str, str] = field(default_factory=dict)
    body: dict[str, str] = field(default_factory=dict)


def cleaned(form_class: type[forms.Form], data: Mapping[str, Any]) -> dict[str, str]:
    """The form's parameters present in ``data``, checked; raises ``InvalidInput``."""
    present = {name: data[name] for name in form_class.base_fields if data.get(name) is not None}
    for name, value in present.items():
        if not isinstance(value, str):
            raise InvalidInput(_("%(field)s must be a string.") % {"field": name})
    form = form_class(data=present)
    if not form.is_valid():
        name, errors = next(iter(form.errors.items()))
        raise InvalidInput(f"{name}: {errors[0]}")
    return {name: form.cleaned_data[name] for name in present}


def validated_input(
    *,
    query: type[forms.Form] | None = None,
    body: type[forms.Form] | None = None,
    pages: bool = False,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Check the view's parameters first; the view gets them as ``inputs``.

    ``pages=True`` for views that also serve browsers: a refusal is then a page
    unless the client asked for JSON.
    """
    respond = error_response if pages else json_answer

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                inputs = Inputs(
                    query=cleaned(query, request.GET.dict()) if query else {},
                    body=cleaned(body, read_body(request))
                    if body and request.method == "POST"
                    else {},
                )
            except (InvalidInput, MalformedBody) as error:
                return respond(request, str(error), 400)
            return view(request, *args, inputs=inputs, **kwargs)

        return wrapper

    return decorator
