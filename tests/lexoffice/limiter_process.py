"""One process of the cross-process limiter test: lookups at a shared start time.

``python -m tests.lexoffice.limiter_process URL KEY CALLS START [CACHE_LOCATION]``:
``CALLS`` voucher lookups against the (fake) Lexoffice at ``URL``, beginning at the
Unix time ``START``, each refused request raised rather than waited out. With
``CACHE_LOCATION`` (a Redis URL) the limiter is ``LEXOFFICE_RATE_LIMIT_CACHE``'s;
without, the process's own. Prints how many lookups Lexoffice refused.
"""

import os
import sys
import time

import django


def main(url: str, key: str, calls: int, start: float, cache_location: str = "") -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    django.setup()
    from django.conf import settings
    from django.test.utils import override_settings

    from payments.lexoffice.client import LexofficeClient
    from payments.lexoffice.errors import LexofficeRateLimitError

    overrides = {"PAYMENTS": {**settings.PAYMENTS, "LEXOFFICE_API_BASE": url}}
    if cache_location:
        overrides["CACHES"] = {
            "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
            "shared": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": cache_location,
                "KEY_PREFIX": f"limiter-test-{int(start * 1000)}",
            },
        }
        overrides["PAYMENTS"]["LEXOFFICE_RATE_LIMIT_CACHE"] = "shared"
    with override_settings(**overrides):
        client = LexofficeClient(api_key=key, max_rate_limit_retries=0)
        time.sleep(max(0.0, start - time.time()))
        refused = 0
        for number in range(calls):
            try:
                client.find_vouchers_by_number(f"RE-{os.getpid()}-{number}")
            except LexofficeRateLimitError:
                refused += 1
    print(refused)


if __name__ == "__main__":
    url, key, calls, start, *cache = sys.argv[1:]
    main(url, key, int(calls), float(start), *cache)
