"""Every route of the app (mount under a language prefix or not)."""

app_name = "payments"

urlpatterns: list = []
