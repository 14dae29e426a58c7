"""One page per feature, each gated by ``payments.access`` in one line."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from payments.access import features_for_request, requires_feature
from payments.formatting import display_price
from payments.models import SubscriptionTier


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "demo/home.html", {"features": sorted(features_for_request(request))})


def pricing(request: HttpRequest) -> HttpResponse:
    tiers = [
        (tier, display_price(tier.unit_amount, tier.currency))
        for tier in SubscriptionTier.objects.active()
    ]
    return render(request, "demo/pricing.html", {"tiers": tiers})


@requires_feature("data")
def data_product(request: HttpRequest) -> HttpResponse:
    rows = [("2026-01", 1204), ("2026-02", 1311), ("2026-03", 1498)]
    return render(request, "demo/data.html", {"rows": rows})


@requires_feature("reading")
def blog_post(request: HttpRequest) -> HttpResponse:
    return render(request, "demo/blog_post.html")


@requires_feature("ebooks")
def ebook_download(request: HttpRequest) -> HttpResponse:
    text = _("The demo ebook: thank you for subscribing.")
    response = HttpResponse(f"{text}\n", content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="demo-ebook.txt"'
    return response
