"""Both URL layouts of the contract: check stays silent and every route reverses."""

import pytest
from django.core.checks import run_checks
from django.test import override_settings
from django.urls import URLPattern, reverse
from django.utils import translation

import payments.urls
import payments.webhook_urls


def route_names(patterns) -> list[str]:
    return [p.name for p in patterns if isinstance(p, URLPattern) and p.name]


@pytest.mark.parametrize("urlconf", ["tests.foundation.urls_plain", "tests.foundation.urls_i18n"])
def test_check_is_silent_for_the_layout(urlconf):
    with override_settings(ROOT_URLCONF=urlconf):
        assert [m.id for m in run_checks(tags=["urls"])] == []


@pytest.mark.parametrize(
    "urlconf, prefix",
    [
        ("tests.foundation.urls_plain", "/payments/"),
        ("tests.foundation.urls_i18n", "/en/payments/"),
    ],
)
def test_every_route_reverses_in_the_payments_namespace(urlconf, prefix):
    with override_settings(ROOT_URLCONF=urlconf), translation.override("en"):
        for name in route_names(payments.urls.urlpatterns):
            if not reverse(f"payments:{name}").startswith(prefix):
                pytest.fail(f"payments:{name} reverses outside {prefix}")


def test_the_webhook_module_holds_only_routes_that_payments_urls_has_too():
    assert set(route_names(payments.webhook_urls.urlpatterns)) <= set(
        route_names(payments.urls.urlpatterns)
    )
