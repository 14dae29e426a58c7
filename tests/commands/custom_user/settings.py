"""The test settings with ``AUTH_USER_MODEL`` swapped for ``custom_user.Member``.

Its own test database name lets this run beside the main suite's on one server.
"""

from tests.settings import *  # noqa: F403
from tests.settings import DATABASES, INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.commands.custom_user"]
AUTH_USER_MODEL = "custom_user.Member"

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": "file:payments-custom-user?mode=memory&cache=shared"}
else:
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_custom_user"}
