"""A local stand-in for the Lexoffice (Lexware Office) public API.

It speaks real HTTP on 127.0.0.1 (an ephemeral port) and enforces the rules of the
real API that a client can get wrong:

* ``Authorization: Bearer <key>``, else 401 (gateway-style ``{"message": ...}``);
* at most ``rate_limit`` requests in any 1-second window, all endpoints together,
  else 429 (with ``Retry-After`` unless ``retry_after`` is None); a refused request
  is not carried out and does not use up the window, as with a token bucket;
* ``POST /v1/vouchers``: JSON only (415), sales voucher types, mandatory fields, and
  amounts that add up: items' amounts and tax amounts to ``totalGrossAmount`` and
  ``totalTaxAmount`` (net items plus tax for ``taxType`` "net"), each item's tax
  consistent with its rate within a cent, rates Lexoffice accepts for vouchers.
  Violations answer 406 with ``details`` like Lexoffice's validation errors;
  unparseable JSON answers 400;
* a duplicate ``voucherNumber`` is accepted, as the real API does;
* ``POST /v1/vouchers/{id}/files``: multipart ``file``, at most 5 MiB (413), PDF
  content only (415, checked by the ``%PDF-`` magic). An identical file (same
  checksum) on the same voucher returns the existing file id, like Lexoffice's
  deduplication;
* ``GET /v1/vouchers?voucherNumber=`` (a page of whole vouchers) and
  ``GET /v1/vouchers/{id}``;
* categories that need a contact (§13b, intra-EU supply, distance sales) refuse the
  collective contact, and a ``contactId`` must exist: ``POST /v1/contacts`` (version
  0, a role, a company or person name) and ``GET /v1/contacts?email=&customer=``
  (``_``/``%`` are wildcards in ``email``, as in Lexoffice);
* ``GET /v1/posting-categories`` lists the account's categories (``categories``);
  a voucher item's ``categoryId`` must be one of its income categories;
* tax rates by category: German rates only, except "Fernverkauf" (OSS distance
  sales), which takes the standard rate of its contact's EU country (and needs a
  contact in another EU country); the tax-free categories (§13b, third countries,
  small business) take 0 % only;
* ``shippingDate``, when given, is a date like ``voucherDate``.

Faults on demand: ``fail_next(status, ...)``, ``delay`` (seconds before every
answer) and ``timeout_next(...)`` (carry the request out, then hold the answer).
Everything received is in ``requests``; created data in ``vouchers`` and ``files``.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from email.parser import BytesParser
from email.policy import HTTP
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

MAX_FILE_BYTES = 5 * 1024 * 1024
SALES_TYPES = {"salesinvoice", "salescreditnote"}
VOUCHER_TAX_RATES = {Decimal(rate) for rate in (0, 5, 7, 16, 19)}
DISTANCE_SALES_CATEGORY = "7c112b66-0565-479c-bc18-5845e080880a"
#: ``GET /v1/posting-categories`` of a typical account (income side, and one outgo).
POSTING_CATEGORIES = [
    {"id": "8f8664a0-fd86-11e1-a21f-0800200c9a66", "name": "Dienstleistungen",
     "type": "income", "contactRequired": False, "splitAllowed": True, "groupName": "Umsatz"},
    {"id": "f5c7fee8-f184-4e7a-ab04-8f7e7ad6c207", "name": "Einnahmen als Kleinunternehmer",
     "type": "income", "contactRequired": False, "splitAllowed": True, "groupName": "Umsatz"},
    {"id": "ef5b1a6e-f690-4004-9a19-91276348894f", "name": "Dienstleistungen an Drittländer",
     "type": "income", "contactRequired": False, "splitAllowed": True, "groupName": "Umsatz"},
    {"id": "380a20cb-d04c-426e-b49c-84c22adfa362", "name": "Fremdleistungen §13b",
     "type": "income", "contactRequired": True, "splitAllowed": True, "groupName": "Umsatz"},
    {"id": "9075a4e3-66de-4795-a016-3889feca0d20", "name": "Innergemeinschaftliche Lieferung",
     "type": "income", "contactRequired": True, "splitAllowed": True, "groupName": "Umsatz"},
    {"id": DISTANCE_SALES_CATEGORY, "name": "Fernverkauf",
     "type": "income", "contactRequired": True, "splitAllowed": True, "groupName": "Umsatz"},
    {"id": "16d04a28-2f6c-4d76-9e42-5e4ad2c4ad49", "name": "Bürobedarf",
     "type": "outgo", "contactRequired": False, "splitAllowed": True, "groupName": "Sonstiges"},
]  # fmt: skip
#: Categories whose sales carry no German VAT: 0 % is their only rate.
TAX_FREE_CATEGORIES = {
    "f5c7fee8-f184-4e7a-ab04-8f7e7ad6c207",
    "ef5b1a6e-f690-4004-9a19-91276348894f",
    "380a20cb-d04c-426e-b49c-84c22adfa362",
    "9075a4e3-66de-4795-a016-3889feca0d20",
}
#: Standard VAT rates of the other EU countries, for distance sales (OSS).
EU_STANDARD_RATES = {
    "AT": 20, "BE": 21, "BG": 20, "CY": 19, "CZ": 21, "DK": 25, "EE": 24, "ES": 21,
    "FI": Decimal("25.5"), "FR": 20, "GR": 24, "HR": 25, "HU": 27, "IE": 23, "IT": 22,
    "LT": 21, "LU": 17, "LV": 21, "MT": 18, "NL": 21, "PL": 23, "PT": 23, "RO": 21,
    "SE": 25, "SI": 22, "SK": 23,
}  # fmt: skip
ORGANIZATION_ID = "aa93e8a8-2aa3-470b-b914-caad8a255dd8"
VOUCHER_PATH = re.compile(r"^/v1/vouchers/(?P<id>[0-9a-f-]{36})$")
FILES_PATH = re.compile(r"^/v1/vouchers/(?P<id>[0-9a-f-]{36})/files$")
CENT = Decimal("0.01")


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, list[str]]
    status: int = 0
    authorized: bool = False


@dataclass
class Fault:
    status: int | None  # None: hold the answer (a timeout) instead of failing
    count: int
    commit: bool
    method: str | None
    path: str | None
    hold: float = 0.0

    def matches(self, method: str, path: str) -> bool:
        return (self.method in (None, method)) and (self.path in (None, path))


@dataclass
class Answer:
    status: int
    body: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


class ApiError(Exception):
    def __init__(self, status: int, message: str, details: list[dict] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details or []


def _now() -> str:
    return datetime.now(tz=UTC).isoformat(timespec="milliseconds")


def _error_body(status: int, path: str, message: str, details: list[dict]) -> dict[str, Any]:
    return {
        "timestamp": _now(),
        "status": status,
        "error": HTTPStatus(status).phrase,
        "path": path,
        "traceId": uuid.uuid4().hex[:16],
        "message": message,
        "details": details,
    }


class FakeLexoffice:
    """The fake's state and rules; ``start()`` serves it, ``stop()`` ends it."""

    def __init__(
        self,
        api_key: str = "lexoffice-test-key",
        *,
        rate_limit: int = 2,
        retry_after: int | None = 1,
    ) -> None:
        self.api_key = api_key
        self.rate_limit = rate_limit
        self.retry_after = retry_after
        self.delay = 0.0
        self.requests: list[RecordedRequest] = []
        self.vouchers: dict[str, dict[str, Any]] = {}
        self.files: dict[str, dict[str, Any]] = {}
        self.contacts: dict[str, dict[str, Any]] = {}
        #: The account's posting categories; remove one to see a booking refused.
        self.categories: list[dict[str, Any]] = [dict(c) for c in POSTING_CATEGORIES]
        self._faults: deque[Fault] = deque()
        self._window: deque[float] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> FakeLexoffice:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeLexoffice:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # -- fault injection -------------------------------------------------------------

    def fail_next(
        self,
        status: int,
        count: int = 1,
        *,
        commit: bool = False,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        """Answer the next ``count`` matching requests with ``status``.

        ``commit=True`` carries the request out first (a voucher is created, a file
        stored) and only then answers the failure: the case a client must not book twice.
        """
        self._faults.append(Fault(status, count, commit, method, path))

    def timeout_next(
        self,
        hold: float = 5.0,
        *,
        commit: bool = True,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        """Hold the answer to the next matching request for ``hold`` seconds."""
        self._faults.append(Fault(None, 1, commit, method, path, hold))

    # -- inspection ------------------------------------------------------------------

    def statuses(self, method: str | None = None, path: str | None = None) -> list[int]:
        return [
            r.status
            for r in self.requests
            if method in (None, r.method) and (path is None or r.path == path)
        ]

    def vouchers_numbered(self, number: str) -> list[dict[str, Any]]:
        return [v for v in self.vouchers.values() if v["voucherNumber"] == number]

    # -- request handling ------------------------------------------------------------

    def handle(self, method: str, raw_path: str, headers: Any, body: bytes) -> Answer:
        parts = urlsplit(raw_path)
        record = RecordedRequest(method, parts.path, parse_qs(parts.query))
        with self._lock:
            self.requests.append(record)
        answer = self._answer(method, parts.path, record, headers, body)
        record.status = answer.status
        return answer

    def _answer(
        self, method: str, path: str, record: RecordedRequest, headers: Any, body: bytes
    ) -> Answer:
        if not self._take_rate_slot():
            return Answer(
                429,
                {"message": "Rate limit exceeded"},
                {} if self.retry_after is None else {"Retry-After": str(self.retry_after)},
            )
        record.authorized = headers.get("Authorization", "") == f"Bearer {self.api_key}"
        if not record.authorized:
            return Answer(401, {"message": "Unauthorized"})
        fault = self._take_fault(method, path)
        if fault is not None and not fault.commit:
            return self._fault_answer(fault, path, None)
        try:
            answer = self._route(method, path, record.query, headers, body)
        except ApiError as exc:
            answer = Answer(exc.status, _error_body(exc.status, path, exc.message, exc.details))
        if fault is not None:
            return self._fault_answer(fault, path, answer)
        if self.delay:
            self._stopping.wait(self.delay)
        return answer

    def _fault_answer(self, fault: Fault, path: str, real: Answer | None) -> Answer:
        if fault.status is None:
            self._stopping.wait(fault.hold)
            return real or Answer(504, _error_body(504, path, "Gateway Timeout", []))
        headers = {}
        if fault.status == 429 and self.retry_after is not None:
            headers["Retry-After"] = str(self.retry_after)
        message = HTTPStatus(fault.status).phrase
        return Answer(fault.status, _error_body(fault.status, path, message, []), headers)

    def _take_rate_slot(self) -> bool:
        with self._lock:
            now = time.monotonic()
            while self._window and self._window[0] <= now - 1.0:
                self._window.popleft()
            if len(self._window) >= self.rate_limit:
                return False
            self._window.append(now)
            return True

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.count -= 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], headers: Any, body: bytes
    ) -> Answer:
        if path == "/v1/vouchers" and method == "GET":
            return self._find_vouchers(query)
        if path == "/v1/vouchers" and method == "POST":
            return self._create_voucher(headers, body)
        if (match := VOUCHER_PATH.match(path)) and method == "GET":
            return Answer(200, self._voucher(match["id"]))
        if (match := FILES_PATH.match(path)) and method == "POST":
            return self._upload_file(match["id"], headers, body)
        if path == "/v1/posting-categories" and method == "GET":
            return Answer(200, self.categories)
        if path == "/v1/contacts" and method == "GET":
            return self._find_contacts(query)
        if path == "/v1/contacts" and method == "POST":
            return self._create_contact(headers, body)
        raise ApiError(404, f"No endpoint {method} {path}")

    def _voucher(self, voucher_id: str) -> dict[str, Any]:
        try:
            return self.vouchers[voucher_id]
        except KeyError:
            raise ApiError(404, f"Voucher {voucher_id} not found") from None

    def _find_vouchers(self, query: dict[str, list[str]]) -> Answer:
        number = (query.get("voucherNumber") or [""])[0]
        if not number:
            raise ApiError(400, "voucherNumber is required")
        return Answer(200, _page(self.vouchers_numbered(number)))

    def _create_voucher(self, headers: Any, body: bytes) -> Answer:
        payload = _json_body(headers, body)
        violations = voucher_violations(payload, self.contacts, self.categories)
        if violations:
            raise ApiError(406, "Validation failed for request.", violations)
        voucher_id = str(uuid.uuid4())
        extra = {"organizationId": ORGANIZATION_ID, "files": []}
        extra["voucherStatus"] = payload.get("voucherStatus", "open")
        return self._store(self.vouchers, voucher_id, payload | extra, "vouchers")

    def _store(
        self, table: dict[str, dict[str, Any]], new_id: str, record: dict[str, Any], kind: str
    ) -> Answer:
        created = _now()
        stamps = {"createdDate": created, "updatedDate": created, "version": 1}
        with self._lock:
            table[new_id] = {**record, "id": new_id, **stamps}
        return Answer(
            201, {"id": new_id, "resourceUri": f"{self.url}/v1/{kind}/{new_id}", **stamps}
        )

    def _find_contacts(self, query: dict[str, list[str]]) -> Answer:
        email = (query.get("email") or [""])[0]
        if email and len(email) < 3:
            raise ApiError(400, "email filter needs at least 3 characters")
        pattern = re.compile(
            "".join({"_": ".", "%": ".*"}.get(ch, re.escape(ch)) for ch in email), re.IGNORECASE
        )
        customers_only = (query.get("customer") or [""])[0] == "true"
        content = [
            contact
            for contact in self.contacts.values()
            if (not customers_only or "customer" in contact.get("roles", {}))
            and (
                not email
                or any(
                    pattern.fullmatch(address)
                    for group in (contact.get("emailAddresses") or {}).values()
                    for address in group
                )
            )
        ]
        return Answer(200, _page(content))

    def _create_contact(self, headers: Any, body: bytes) -> Answer:
        payload = _json_body(headers, body)
        violations = contact_violations(payload)
        if violations:
            raise ApiError(406, "Validation failed for request.", violations)
        return self._store(self.contacts, str(uuid.uuid4()), payload, "contacts")

    def _upload_file(self, voucher_id: str, headers: Any, body: bytes) -> Answer:
        voucher = self._voucher(voucher_id)
        content_type = headers.get("Content-Type", "")
        if not content_type.startswith("multipart/form-data"):
            raise ApiError(415, "Content-Type must be multipart/form-data")
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        parts = {
            part.get_param("name", header="content-disposition"): part
            for part in message.iter_parts()
        }
        if "file" not in parts:
            raise ApiError(406, "Validation failed for request.", [_violation("file", "missing")])
        part = parts["file"]
        content = part.get_payload(decode=True) or b""
        if len(content) > MAX_FILE_BYTES:
            raise ApiError(413, f"File exceeds the maximum size of {MAX_FILE_BYTES} bytes")
        if not content.startswith(b"%PDF-"):
            raise ApiError(415, "Unsupported file type: only PDF is accepted")
        checksum = hashlib.sha256(content).hexdigest()
        with self._lock:
            for file_id in voucher["files"]:
                if self.files[file_id]["sha256"] == checksum:
                    return Answer(202, {"id": file_id})
            file_id = str(uuid.uuid4())
            self.files[file_id] = {
                "voucher_id": voucher_id,
                "filename": part.get_filename(),
                "content_type": part.get_content_type(),
                "content": content,
                "sha256": checksum,
            }
            voucher["files"].append(file_id)
        return Answer(202, {"id": file_id})


def _page(content: list[dict[str, Any]]) -> dict[str, Any]:
    """Lexoffice's Pageable envelope, everything on page 0."""
    return {
        "content": content,
        "totalPages": 1,
        "totalElements": len(content),
        "last": True,
        "numberOfElements": len(content),
        "first": True,
        "size": 25,
        "number": 0,
    }


def _json_body(headers: Any, body: bytes) -> dict[str, Any]:
    if not headers.get("Content-Type", "").startswith("application/json"):
        raise ApiError(415, "Content-Type must be application/json")
    try:
        payload = json.loads(body, parse_float=Decimal)
    except ValueError:
        raise ApiError(400, "Malformed JSON") from None
    if not isinstance(payload, dict):
        raise ApiError(400, "Malformed JSON")
    return payload


def contact_violations(payload: dict[str, Any]) -> list[dict[str, str]]:
    """Lexoffice's rules for a new contact; an empty list when it is acceptable."""
    problems = []
    if payload.get("version") != 0:
        problems.append(_violation("version", "must be 0 for a new contact"))
    if not set(payload.get("roles") or {}) & {"customer", "vendor"}:
        problems.append(_violation("roles", "must contain customer or vendor"))
    company, person = payload.get("company") or {}, payload.get("person") or {}
    if not company.get("name") and not person.get("lastName"):
        problems.append(_violation("company.name", "a company name or person lastName is required"))
    return problems


def _violation(field_name: str, message: str) -> dict[str, str]:
    return {"violation": "INVALID", "field": field_name, "message": message}


def _money(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        return None


def voucher_violations(
    payload: dict[str, Any],
    contacts: dict[str, dict[str, Any]],
    categories: list[dict[str, Any]] = POSTING_CATEGORIES,
) -> list[dict[str, str]]:
    """Lexoffice's rules for a new sales voucher; an empty list when it is acceptable."""
    problems = _contact_violations(payload, contacts, categories)
    if payload.get("type") not in SALES_TYPES:
        problems.append(_violation("type", f"must be one of {sorted(SALES_TYPES)}"))
    if not payload.get("voucherNumber"):
        problems.append(_violation("voucherNumber", "must not be empty"))
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(payload.get("voucherDate", ""))):
        problems.append(_violation("voucherDate", "must be a date yyyy-MM-dd"))
    shipping = payload.get("shippingDate")
    if shipping is not None and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(shipping)):
        problems.append(_violation("shippingDate", "must be a date yyyy-MM-dd"))
    tax_type = payload.get("taxType")
    if tax_type not in ("gross", "net"):
        problems.append(_violation("taxType", "must be gross or net"))
    gross, tax = _money(payload.get("totalGrossAmount")), _money(payload.get("totalTaxAmount"))
    if gross is None:
        problems.append(_violation("totalGrossAmount", "must be a number"))
    if tax is None:
        problems.append(_violation("totalTaxAmount", "must be a number"))
    items = payload.get("voucherItems")
    if not isinstance(items, list) or not items:
        problems.append(_violation("voucherItems", "must not be empty"))
        return problems
    country = _contact_country(payload, contacts)
    income = {c["id"] for c in categories if c["type"] == "income"}
    item_problems = [
        p
        for index, item in enumerate(items)
        for p in _item_violations(index, item, tax_type, income, country)
    ]
    if item_problems or gross is None or tax is None or tax_type not in ("gross", "net"):
        return problems + item_problems
    amounts = sum(Decimal(item["amount"]) for item in items)
    taxes = sum(Decimal(item["taxAmount"]) for item in items)
    items_gross = amounts if tax_type == "gross" else amounts + taxes
    if items_gross != gross:
        problems.append(
            _violation(
                "totalGrossAmount", f"is {gross} but the voucher items add up to {items_gross}"
            )
        )
    if taxes != tax:
        problems.append(
            _violation("totalTaxAmount", f"is {tax} but the voucher items' taxes add up to {taxes}")
        )
    return problems


def _contact_country(payload: dict[str, Any], contacts: dict[str, dict[str, Any]]) -> str:
    contact = contacts.get(payload.get("contactId") or "") or {}
    billing = ((contact.get("addresses") or {}).get("billing") or [{}])[0]
    return str(billing.get("countryCode") or "").upper()


def _contact_violations(
    payload: dict[str, Any],
    contacts: dict[str, dict[str, Any]],
    categories: list[dict[str, Any]],
) -> list[dict[str, str]]:
    if payload.get("useCollectiveContact") is True:
        items = payload.get("voucherItems") or []
        used = {item.get("categoryId") for item in items if isinstance(item, dict)}
        needing = {c["id"] for c in categories if c.get("contactRequired")}
        if used & needing:
            return [_violation("contactId", "this booking category requires a contact")]
        return []
    contact_id = payload.get("contactId")
    if not contact_id:
        return [_violation("contactId", "required unless useCollectiveContact is true")]
    if contact_id not in contacts:
        return [_violation("contactId", f"contact {contact_id} does not exist")]
    return []


def _item_violations(
    index: int, item: Any, tax_type: Any, income: set[str], country: str
) -> list[dict[str, str]]:
    prefix = f"voucherItems[{index}]"
    if not isinstance(item, dict):
        return [_violation(prefix, "must be an object")]
    amount, tax, rate = (_money(item.get(key)) for key in ("amount", "taxAmount", "taxRatePercent"))
    problems = [
        _violation(f"{prefix}.{key}", "must be a number")
        for key, value in (("amount", amount), ("taxAmount", tax), ("taxRatePercent", rate))
        if value is None
    ]
    category = item.get("categoryId")
    if not category:
        problems.append(_violation(f"{prefix}.categoryId", "must not be empty"))
    elif category not in income:
        problems.append(
            _violation(f"{prefix}.categoryId", f"{category} is not an income posting category")
        )
    if problems:
        return problems
    rate_problem = _rate_violation(category, rate, country)
    if rate_problem:
        return [_violation(f"{prefix}.taxRatePercent", rate_problem)]
    base = amount if tax_type == "net" else amount * 100 / (100 + rate)
    expected = (base * rate / 100).quantize(CENT, ROUND_HALF_UP)
    if abs(expected - tax) > CENT:
        return [
            _violation(
                f"{prefix}.taxAmount",
                f"{tax} does not match {rate}% of {amount} ({tax_type}); expected {expected}",
            )
        ]
    return []


def _rate_violation(category: str, rate: Decimal, country: str) -> str:
    """Why ``rate`` does not fit the category (and the contact's country), or ""."""
    if category == DISTANCE_SALES_CATEGORY:
        if country not in EU_STANDARD_RATES:
            return "distance sales (Fernverkauf) need a contact in another EU country"
        if rate != Decimal(EU_STANDARD_RATES[country]):
            return f"{rate} is not the VAT rate of {country} ({EU_STANDARD_RATES[country]})"
        return ""
    if category in TAX_FREE_CATEGORIES and rate != 0:
        return f"{rate} is not allowed in a tax-free category (0 only)"
    if rate not in VOUCHER_TAX_RATES:
        return f"{rate} is not a valid tax rate"
    return ""


def _json_number(value: Any) -> float:
    """Amounts are kept as Decimal and answered as JSON numbers, as Lexoffice does."""
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _handler_for(fake: FakeLexoffice) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            answer = fake.handle(self.command, self.path, self.headers, body)
            payload = (
                b""
                if answer.body is None
                else json.dumps(answer.body, default=_json_number).encode()
            )
            try:
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (timeout_next): nothing to answer

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            """Keep test output quiet; ``fake.requests`` is the record."""

    return Handler
