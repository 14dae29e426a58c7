"""``stripe_customer_portal/``: a redirect into Stripe's billing portal."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from payments.models import Customer, GuestSubscription, Subscription
from payments.services.links import absolute_url
from payments.services.stripe_api import stripe_client
from payments.views.callers import Caller, NotIdentified, UnknownToken, identify, without_token
from payments.views.common import allow_methods, error_response, stripe_failure_as_502
from payments.views.inputs import Inputs, TokenInput, validated_input


@never_cache
@allow_methods("GET")
@validated_input(query=TokenInput, pages=True)
@stripe_failure_as_502(pages=True)
def customer_portal(request: HttpRequest, inputs: Inputs) -> HttpResponse:
    """302 to a portal session for the caller's Stripe customer; back to ``manage-tier/``.

    The return URL is always our own page: no parameter of the request can
    redirect the visitor elsewhere. A token is remembered and dropped from the URL
    first; one of another subscription than the session's goes to ``manage-tier/``,
    which asks before switching.
    """
    try:
        caller = identify(request, inputs.query.get("token"))
    except UnknownToken:
        return error_response(request, _("This access link is not valid."), 404)
    except NotIdentified:
        return redirect_to_login(request.get_full_path())
    if caller.needs_confirmation:
        return HttpResponseRedirect(_manage_page_with_token(inputs.query["token"]))
    if caller.by_token:
        return HttpResponseRedirect(without_token(request))
    customer_id = _customer_id(request, caller)
    if not customer_id:
        return error_response(request, _("There is no billing account to manage yet."), 404)
    session = stripe_client().v1.billing_portal.sessions.create(
        params={
            "customer": customer_id,
            "return_url": absolute_url(reverse("payments:manage_tier"), request),
        }
    )
    return HttpResponseRedirect(session.url)


def _customer_id(request: HttpRequest, caller: Caller) -> str:
    if caller.guest is not None:
        return caller.guest.stripe_customer_id
    if isinstance(caller.record, Subscription):
        return caller.record.customer.stripe_customer_id
    if isinstance(caller.record, GuestSubscription):
        return caller.record.stripe_customer_id
    customer = Customer.objects.filter(user=request.user).first()
    return customer.stripe_customer_id if customer else ""


def _manage_page_with_token(token: str) -> str:
    """``manage-tier/`` with the same token, where the visitor confirms the switch."""
    return f"{reverse('payments:manage_tier')}?{urlencode({'token': token})}"
