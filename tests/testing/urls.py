"""A stand-in webhook view, so delivery through Django's test client can be tested
before (and independently of) the app's own webhook."""

import stripe
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

SECRET = "whsec_django_view"
RECEIVED: list[stripe.Event] = []


@csrf_exempt
def webhook(request):
    try:
        event = stripe.Webhook.construct_event(
            request.body, request.headers.get("Stripe-Signature"), SECRET
        )
    except stripe.SignatureVerificationError:
        return HttpResponse(status=400)
    RECEIVED.append(event)
    return HttpResponse(status=200)


urlpatterns = [path("hook/", webhook, name="hook")]
