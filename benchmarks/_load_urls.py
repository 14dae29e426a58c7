"""The example site's URLs plus ``load-floor/``, the floor of ``make load``.

The floor is the least any webhook does: check the signature and insert one event
row. It runs in the same gunicorn, database and run as the webhook it is compared to.
"""

import json

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from example_project.urls import urlpatterns as site_urlpatterns
from payments.models import StripeCheckoutEvent
from payments.webhooks.views import validate_request

#: The floor's rows are told apart from real events by this type.
FLOOR_EVENT_TYPE = "load.floor"


@csrf_exempt
def floor(request: HttpRequest) -> HttpResponse:
    validate_request(request)
    StripeCheckoutEvent.objects.create(
        event_id=json.loads(request.body)["id"], event_type=FLOOR_EVENT_TYPE
    )
    return HttpResponse("ok")


urlpatterns = [*site_urlpatterns, path("load-floor/", floor)]
