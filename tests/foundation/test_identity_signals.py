"""Identity events recorded from Django's auth signals, through real logins."""

import pytest
from django.contrib.auth import get_user_model

from payments.models import IdentityEvent
from payments.testing.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


def events(event_type):
    return list(IdentityEvent.objects.filter(event_type=event_type))


def test_signup_is_recorded_once_with_the_email():
    user = get_user_model().objects.create_user("anna", "anna@example.com", PASSWORD)
    user.save()  # a later save is no signup
    [event] = events("signup")
    assert (event.user, event.email) == (user, "anna@example.com")


def test_login_and_logout_through_the_client(client):
    user = UserFactory()
    assert client.login(username=user.username, password=PASSWORD)
    client.logout()
    assert [e.user for e in events("login")] == [user]
    assert [e.user for e in events("logout")] == [user]


def test_logout_without_a_session_user_records_nothing(client):
    client.logout()
    assert events("logout") == []


def test_failed_login_keeps_the_attempted_username_never_the_password(client):
    UserFactory(username="anna")
    assert not client.login(username="anna", password="wrong-secret-42")
    [event] = events("login_failed")
    assert event.user is None
    assert event.metadata == {"attempted_username": "anna"}
    stored = str(list(IdentityEvent.objects.values()))
    assert "wrong-secret-42" not in stored


def test_failed_login_with_an_email_as_username_keeps_the_email(client):
    assert not client.login(username="who@example.com", password="nope")
    [event] = events("login_failed")
    assert event.email == "who@example.com"
