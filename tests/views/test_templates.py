"""Every page extends the one base template a site overrides."""

import pytest
from django.urls import reverse

from tests.views.conftest import GUEST_TOKEN

pytestmark = pytest.mark.django_db


@pytest.fixture
def site_base(settings, tmp_path):
    """A site's own ``payments/base.html``, found before the app's."""
    (tmp_path / "payments").mkdir()
    (tmp_path / "payments" / "base.html").write_text(
        "<html><body><nav>SITE LAYOUT</nav>{% block content %}{% endblock %}</body></html>"
    )
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [str(tmp_path)]}]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/payments/pricing/", 200),
        ("/payments/checkout/success/", 200),
        ("/payments/checkout/canceled/", 200),
        (f"/payments/manage-tier/?token={GUEST_TOKEN}", 200),
        ("/payments/manage-tier/?token=unknown", 404),
    ],
)
def test_every_page_is_wrapped_in_the_sites_base(client, guest, site_base, path, status):
    response = client.get(path, follow=True)
    assert response.status_code == status
    assert b"<nav>SITE LAYOUT</nav>" in response.content


def test_pages_declare_the_active_language(client):
    for language in ("de", "en"):
        page = client.get(reverse("payments:cancel"), HTTP_ACCEPT_LANGUAGE=language)
        assert f'<html lang="{language}">' in page.content.decode()
