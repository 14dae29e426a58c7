"""One page per feature, each gated by ``payments.access`` in one line."""

from django import forms
from django.contrib.auth import get_user_model, login
from django.contrib.auth.forms import UserCreationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from payments.access import features_for_request, requires_feature
from payments.models import FEATURE_LABELS
from payments.views.pricing import pricing_page

#: The shop's pricing page is the app's: prices, trials, a buy button per tier.
pricing = pricing_page


def home(request: HttpRequest) -> HttpResponse:
    features = features_for_request(request)
    labels = [str(label) for name, label in FEATURE_LABELS.items() if name in features]
    return render(request, "demo/home.html", {"features": labels})


class SignUpForm(UserCreationForm):
    """Django's sign-up form plus the email the shop sends invoices to."""

    email = forms.EmailField(label=gettext_lazy("Email address"), required=True)

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")


def sign_up(request: HttpRequest) -> HttpResponse:
    """Create an account and sign in; then on to the pricing page."""
    if request.user.is_authenticated:
        return redirect("pricing")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        login(request, form.save(), backend="django.contrib.auth.backends.ModelBackend")
        return redirect("pricing")
    return render(request, "registration/signup.html", {"form": form})


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
