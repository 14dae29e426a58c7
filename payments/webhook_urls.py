"""Only the webhook, for sites that mount the other routes inside ``i18n_patterns``.

Its own namespace, not ``payments``: mounted next to ``payments.urls`` (which has
the webhook too), two ``payments`` namespaces would make Django reverse every
``payments:...`` name in this module only, failing for all other routes, and warn
``urls.W005``.
"""

from django.urls import path

from payments.webhooks.views import webhook

app_name = "payments_webhook"

urlpatterns = [
    path("checkout/webhook/", webhook, name="webhook"),
]
