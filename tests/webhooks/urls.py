"""The app's routes plus a stand-in ``manage_tier`` until the views branch provides it.

The access email needs ``reverse("payments:manage_tier")``; the stand-in is added
only while ``payments.urls`` lacks that name.
"""

from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path

from payments import urls as payments_urls


def manage_tier_stand_in(request):
    return HttpResponse("manage tier")


patterns = list(payments_urls.urlpatterns)
if not any(getattr(pattern, "name", None) == "manage_tier" for pattern in patterns):
    patterns.append(path("manage-tier/", manage_tier_stand_in, name="manage_tier"))

urlpatterns = [
    path("admin/", admin.site.urls),
    path("payments/", include((patterns, "payments"))),
]
