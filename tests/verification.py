"""The test suite's ``EMAIL_IS_VERIFIED``: verified unless a test marks the user.

A site's own callable in miniature, so the suite runs the ``EMAIL_IS_VERIFIED``
path in-process; django-allauth's path runs in ``tests/allauth_site``.
"""

#: Give a user this first name to make their email unverified.
UNVERIFIED = "(unverified)"


def email_is_verified(user) -> bool:
    return getattr(user, "first_name", "") != UNVERIFIED
