"""Only the webhook, for sites that mount the other routes inside ``i18n_patterns``."""

from django.urls import path

from payments.webhooks.views import webhook

app_name = "payments"

urlpatterns = [
    path("checkout/webhook/", webhook, name="webhook"),
]
