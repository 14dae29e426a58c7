from django.urls import include, path

from tests.urls import urlpatterns as site_urlpatterns

urlpatterns = [path("accounts/", include("allauth.urls")), *site_urlpatterns]
