"""payments.access: which features users and guests get, in code, views and templates."""

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.http import HttpResponse
from django.template import Context, Template
from django.test import RequestFactory, override_settings

from payments.access import features_for, features_for_request, requires_feature
from payments.models import SubscriptionTier
from payments.services.guest_tokens import SESSION_KEY, hash_token
from payments.testing.factories import (
    GuestSubscriptionFactory,
    SubscriptionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def tier(slug):
    return SubscriptionTier.objects.get(slug=slug)


def request_for(user=None, token=None, session=None):
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get("/page/", {"token": token} if token else {})
    request.user = user or AnonymousUser()
    request.session = session if session is not None else SessionStore()
    return request


@pytest.mark.parametrize(
    "status, expected",
    [
        ("active", {"data", "reading"}),
        ("trialing", {"data", "reading"}),
        ("past_due", set()),
        ("canceled", set()),
        ("incomplete", set()),
    ],
)
def test_only_active_and_trialing_subscriptions_grant_features(status, expected):
    subscription = SubscriptionFactory(tier=tier("reader"), status=status)
    assert features_for(subscription.user) == expected


def test_a_user_with_two_tiers_gets_the_union_in_one_query(django_assert_num_queries):
    data = SubscriptionFactory(tier=tier("data"))
    SubscriptionFactory(tier=tier("premium"), customer=data.customer)
    user = data.user
    with django_assert_num_queries(1):
        assert features_for(user) == {"data", "reading", "ebooks"}


def test_a_canceled_premium_leaves_only_the_active_data_tier():
    data = SubscriptionFactory(tier=tier("data"))
    SubscriptionFactory(tier=tier("premium"), customer=data.customer, status="canceled")
    assert features_for(data.user) == {"data"}


def test_other_users_subscriptions_grant_nothing():
    SubscriptionFactory(tier=tier("premium"))
    assert features_for(UserFactory()) == frozenset()


def test_guest_subscriptions_linked_to_the_user_count():
    user = UserFactory()
    GuestSubscriptionFactory(tier=tier("premium"), user=user)
    GuestSubscriptionFactory(tier=tier("premium"))  # someone else's
    assert features_for(user) == {"data", "reading", "ebooks"}


def test_anonymous_user_has_no_features_without_a_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert features_for_request(request_for()) == frozenset()


def test_guest_with_a_valid_token_gets_the_tier_features_and_is_remembered():
    guest = GuestSubscriptionFactory(tier=tier("reader"), token="t" * 43)
    session = SessionStore()
    assert features_for_request(request_for(token="t" * 43, session=session)) == {
        "data",
        "reading",
    }
    assert session[SESSION_KEY] == [guest.pk, guest.token_hash]
    # The next page carries no token; the session remembers the guest.
    assert features_for_request(request_for(session=session)) == {"data", "reading"}


def test_a_session_that_opened_a_revoked_link_loses_the_guests_access():
    guest = GuestSubscriptionFactory(tier=tier("reader"), token="t" * 43)
    session = SessionStore()
    features_for_request(request_for(token="t" * 43, session=session))

    guest.token_hash = hash_token("a new link was sent")
    guest.save(update_fields=["token_hash"])

    assert features_for_request(request_for(session=session)) == frozenset()


def test_an_unknown_token_grants_nothing_and_is_not_remembered():
    GuestSubscriptionFactory(tier=tier("premium"), token="t" * 43)
    session = SessionStore()
    assert features_for_request(request_for(token="u" * 43, session=session)) == frozenset()
    assert SESSION_KEY not in session


def test_a_stale_token_in_the_url_does_not_hide_the_remembered_guest():
    GuestSubscriptionFactory(tier=tier("data"), token="t" * 43)
    session = SessionStore()
    features_for_request(request_for(token="t" * 43, session=session))
    assert features_for_request(request_for(token="stale", session=session)) == {"data"}


def test_a_planted_session_key_is_replaced_when_a_guest_arrives():
    GuestSubscriptionFactory(tier=tier("data"), token="t" * 43)
    session = SessionStore()
    session.create()
    planted = session.session_key
    features_for_request(request_for(token="t" * 43, session=session))
    assert session.session_key != planted


def test_a_canceled_guest_subscription_grants_nothing():
    GuestSubscriptionFactory(tier=tier("premium"), token="t" * 43, status="canceled")
    assert features_for_request(request_for(token="t" * 43)) == frozenset()


def test_a_signed_in_user_gets_their_own_plus_the_guests_features():
    subscription = SubscriptionFactory(tier=tier("data"))
    GuestSubscriptionFactory(tier=tier("premium"), token="t" * 43)
    request = request_for(user=subscription.user, token="t" * 43)
    assert features_for_request(request) == {"data", "reading", "ebooks"}


def test_features_are_looked_up_once_per_request(django_assert_num_queries):
    subscription = SubscriptionFactory(tier=tier("reader"))
    request = request_for(user=subscription.user)
    with django_assert_num_queries(1):
        features_for_request(request)
        features_for_request(request)


@requires_feature("reading")
def article(request):
    return HttpResponse("the article")


def test_decorator_lets_subscribers_in():
    subscription = SubscriptionFactory(tier=tier("reader"))
    assert article(request_for(user=subscription.user)).content == b"the article"


def test_decorator_answers_403_without_the_feature():
    from django.core.exceptions import PermissionDenied

    subscription = SubscriptionFactory(tier=tier("data"))
    with pytest.raises(PermissionDenied):
        article(request_for(user=subscription.user))


def test_decorator_redirects_to_the_pricing_page_when_configured():
    from tests.settings import PAYMENTS

    with override_settings(PAYMENTS={**PAYMENTS, "PRICING_URL": "/pricing/"}):
        response = article(request_for())
    assert response.status_code == 302
    assert response["Location"] == "/pricing/"


def test_decorator_rejects_an_unknown_feature_when_applied():
    with pytest.raises(ValueError, match="Unknown feature 'reeding'"):
        requires_feature("reeding")


TEMPLATE = Template(
    '{% load payments_access %}{% if request|has_feature:"ebooks" %}download{% else %}'
    "buy{% endif %}"
)


def test_template_filter():
    premium = SubscriptionFactory(tier=tier("premium"))
    reader = SubscriptionFactory(tier=tier("reader"))
    assert TEMPLATE.render(Context({"request": request_for(user=premium.user)})) == "download"
    assert TEMPLATE.render(Context({"request": request_for(user=reader.user)})) == "buy"
    assert TEMPLATE.render(Context({})) == "buy"


def test_a_planted_token_does_not_replace_the_remembered_guest():
    mine = GuestSubscriptionFactory(tier=tier("data"), token="t" * 43)
    GuestSubscriptionFactory(tier=tier("premium"), token="p" * 43)
    session = SessionStore()
    features_for_request(request_for(token="t" * 43, session=session))

    planted = features_for_request(request_for(token="p" * 43, session=session))

    assert "ebooks" in planted, "the link's own features, for that request"
    assert session[SESSION_KEY] == [mine.pk, mine.token_hash]
    assert features_for_request(request_for(session=session)) == {"data"}
