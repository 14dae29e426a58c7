"""A site with ``i18n_patterns``: the webhook mounted on its own, unprefixed."""

from django.conf.urls.i18n import i18n_patterns
from django.urls import include, path

urlpatterns = [path("payments/", include("payments.webhook_urls"))]
urlpatterns += i18n_patterns(path("payments/", include("payments.urls")))
