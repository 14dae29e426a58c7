"""URLs for the webhook benchmark: the app's routes plus the guest link's target."""

from tests.webhooks.urls import urlpatterns

__all__ = ["urlpatterns"]
