"""The test settings plus django-allauth (really installed), without ``EMAIL_IS_VERIFIED``.

So ``payments`` asks allauth's ``EmailAddress.verified``. Its own test database name
lets this run beside the main suite's on one server.
"""

from tests.settings import *  # noqa: F403
from tests.settings import DATABASES, INSTALLED_APPS, MIDDLEWARE, PAYMENTS

INSTALLED_APPS = [*INSTALLED_APPS, "allauth", "allauth.account"]
MIDDLEWARE = [*MIDDLEWARE, "allauth.account.middleware.AccountMiddleware"]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
ROOT_URLCONF = "tests.allauth_site.urls"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "optional"  # signed in at once, verified only via the link
ACCOUNT_RATE_LIMITS = False

PAYMENTS = {key: value for key, value in PAYMENTS.items() if key != "EMAIL_IS_VERIFIED"}

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": "file:payments-allauth?mode=memory&cache=shared"}
else:
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_allauth"}
