"""The contract's layout for a site without i18n."""

from django.urls import include, path

urlpatterns = [path("payments/", include("payments.urls"))]
