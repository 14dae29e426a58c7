"""Every route inside ``i18n_patterns``, the webhook included (it is then prefixed)."""

from django.conf.urls.i18n import i18n_patterns
from django.urls import include, path

urlpatterns = i18n_patterns(path("payments/", include("payments.urls")))
