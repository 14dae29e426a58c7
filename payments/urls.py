"""Every route of the app (mount under a language prefix or not)."""

from payments.webhook_urls import urlpatterns as webhook_urlpatterns

app_name = "payments"

urlpatterns = [
    *webhook_urlpatterns,
]
