"""Only the webhook, for sites that mount the other routes inside ``i18n_patterns``."""

app_name = "payments"

urlpatterns: list = []
