"""The guest's access link: made by a task after the commit, sent once, resent on purpose."""

import json
import logging
import re
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.urls import reverse

from payments.models import GuestSubscription
from payments.services.access_links import send_access_link
from payments.services.guest_tokens import find_guest_subscription, hash_token
from payments.testing.factories import GuestSubscriptionFactory, UserFactory
from tests.mail_backends import use_mail_backend
from tests.webhooks import stripe_events as se

pytestmark = pytest.mark.django_db

LINK = re.compile(r"(https?://[^\s\"<]+)/payments/manage-tier/\?token=([A-Za-z0-9_\-]+)")
MANAGE = "/payments/manage-tier/"
JSON = {"HTTP_ACCEPT": "application/json"}


def emailed_tokens() -> list[str]:
    return [LINK.search(message.body).group(2) for message in se.access_emails()]


def queued_access_links():
    from payments.tasks import default_task_backend

    return [r for r in default_task_backend.results if r.task.name == "send_access_link"]


def run(queued) -> None:
    queued.task.call(*queued.args, **queued.kwargs)


def opens(client, token: str) -> int:
    return client.get(MANAGE, {"token": token}, **JSON).status_code


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(username="admin", is_staff=True, is_superuser=True))
    return client


def send_new_links(staff_client, *guests, **headers):
    return staff_client.post(
        reverse("admin:payments_guestsubscription_changelist"),
        {"action": "send_new_access_link", "_selected_action": [g.pk for g in guests]},
        follow=True,
        **headers,
    )


class TestWithAWorkerBackend:
    """The dummy backend queues tasks as a worker backend would, and runs nothing."""

    def test_nothing_is_emailed_during_the_webhook_request(
        self, webhook, stripe_sale, deferred_delivery
    ):
        webhook(stripe_sale()[0])

        assert mail.outbox == []
        guest = GuestSubscription.objects.get()
        assert guest.access_link_sent_at is None
        [queued] = queued_access_links()
        assert queued.args == [guest.pk, "https://shop.example.com"]
        assert queued.kwargs == {}

    def test_the_token_is_made_by_the_task_and_never_stored_as_its_argument(
        self, client, webhook, stripe_sale, deferred_delivery
    ):
        webhook(stripe_sale()[0])
        hash_before = GuestSubscription.objects.get().token_hash

        run(queued_access_links()[0])

        [token] = emailed_tokens()
        from payments.tasks import default_task_backend

        stored = json.dumps([[r.args, r.kwargs] for r in default_task_backend.results])
        assert token not in stored
        guest = GuestSubscription.objects.get()
        assert guest.token_hash == hash_token(token) != hash_before
        assert guest.access_link_sent_at is not None
        assert len(token) >= 22  # at least 128 bits, url-safe base64
        assert opens(client, token) == 200

    def test_without_site_url_the_task_gets_the_requests_address(
        self, webhook, stripe_sale, deferred_delivery, settings
    ):
        settings.PAYMENTS = {**settings.PAYMENTS, "SITE_URL": ""}

        webhook(stripe_sale()[0])

        [queued] = queued_access_links()
        assert queued.args[1] == "http://testserver"
        run(queued)
        assert LINK.search(se.access_emails()[0].body).group(1) == "http://testserver"


def test_the_link_is_sent_after_the_commit_and_once_even_if_the_task_runs_twice(
    client, stripe_sale, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        assert se.post(client, stripe_sale()[0]).status_code == 200
        assert mail.outbox == []  # inside the transaction: nothing sent yet

    for callback in callbacks:
        callback()  # the commit: the (immediate) task runs
    guest = GuestSubscription.objects.get()
    send_access_link.call(guest.pk, "https://shop.example.com")

    [token] = emailed_tokens()
    assert opens(client, token) == 200
    guest.refresh_from_db()
    assert guest.access_link_attempts == 1


def test_a_failed_send_is_recorded_and_the_command_sends_a_working_link(
    client, webhook, stripe_sale, settings
):
    use_mail_backend(settings, "tests.webhooks.failing_mail.EmailBackend")
    webhook(stripe_sale()[0])
    failed = GuestSubscription.objects.get()
    assert failed.access_link_error == "SMTPServerDisconnected: mail server down"
    assert failed.access_link_sent_at is None
    use_mail_backend(settings, "django.core.mail.backends.locmem.EmailBackend")

    call_command("send_access_links", stdout=(out := StringIO()), stderr=StringIO())

    assert out.getvalue() == "1 guest without a link: 1 sent, 0 failed, 0 busy elsewhere.\n"
    [token] = emailed_tokens()
    assert opens(client, token) == 200
    guest = GuestSubscription.objects.get()
    assert guest.access_link_sent_at is not None
    assert guest.access_link_attempts == 2
    assert guest.access_link_error == ""

    call_command("send_access_links", stdout=(again := StringIO()))

    assert again.getvalue() == "0 guests without a link: 0 sent, 0 failed, 0 busy elsewhere.\n"
    assert len(se.access_emails()) == 1
    assert opens(client, token) == 200


def test_the_command_reports_failures_on_stderr(webhook, stripe_sale, settings):
    use_mail_backend(settings, "tests.webhooks.failing_mail.EmailBackend")
    webhook(stripe_sale()[0])

    call_command("send_access_links", stdout=(out := StringIO()), stderr=(err := StringIO()))

    assert out.getvalue() == "1 guest without a link: 0 sent, 1 failed, 0 busy elsewhere.\n"
    assert "recorded on the guest subscriptions" in err.getvalue()
    assert GuestSubscription.objects.get().access_link_attempts == 2


def test_the_command_takes_the_site_address_from_an_option(settings):
    settings.PAYMENTS = {**settings.PAYMENTS, "SITE_URL": ""}
    GuestSubscriptionFactory(tier=None)

    with pytest.raises(CommandError, match="SITE_URL.*--site-url"):
        call_command("send_access_links")
    with pytest.raises(CommandError, match="--site-url must be an http"):
        call_command("send_access_links", "--site-url", "shop.example.com")
    with pytest.raises(CommandError, match="--limit must be a positive"):
        call_command("send_access_links", "--limit", "0")
    assert mail.outbox == []

    call_command("send_access_links", "--site-url", "https://other.example.org/", stdout=StringIO())

    assert LINK.search(se.access_emails()[0].body).group(1) == "https://other.example.org"


def test_the_admin_action_sends_a_new_link_and_the_old_one_stops_working(
    client, staff_client, webhook, stripe_sale
):
    webhook(stripe_sale()[0])
    [old] = emailed_tokens()
    guest = GuestSubscription.objects.get()

    page = send_new_links(staff_client, guest).content.decode()

    assert "Sent a new access link to 1 guest" in page
    old_again, new = emailed_tokens()
    assert old_again == old != new
    staff_client.logout()
    assert opens(client, old) == 404
    assert opens(client, new) == 200
    assert find_guest_subscription(new) == guest


def test_the_admin_action_writes_in_the_guests_language(staff_client, german_guest):
    send_new_links(staff_client, german_guest)

    assert se.access_emails()[0].subject.startswith("Ihr Zugang zu")


def test_a_failed_new_link_is_reported_and_keeps_the_old_link(client, staff_client, settings):
    guest = GuestSubscriptionFactory(token="the-old-token-" + "o" * 30, tier=None)
    use_mail_backend(settings, "tests.webhooks.failing_mail.EmailBackend")

    page = send_new_links(staff_client, guest).content.decode()

    assert "1 access link could not be sent" in page
    guest.refresh_from_db()
    assert guest.access_link_error == "SMTPServerDisconnected: mail server down"
    staff_client.logout()
    # The send failed, so the new token's hash rolled back with it.
    assert opens(client, "the-old-token-" + "o" * 30) == 200


def test_no_token_reaches_the_logs(webhook, stripe_sale, staff_client, caplog):
    with caplog.at_level(logging.DEBUG, logger="payments"):
        webhook(stripe_sale()[0])
        send_new_links(staff_client, GuestSubscription.objects.get())

    tokens = emailed_tokens()
    assert len(tokens) == 2
    messages = [record.getMessage() for record in caplog.records]
    assert any("Sent the access link" in message for message in messages)
    assert not [m for m in messages for token in tokens if token in m]


@pytest.fixture
def german_guest():
    from payments.models import SubscriptionTier

    return GuestSubscriptionFactory(tier=SubscriptionTier.objects.get(slug="reader"), language="de")


def test_the_command_and_the_admin_action_speak_german(staff_client, german_guest):
    from django.utils import translation

    with translation.override("de"):
        call_command("send_access_links", stdout=(out := StringIO()))
    page = send_new_links(staff_client, german_guest, HTTP_ACCEPT_LANGUAGE="de")

    assert (
        out.getvalue()
        == "1 Gast ohne Link: 1 gesendet, 0 fehlgeschlagen, 0 anderswo in Bearbeitung.\n"
    )
    assert "Neuer Zugangslink an 1 Gast gesendet" in page.content.decode()
