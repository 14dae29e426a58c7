"""HTTP client for the Lexoffice (Lexware Office) public API, on ``requests``.

Follows https://developers.lexware.io/docs/ where the issue was loose:

* Lookup by number uses ``GET /v1/vouchers?voucherNumber=``. The docs mark it
  deprecated in favour of ``/v1/voucherlist``, but ``voucherlist`` cannot filter by
  number and returns metadata only, while this answers whole vouchers, ``files``
  included: one request tells whether the invoice is booked *and* whether its PDF
  is attached. A number may match vouchers of other types, so callers filter by
  ``type``.
* Files go to ``POST /v1/vouchers/{id}/files`` (multipart ``file`` plus
  ``type=voucher``) and are answered with 202. Lexoffice deduplicates an identical
  file by checksum, so a repeated upload of the same PDF does not add a second one.
* The documented limit is 2 requests per second per API key, all endpoints
  together; beyond it the API answers 429 and does not perform the call.

Nothing here retries a request that may have had an effect: only 429 (which the
API documents as "not performed") is waited out and repeated. Timeouts, connection
failures and 5xx raise ``LexofficeUnavailableError`` and the caller's next attempt
starts again from the lookup.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from django.core.cache import caches

from payments.conf import payments_settings
from payments.lexoffice.errors import (
    LexofficeAuthError,
    LexofficeError,
    LexofficeRateLimitError,
    LexofficeUnavailableError,
    LexofficeValidationError,
)

logger = logging.getLogger(__name__)

#: (connect, read) seconds. Creating a voucher is quick; a read that takes longer
#: than this is treated as "may or may not have landed".
DEFAULT_TIMEOUT = (5.0, 30.0)
#: Lexoffice allows 2 requests/s. Spacing starts 0.55 s apart keeps any three
#: consecutive requests more than a second apart even with some network jitter.
DEFAULT_MIN_INTERVAL = 0.55
#: Across processes the slots are wider: a request starts a little after its slot
#: begins (a sleep's overshoot, a new connection), and any three requests of all
#: processes must still arrive more than a second apart.
CROSS_PROCESS_MIN_INTERVAL = 0.6
#: How often a 429 is waited out before giving up on this attempt.
DEFAULT_MAX_RATE_LIMIT_RETRIES = 4
#: Without ``Retry-After``: wait this long after the first 429, doubling each time.
RATE_LIMIT_BACKOFF = 1.0
#: A ``Retry-After`` beyond this is not slept in a worker; the attempt fails instead.
MAX_RETRY_AFTER = 60.0
#: The documented maximum size of an uploaded file.
MAX_FILE_BYTES = 5 * 1024 * 1024


class RateLimiter:
    """Minimum spacing between request starts, shared by all threads of a process.

    Each thread reserves the next free slot under the lock and sleeps outside it,
    so waiting threads do not block each other's bookkeeping. It holds within one
    process only: with several (web workers, task workers) set
    ``LEXOFFICE_RATE_LIMIT_CACHE`` so that :class:`CacheRateLimiter` spaces them all.
    """

    def __init__(self, min_interval: float) -> None:
        self.min_interval = min_interval
        self._lock = threading.Lock()
        self._next_start = 0.0

    def wait(self) -> None:
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next_start)
            self._next_start = start + self.min_interval
        if start > now:
            time.sleep(start - now)


class CacheRateLimiter:
    """Minimum spacing between request starts across every process sharing a cache.

    Time is cut into slots of ``min_interval`` seconds; a request claims the next
    free slot that has not begun with the cache's atomic ``add`` (Redis ``SET NX``,
    Memcached ``add``) and starts when it begins. One request per slot, started at
    its boundary, keeps any three requests of all processes together at least two
    intervals apart. The processes must share a clock (one machine, or NTP). A
    request that still meets a 429 (a clock far off, another client on the same
    key) is waited out by ``LexofficeClient`` as before.
    """

    def __init__(
        self, min_interval: float, cache_alias: str, key: str = "payments:lexoffice:slot"
    ) -> None:
        self.min_interval = min_interval
        self.cache_alias = cache_alias
        self.key = key

    def wait(self) -> None:
        cache = caches[self.cache_alias]
        slot = self._next_slot(0)
        # A claimed slot's key lives a little longer than the slot itself.
        while not cache.add(f"{self.key}:{slot}", 1, timeout=int(self.min_interval) + 60):
            slot = self._next_slot(slot + 1)
        delay = slot * self.min_interval - time.time()
        if delay > 0:
            time.sleep(delay)

    def _next_slot(self, at_least: int) -> int:
        return max(at_least, math.ceil(time.time() / self.min_interval))


#: The process-wide limiter every client uses unless given its own or
#: ``LEXOFFICE_RATE_LIMIT_CACHE`` is set.
shared_limiter = RateLimiter(DEFAULT_MIN_INTERVAL)


def configured_limiter() -> RateLimiter | CacheRateLimiter:
    """The limiter the settings ask for, looked up at each request."""
    alias = payments_settings.LEXOFFICE_RATE_LIMIT_CACHE
    if alias:
        return CacheRateLimiter(CROSS_PROCESS_MIN_INTERVAL, alias)
    return shared_limiter


def retry_after_seconds(response: requests.Response) -> float | None:
    """``Retry-After`` in seconds (delta-seconds or HTTP-date), or None if absent/invalid."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - datetime.now(tz=UTC)).total_seconds())


def describe_error(response: requests.Response) -> str:
    """Lexoffice's own reason from an error body (either of its two error formats)."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200] or response.reason or ""
    if not isinstance(body, dict):
        return str(body)[:200]
    parts = [str(body["message"])] if body.get("message") else []
    for detail in body.get("details") or []:
        parts.append(f"{detail.get('field', '')}: {detail.get('message', '')}".strip(": "))
    for issue in body.get("IssueList") or []:
        parts.append(f"{issue.get('source', '')}: {issue.get('i18nKey', '')}".strip(": "))
    return "; ".join(parts) or response.reason or ""


def contact_emails(contact: dict[str, Any]) -> set[str]:
    """Every email address of a contact, lower-cased (they are grouped by kind)."""
    groups = (contact.get("emailAddresses") or {}).values()
    return {address.lower() for group in groups for address in group}


class LexofficeClient:
    """One Lexoffice account: base URL, API key, timeouts, rate limit.

    ``api_base``/``api_key`` default to ``PAYMENTS["LEXOFFICE_API_BASE"]`` and
    ``PAYMENTS["LEXOFFICE_API_KEY"]``, read at each request so settings overrides
    apply. Sessions are kept per thread (``requests.Session`` is not documented as
    thread-safe) and reused for connection pooling.
    """

    def __init__(
        self,
        *,
        api_base: str | None = None,
        api_key: str | None = None,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        limiter: RateLimiter | CacheRateLimiter | None = None,
        max_rate_limit_retries: int = DEFAULT_MAX_RATE_LIMIT_RETRIES,
    ) -> None:
        self._api_base = api_base
        self._api_key = api_key
        self.timeout = timeout
        self._limiter = limiter
        self.max_rate_limit_retries = max_rate_limit_retries
        self._local = threading.local()

    @property
    def limiter(self) -> RateLimiter | CacheRateLimiter:
        return self._limiter or configured_limiter()

    @property
    def api_base(self) -> str:
        return (self._api_base or payments_settings.LEXOFFICE_API_BASE).rstrip("/")

    @property
    def api_key(self) -> str:
        return self._api_key if self._api_key is not None else payments_settings.LEXOFFICE_API_KEY

    @property
    def session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.headers["Accept"] = "application/json"
        return session

    # -- endpoints -------------------------------------------------------------------

    def find_vouchers_by_number(self, voucher_number: str) -> list[dict[str, Any]]:
        """Every voucher (any type) whose number is exactly ``voucher_number``."""
        page = self.request("GET", "/v1/vouchers", params={"voucherNumber": voucher_number})
        return [v for v in page.get("content", []) if v.get("voucherNumber") == voucher_number]

    def get_voucher(self, voucher_id: str) -> dict[str, Any]:
        return self.request("GET", f"/v1/vouchers/{voucher_id}")

    def find_customers_by_email(self, email: str) -> list[dict[str, Any]]:
        """Customer contacts with exactly this email address.

        Lexoffice's ``email`` filter treats ``_`` and ``%`` as wildcards, so the
        page is narrowed to exact (case-insensitive) matches here.
        """
        page = self.request("GET", "/v1/contacts", params={"email": email, "customer": "true"})
        return [c for c in page.get("content", []) if email.lower() in contact_emails(c)]

    def create_contact(self, payload: dict[str, Any]) -> dict[str, Any]:
        """``POST /v1/contacts``; answers ``{"id", "resourceUri", ..., "version"}``."""
        return self.request("POST", "/v1/contacts", json=payload)

    def posting_categories(self) -> list[dict[str, Any]]:
        """``GET /v1/posting-categories``: every booking category the account offers."""
        answer = self.request("GET", "/v1/posting-categories")
        return answer if isinstance(answer, list) else answer.get("content", [])

    def create_voucher(self, payload: dict[str, Any]) -> dict[str, Any]:
        """``POST /v1/vouchers``; answers ``{"id", "resourceUri", ..., "version"}``."""
        return self.request("POST", "/v1/vouchers", json=payload)

    def upload_voucher_file(
        self, voucher_id: str, content: bytes, filename: str, content_type: str = "application/pdf"
    ) -> dict[str, Any]:
        """Attach a receipt to a voucher; answers ``{"id": <file id>}``."""
        return self.request(
            "POST",
            f"/v1/vouchers/{voucher_id}/files",
            files={"file": (filename, content, content_type)},
            data={"type": "voucher"},
        )

    # -- transport -------------------------------------------------------------------

    def request(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        """Send one API request, waiting out 429s; raise a ``LexofficeError`` on failure."""
        if not self.api_key:
            raise LexofficeAuthError(
                "PAYMENTS['LEXOFFICE_API_KEY'] is empty: Lexoffice sync is not configured."
            )
        for attempt in range(self.max_rate_limit_retries + 1):
            response = self._send(method, path, **kwargs)
            if response.status_code != 429:
                return self._parse(method, path, response)
            wait = self._rate_limit_wait(response, attempt)
            if attempt == self.max_rate_limit_retries or wait > MAX_RETRY_AFTER:
                break
            logger.info("Lexoffice %s %s: 429, retrying in %.1f s", method, path, wait)
            time.sleep(wait)
        raise LexofficeRateLimitError(
            f"Lexoffice kept answering 429 Too Many Requests to {method} {path} "
            f"after {attempt + 1} attempts; the next delivery attempt will try again.",
            status=429,
        )

    @staticmethod
    def _rate_limit_wait(response: requests.Response, attempt: int) -> float:
        retry_after = retry_after_seconds(response)
        if retry_after is not None:
            return retry_after
        return RATE_LIMIT_BACKOFF * 2**attempt

    def _send(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        self.limiter.wait()
        headers = {"Authorization": f"Bearer {self.api_key}"}
        try:
            return self.session.request(
                method, self.api_base + path, headers=headers, timeout=self.timeout, **kwargs
            )
        except requests.Timeout as exc:
            raise LexofficeUnavailableError(
                f"Lexoffice did not answer {method} {path} in time ({exc.__class__.__name__}); "
                "it may have been carried out, the next attempt looks the voucher up first."
            ) from exc
        except requests.RequestException as exc:
            raise LexofficeUnavailableError(
                f"Could not reach Lexoffice for {method} {path}: {exc.__class__.__name__}"
            ) from exc

    @staticmethod
    def _parse(method: str, path: str, response: requests.Response) -> dict[str, Any]:
        status = response.status_code
        logger.debug("Lexoffice %s %s: %s", method, path, status)
        if 200 <= status < 300:
            try:
                return response.json() if response.content else {}
            except ValueError as exc:
                raise LexofficeUnavailableError(
                    f"Lexoffice answered {method} {path} with {status} but no JSON.", status=status
                ) from exc
        reason = describe_error(response)
        where = f"{method} {path}"
        if status in (401, 403):
            raise LexofficeAuthError(
                f"Lexoffice refused the API key (HTTP {status}) for {where}: {reason}. "
                "Check PAYMENTS['LEXOFFICE_API_KEY'].",
                status=status,
            )
        if status == 413:
            raise LexofficeValidationError(
                f"Lexoffice refused the file as too large (HTTP 413, limit "
                f"{MAX_FILE_BYTES // (1024 * 1024)} MiB) for {where}: {reason}",
                status=status,
            )
        if status >= 500:
            raise LexofficeUnavailableError(
                f"Lexoffice failed with HTTP {status} for {where}: {reason}", status=status
            )
        if 400 <= status < 500:
            raise LexofficeValidationError(
                f"Lexoffice refused {where} (HTTP {status}): {reason}", status=status
            )
        raise LexofficeError(f"Unexpected HTTP {status} from Lexoffice for {where}", status=status)


#: The client ``book_invoice`` uses unless given one: settings at request time,
#: the configured limiter, default timeouts.
default_client = LexofficeClient()
