"""Every route of the app (mount under a language prefix or not)."""

from django.urls import path

from payments.views import access, checkout, manage, portal, pricing
from payments.webhook_urls import urlpatterns as webhook_urlpatterns

app_name = "payments"

urlpatterns = [
    path("config/", pricing.config, name="config"),
    path("pricing/", pricing.pricing_page, name="pricing"),
    path("tier/pricing/", pricing.tier_pricing, name="tier_pricing"),
    path("tier/checkout/", checkout.tier_checkout, name="tier_checkout"),
    path("checkout/session/", checkout.checkout_session, name="checkout_session"),
    path("checkout/success/", checkout.success, name="success"),
    path("checkout/canceled/", checkout.cancel, name="cancel"),
    path("stripe_customer_portal/", portal.customer_portal, name="customer_portal"),
    path("manage-tier/", manage.manage_tier, name="manage_tier"),
    path("manage-tier/preview/", manage.manage_tier_preview, name="manage_tier_preview"),
    path("access-link/", access.access_link, name="access_link"),
    *webhook_urlpatterns,
]
