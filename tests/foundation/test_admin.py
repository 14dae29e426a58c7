"""Every admin page renders, and its query count does not grow with the rows."""

import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from payments.models import IdentityEvent, StripeCheckoutEvent
from payments.testing.factories import (
    CustomerFactory,
    GuestSubscriptionFactory,
    IdentityEventFactory,
    SubscriptionFactory,
    SubscriptionTierFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


EVENT_NUMBERS = itertools.count()


def stripe_event(n):
    number = next(EVENT_NUMBERS)
    return StripeCheckoutEvent.objects.create(event_id=f"evt_{number}", event_type="invoice.paid")


def identity_event(n):
    return IdentityEventFactory(user=UserFactory())


MODELS = {
    "subscriptiontier": lambda n: SubscriptionTierFactory(),
    "customer": lambda n: CustomerFactory(),
    "subscription": lambda n: SubscriptionFactory(),
    "guestsubscription": lambda n: GuestSubscriptionFactory(user=UserFactory()),
    "stripecheckoutevent": stripe_event,
    "identityevent": identity_event,
}


def make(model, count):
    return [MODELS[model](n) for n in range(count)]


def queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    return len(captured)


@pytest.mark.parametrize("model", MODELS)
def test_changelist_and_search_queries_do_not_grow_with_rows(admin_client, model):
    url = reverse(f"admin:payments_{model}_changelist")
    make(model, 2)
    few = queries(admin_client, url), queries(admin_client, url + "?q=example")
    make(model, 8)
    assert (queries(admin_client, url), queries(admin_client, url + "?q=example")) == few


@pytest.mark.parametrize("model", MODELS)
def test_change_page_renders(admin_client, model):
    obj = make(model, 1)[0]
    response = admin_client.get(reverse(f"admin:payments_{model}_change", args=[obj.pk]))
    assert response.status_code == 200


def test_search_finds_a_guest_subscription_by_stripe_id(admin_client):
    wanted = GuestSubscriptionFactory(stripe_subscription_id="sub_wanted123")
    other = GuestSubscriptionFactory()
    response = admin_client.get(
        reverse("admin:payments_guestsubscription_changelist") + "?q=sub_wanted123"
    )
    assert wanted.email.encode() in response.content
    assert other.email.encode() not in response.content


def test_search_finds_a_subscription_by_the_users_email(admin_client):
    wanted = SubscriptionFactory()
    SubscriptionFactory()
    response = admin_client.get(
        reverse("admin:payments_subscription_changelist") + f"?q={wanted.user.email}"
    )
    assert response.context["cl"].result_count == 1


def test_guest_token_hash_is_never_shown(admin_client):
    guest = GuestSubscriptionFactory()
    response = admin_client.get(reverse("admin:payments_guestsubscription_change", args=[guest.pk]))
    assert guest.token_hash.encode() not in response.content
    assert b"token_hash" not in response.content


def test_tier_price_ids_of_both_modes_are_editable(admin_client):
    response = admin_client.get(reverse("admin:payments_subscriptiontier_change", args=[1]))
    form = response.context["adminform"].form
    assert {"stripe_price_id_test", "stripe_price_id_live"} <= set(form.fields)


def test_tier_trial_and_german_texts_are_editable(admin_client):
    tier = SubscriptionTierFactory()
    url = reverse("admin:payments_subscriptiontier_change", args=[tier.pk])
    form = admin_client.get(url).context["adminform"].form
    assert {"trial_days", "name_de", "description_de"} <= set(form.fields)

    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(trial_days=14, name_de="Leser", description_de="Lesen.")
    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    tier.refresh_from_db()
    assert (tier.trial_days, tier.name_de) == (14, "Leser")


def test_tier_position_and_active_flag_are_editable_in_the_list(admin_client):
    response = admin_client.get(reverse("admin:payments_subscriptiontier_changelist"))
    assert set(response.context["cl"].list_editable) == {"position", "is_active"}


@pytest.mark.parametrize("model", ["stripecheckoutevent", "identityevent"])
def test_events_are_read_only(admin_client, model):
    obj = make(model, 1)[0]
    assert admin_client.get(reverse(f"admin:payments_{model}_add")).status_code == 403
    change_url = reverse(f"admin:payments_{model}_change", args=[obj.pk])
    response = admin_client.get(change_url)
    assert response.context["adminform"].form.fields == {}
    assert admin_client.post(change_url, {"email": "x@example.com"}).status_code == 403
    delete_url = reverse(f"admin:payments_{model}_delete", args=[obj.pk])
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert obj.__class__.objects.filter(pk=obj.pk).exists()


def test_identity_events_filter_by_type_and_date(admin_client):
    IdentityEventFactory(event_type=IdentityEvent.EventType.LOGIN, email="in@example.com")
    IdentityEventFactory(event_type=IdentityEvent.EventType.LOGOUT, email="out@example.com")
    url = reverse("admin:payments_identityevent_changelist")
    # (admin_client's own signup and login are events too)
    response = admin_client.get(url + "?event_type__exact=logout")
    assert [e.email for e in response.context["cl"].result_list] == ["out@example.com"]
    assert response.context["cl"].date_hierarchy == "created_at"
