"""Sites that mount the app inside ``i18n_patterns``."""

from django.conf.urls.i18n import i18n_patterns
from django.urls import include, path

#: Exactly the contract's second way: the webhook unprefixed, everything else prefixed.
urlpatterns = [path("payments/", include("payments.webhook_urls"))]
urlpatterns += i18n_patterns(path("payments/", include("payments.urls")))
