"""Guest subscriptions in the admin: who may send links and link accounts, and how.

The tester's findings, replayed: a view-only staff user could issue a guest a new
access link (killing the old one), and a guest's email and user were free-form
fields, so anyone with the change form could hand a subscription to any account.
"""

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.urls import reverse

from payments.models import GuestSubscription, IdentityEvent, StripeCheckoutEvent
from payments.services.guest_tokens import find_guest_subscription
from payments.testing.factories import (
    CustomerFactory,
    GuestSubscriptionFactory,
    IdentityEventFactory,
    InvoiceFactory,
    SubscriptionFactory,
    UserFactory,
)
from tests.verification import UNVERIFIED

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:payments_guestsubscription_changelist")
TOKEN = "the-guests-working-link-token-" + "z" * 20


@pytest.fixture
def guest(db):
    return GuestSubscriptionFactory(token=TOKEN, email="ada@example.com")


def staff_with(client, *codenames):
    user = UserFactory(username="staff-" + "-".join(codenames), is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    client.force_login(user)
    return client, user


def run_action(client, action, *guests, follow=False):
    return client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [g.pk for g in guests], "index": 0},
        follow=follow,
    )


@pytest.mark.parametrize("action", ["send_new_access_link", "link_to_account", "delete_selected"])
def test_a_view_only_staff_user_gets_403_for_every_action(client, guest, action):
    UserFactory(username="ada", email="Ada@Example.com")
    viewer, _ = staff_with(client, "view_guestsubscription")
    assert action not in viewer.get(CHANGELIST).content.decode()

    response = run_action(viewer, action, guest)

    assert response.status_code == 403
    assert mail.outbox == []
    assert find_guest_subscription(TOKEN) == guest, "the guest's link still works"
    assert GuestSubscription.objects.get(pk=guest.pk).user is None
    assert not IdentityEvent.objects.filter(event_type="account_link").exists()


def test_the_change_permission_sends_a_new_link(client, guest):
    operator, _ = staff_with(client, "view_guestsubscription", "change_guestsubscription")

    response = run_action(operator, "send_new_access_link", guest, follow=True)

    assert "Sent a new access link to 1 guest" in response.content.decode()
    assert len(mail.outbox) == 1
    assert find_guest_subscription(TOKEN) is None, "the old link stops working"


def test_email_and_user_are_not_editable_even_for_a_superuser(admin_client, guest):
    mallory = UserFactory(username="mallory", email="mallory@example.com")
    change = reverse("admin:payments_guestsubscription_change", args=[guest.pk])
    form = admin_client.get(change).context["adminform"].form
    assert "email" not in form.fields
    assert "user" not in form.fields

    admin_client.post(
        change, {"email": "mallory@example.com", "user": mallory.pk, "tier": guest.tier_id}
    )

    guest.refresh_from_db()
    assert (guest.email, guest.user) == ("ada@example.com", None)


def test_linking_goes_through_the_backfill_service_and_is_recorded(client, guest):
    ada = UserFactory(username="ada", email="Ada@Example.com")
    invoice = InvoiceFactory(guest_subscription=guest, email=guest.email)
    other = GuestSubscriptionFactory(email="someone-else@example.com")
    UserFactory(username="someone", email="someone-else@example.com")
    operator, staff = staff_with(client, "view_guestsubscription", "change_guestsubscription")

    response = run_action(operator, "link_to_account", guest, follow=True)

    assert "Linked 1 guest subscription(s) and 1 invoice(s) to 1 account." in (
        response.content.decode()
    )
    guest.refresh_from_db()
    invoice.refresh_from_db()
    assert guest.user == ada
    assert invoice.user == ada
    assert GuestSubscription.objects.get(pk=other.pk).user is None, "only what was selected"
    event = IdentityEvent.objects.get(event_type="account_link")
    assert event.user == ada
    assert event.metadata["source"] == "admin"
    assert event.metadata["staff_user_id"] == str(staff.pk)
    assert event.metadata["guest_subscription_ids"] == [guest.pk]


def test_an_unverified_look_alike_account_is_not_linked_by_the_admin(client, guest):
    UserFactory(username="eve", email="ADA@example.com", first_name=UNVERIFIED)
    operator, _ = staff_with(client, "view_guestsubscription", "change_guestsubscription")

    response = run_action(operator, "link_to_account", guest, follow=True)

    page = response.content.decode()
    assert "Linked 0 guest subscription(s)" in page
    assert "Skipped: 1 account(s) whose email is not verified" in page
    assert GuestSubscription.objects.get(pk=guest.pk).user is None
    assert not IdentityEvent.objects.filter(event_type="account_link").exists()


@pytest.mark.parametrize(
    ("model", "make"),
    [
        ("subscription", lambda: SubscriptionFactory()),
        ("customer", lambda: CustomerFactory()),
        ("stripecheckoutevent", lambda: StripeCheckoutEvent.objects.create(event_id="evt_1")),
        ("identityevent", lambda: IdentityEventFactory()),
    ],
)
def test_a_forged_delete_of_another_screen_is_403_and_deletes_nothing(client, model, make):
    obj = make()
    viewer, _ = staff_with(client, f"view_{model}")

    response = viewer.post(
        reverse(f"admin:payments_{model}_changelist"),
        {"action": "delete_selected", "_selected_action": [obj.pk], "index": 0, "post": "yes"},
    )

    assert response.status_code == 403
    assert type(obj).objects.filter(pk=obj.pk).exists()


def test_even_a_superuser_cannot_delete_audit_records(admin_client):
    event = IdentityEventFactory()
    response = admin_client.post(
        reverse("admin:payments_identityevent_changelist"),
        {"action": "delete_selected", "_selected_action": [event.pk], "index": 0, "post": "yes"},
    )
    assert response.status_code == 403
    assert IdentityEvent.objects.filter(pk=event.pk).exists()


def test_linking_guests_that_are_linked_already_changes_nothing(client, guest):
    owner = UserFactory(username="owner", email="ada@example.com")
    guest.user = owner
    guest.save()
    operator, _ = staff_with(client, "view_guestsubscription", "change_guestsubscription")

    response = run_action(operator, "link_to_account", guest, follow=True)

    assert response.status_code == 200
    assert "Linked 0 guest subscription(s)" in response.content.decode()
    assert GuestSubscription.objects.get(pk=guest.pk).user == owner
