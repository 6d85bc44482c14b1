"""Primero v2 adapter: pull cases changed since a cursor, read and write cases and referrals.

Errors (one place, ``_raise_for``, on top of ``adapters.http``):

    timeouts, dropped connections, 408/425/429, 5xx,
    503 (Retry-After), HTML or garbled body           -> RetryableSourceError (retried here)
    401 (bad credentials, expired token)              -> AuthError: never retried; with token
                                                         auth, the refused token is dropped
                                                         and one fresh sign-in follows
    429 at sign-in                                    -> waited out as Retry-After says (up
                                                         to sign_in_max_wait), then retried
    403, 404, 409, 422                                -> FatalSourceError, Primero's message
    200 with empty data while metadata.total says
    there are cases (a malformed filter)              -> FatalSourceError

Token auth (``auth="token"``): ``POST /api/v2/tokens``, the JWT read from the body (v2.x) or
the ``Authorization`` header (very old builds). Primero counts every sign-in (6 a minute per
user name), so the token is kept in the process-wide ``adapters.primero_tokens.SHARED_TOKENS``
for its hour: every adapter of one account in one process (each sync run, the referral
outbox) reuses it, and a long-running service signs in once an hour, not once per job.

Pulling (``pull``): cases ascending by ``last_updated_at``. Paging by offset alone loses a case
when one already read is saved again during the run (every later case shifts one place
forward), so after each page the window restarts from the newest whole second seen
(``last_updated_at=<second>..``, inclusive) at page 1, and moves to page 2, 3 ... only while a
whole page sits within that one second. Cases at the boundary second come again; within one
pull they are skipped by ``id`` + ``last_updated_at``, across pulls the store is idempotent.
The page count is checked against ``metadata.total`` using the ``per`` the server reports
(``per`` is silently capped at 1000). A page's cursor is the newest ``last_updated_at`` seen,
never later than the moment the pull started.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import quote

import httpx

from adapters.base import Page, SourceRecord
from adapters.errors import AuthError, ConfigError, FatalSourceError
from adapters.files import entry_to_record
from adapters.http import (
    HttpSource,
    RetryPolicy,
    body_json,
    error_for_status,
    message_text,
    read_json,
    send,
)
from adapters.primero_tokens import SHARED_TOKENS, TokenCache

CASES = "/api/v2/cases"
TOKENS = "/api/v2/tokens"
LOOKUPS, LOCATIONS, FORMS = "/api/v2/lookups", "/api/v2/locations", "/api/v2/forms"
MAX_CONFIG_PAGES = 200
SIGN_IN_ATTEMPTS = 3  # at least this many sign-in tries, whatever max_attempts says
SIGN_IN_MAX_WAIT = 120.0  # seconds of Retry-After a sign-in waits out; longer gives up
# Exact-match identifier filters (contract): any other name would be ignored silently by
# Primero and return every case, so find_cases refuses it.
IDENTIFIER_FILTERS = frozenset(
    {"id", "case_id", "case_id_display", "short_id", "unique_identifier", "oscar_number"}
    | {"national_id_no"}
)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def parse_time(value: Any) -> datetime | None:
    """An ISO-8601 timestamp as an aware UTC datetime (naive means UTC), or None."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def iso_millis(moment: datetime) -> str:
    """Primero's own timestamp shape: ``2026-10-09T10:38:34.074Z``."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def whole_second(moment: datetime) -> str:
    """The filter value for a window starting at this second (Primero compares seconds)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def token_of(response: httpx.Response) -> str | None:
    """The JWT of a sign-in answer: ``{"token": ...}`` in the body (v2.x) or the
    ``Authorization: Bearer`` header (very old builds send only that)."""
    body = body_json(response)
    token = body.get("token") if isinstance(body, dict) else None
    if isinstance(token, str) and token.strip():
        return token.strip()
    header = response.headers.get("authorization", "")
    if header.lower().startswith("bearer ") and header[7:].strip():
        return header[7:].strip()
    return None


def primero_message(body: Any) -> str:
    """The message(s) of Primero's error envelope ``{"errors": [{"message", "detail"}]}``."""
    if not isinstance(body, dict):
        return ""
    errors = body.get("errors")
    if not isinstance(errors, list):
        return message_text(body.get("message") or body.get("error"))
    parts = []
    for error in errors:
        if not isinstance(error, dict):
            parts.append(message_text(error))
            continue
        text = message_text(error.get("message"))
        detail = message_text(error.get("detail"))
        parts.append(f"{text} ({detail})" if detail else text)
    return message_text("; ".join(part for part in parts if part))


class PrimeroAdapter(HttpSource):
    """Talks to one Primero v2 instance as one integration user."""

    system = "primero"

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        *,
        client: httpx.Client | None = None,
        page_size: int = 1000,
        auth: Literal["basic", "token"] = "basic",
        timeout: float = 30.0,
        max_attempts: int = 5,
        max_wait: float = 60.0,
        name: str = "primero",
        clock: Callable[[], datetime] = _utc_now,
        sleep: Callable[[float], None] | None = None,
        tokens: TokenCache | None = None,
        sign_in_max_wait: float = SIGN_IN_MAX_WAIT,
    ) -> None:
        if auth not in ("basic", "token"):
            raise ConfigError(f"{name}: auth must be 'basic' or 'token', not {auth!r}")
        if page_size < 1:
            raise ConfigError(f"{name}: page_size must be at least 1, not {page_size}")
        super().__init__(
            base_url,
            name=name,
            client=client,
            timeout=timeout,
            max_attempts=max_attempts,
            max_wait=max_wait,
            clock=clock,
            sleep=sleep,
        )
        self.page_size = page_size
        self._username = username
        self._password = password
        self._auth = auth
        self._bearer: str | None = None
        self._bearer_until: datetime | None = None
        self._signed_in = False
        self._tokens = SHARED_TOKENS if tokens is None else tokens
        self.sign_in_max_wait = sign_in_max_wait

    # --- the one error function -------------------------------------------------------------

    def _raise_for(self, response: httpx.Response) -> None:
        """Raise the bridge error a Primero response stands for (module docstring table)."""
        if response.is_success:
            return
        raise error_for_status(self.name, response, primero_message(body_json(response)))

    # --- requests -----------------------------------------------------------------------------

    def _headers(self, *, write: bool) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self._auth == "basic":
            secret = base64.b64encode(f"{self._username}:{self._password}".encode()).decode()
            headers["Authorization"] = f"Basic {secret}"
        elif self._bearer:
            headers["Authorization"] = f"Bearer {self._bearer}"
        csrf = self._client.cookies.get("CSRF-TOKEN")
        if write and self._auth == "token" and csrf:
            headers["X-CSRF-Token"] = csrf  # v2.11+ session sign-in checks it on writes
        return headers

    def _send_once(
        self, method: str, path: str, params: dict[str, Any] | None, body: Any | None
    ) -> Any:
        request = self._client.build_request(
            method,
            self.base_url + path,
            params=params,
            json=body,
            headers=self._headers(write=method != "GET"),
        )
        response = send(self._client, self.name, request)
        self._raise_for(response)
        if response.status_code == 204 or not response.content:
            return None
        return read_json(self.name, response)

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any | None = None,
        idempotent: bool = True,
    ) -> Any:
        if self._auth == "token" and not self._session_usable():
            self._take_token()

        def attempt() -> Any:
            return self._send_once(method, path, params, body)

        try:
            return self.retry_policy.call(attempt, idempotent=idempotent)
        except AuthError:
            if self._auth != "token":
                raise  # the same password again would only count towards the lockout
            # the token expired or was revoked: forget it, sign in once more, then give up
            self._take_token(refused=self._bearer or "")
            return self.retry_policy.call(attempt, idempotent=idempotent)

    # --- sign-in (token auth) -----------------------------------------------------------------

    def _session_usable(self) -> bool:
        if not self._signed_in:
            return False
        return self._bearer_until is None or self._tokens.now() < self._bearer_until

    def _take_token(self, *, refused: str | None = None) -> None:
        """A token for this account: the process-wide cached one, else one fresh sign-in.
        ``refused``: the token Primero just answered 401 to, dropped from the cache first."""
        key = (self.base_url, self._username)
        with self._tokens.sign_in_lock(key):  # one sign-in per account while others wait
            if refused is not None:
                self._tokens.drop(key, refused)
            cached = self._tokens.get(key)
            if cached is None:
                self._sign_in()
                if self._bearer is None:
                    return  # a session cookie: kept by this adapter's client only
                cached = self._tokens.put(key, self._bearer)
            self._bearer, self._bearer_until = cached.token, cached.reuse_until
            self._signed_in = True

    def _sign_in(self) -> None:
        """POST /api/v2/tokens. A 401 here is raised at once: retrying locks the account. A 429
        (every sign-in counts, 6 a minute) is waited out as Retry-After says, up to
        ``sign_in_max_wait`` seconds a time."""
        self._bearer, self._bearer_until = None, None
        body = {"user": {"user_name": self._username, "password": self._password}}

        def attempt() -> httpx.Response:
            request = self._client.build_request(
                "POST", self.base_url + TOKENS, json=body, headers={"Accept": "application/json"}
            )
            response = send(self._client, self.name, request)
            self._raise_for(response)
            return response

        policy = RetryPolicy(
            max(self.retry_policy.max_attempts, SIGN_IN_ATTEMPTS),
            self.sign_in_max_wait,
            sleep=self.retry_policy.sleep,
        )
        response = policy.call(attempt)
        token = token_of(response)
        if token is not None:
            self._bearer = token
        elif not self._client.cookies.get("_app_session") and not response.cookies:
            raise AuthError(self.name, "sign-in answered without a token or a session")
        self._signed_in = True

    # --- pull ---------------------------------------------------------------------------------

    def _listing(self, body: Any) -> tuple[list[Any], int, int | None]:
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise FatalSourceError(self.name, "case list answer has no 'data' list")
        metadata = body.get("metadata")
        metadata = metadata if isinstance(metadata, dict) else {}
        total, per = metadata.get("total"), metadata.get("per")
        if not isinstance(total, int) or isinstance(total, bool) or total < 0:
            raise FatalSourceError(self.name, "case list answer has no metadata.total")
        if not isinstance(per, int) or isinstance(per, bool) or per < 1:
            per = None
        return body["data"], total, per

    def pull(self, since: str | None) -> Iterator[Page]:
        """Pages of cases changed since ``since`` (inclusive at whole seconds), oldest first."""
        started = self._clock()
        started = started.replace(tzinfo=UTC) if started.tzinfo is None else started.astimezone(UTC)
        window: datetime | None = None
        if since is not None:
            window = parse_time(since)
            if window is None:
                raise ConfigError(f"{self.name}: cursor {since!r} is not an ISO-8601 timestamp")
            window = window.replace(microsecond=0)
        newest: tuple[datetime, str] | None = None
        seen: set[tuple[str, str]] = set()
        page_no, number = 1, 0
        while True:
            params: dict[str, Any] = {
                "order_by": "last_updated_at",
                "order": "asc",
                "per": self.page_size,
                "page": page_no,
            }
            if window is not None:
                params["last_updated_at"] = whole_second(window) + ".."
            data, total, per = self._listing(self._request("GET", CASES, params=params))
            offset = (page_no - 1) * (per or self.page_size)
            if not data and total > offset:
                raise FatalSourceError(
                    self.name,
                    f"metadata.total says {total} cases match but page {page_no} is empty "
                    "(a malformed filter answers 200 with no data)",
                )
            page = Page(records=[], number=number + 1)
            for index, entry in enumerate(data):
                result = entry_to_record(self.system, entry, index)
                if not isinstance(result, SourceRecord):
                    page.bad.append(result)
                    continue
                updated = result.payload.get("last_updated_at")
                key = (result.record_id, str(updated))
                if key in seen:
                    continue  # the boundary second of the previous window, already yielded
                seen.add(key)
                page.records.append(result)
                moment = parse_time(updated)
                if moment is not None and (newest is None or moment > newest[0]):
                    newest = (moment, str(updated))
            if newest is not None:
                page.cursor = newest[1] if newest[0] <= started else iso_millis(started)
            number = page.number
            yield page
            if offset + len(data) >= total:
                return
            newest_second = newest[0].replace(microsecond=0) if newest else None
            if newest_second is not None and (window is None or newest_second > window):
                window = newest_second
                page_no = 1
                seen = {key for key in seen if _same_second(key[1], window)}
            else:
                page_no += 1  # a whole page within one second: step through that second

    # --- cases and referrals ------------------------------------------------------------------

    def get_case(self, case_id: str) -> dict[str, Any]:
        return self._data(self._request("GET", f"{CASES}/{_segment(case_id)}"), dict)

    def create_case(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Create a case; returns the generated fields (``{}`` for a client-supplied ``id``:
        Primero answers 204). With its own ``id`` a create may be sent again safely (a second
        one meets 409, a FatalSourceError); without one it is never resent after a failure
        that may have reached Primero."""
        answer = self._request("POST", CASES, body={"data": fields}, idempotent="id" in fields)
        return self._data(answer, dict) if answer is not None else {}

    def patch_case(self, case_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Merge ``fields`` into the case; returns the changed fields Primero reports."""
        answer = self._request("PATCH", f"{CASES}/{_segment(case_id)}", body={"data": fields})
        return self._data(answer, dict) if answer is not None else {}

    def list_referrals(self, case_id: str) -> list[dict[str, Any]]:
        answer = self._request("GET", f"{CASES}/{_segment(case_id)}/referrals")
        return [item for item in self._data(answer, list) if isinstance(item, dict)]

    def create_referral(self, case_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Refer the case. Not resent after a failure that may have reached Primero: the
        caller reads the case's referrals back before trying again."""
        path = f"{CASES}/{_segment(case_id)}/referrals"
        answer = self._request("POST", path, body={"data": body}, idempotent=False)
        return self._data(answer, dict)

    def update_referral(self, case_id: str, referral_id: str, body: dict[str, Any]) -> dict:
        """Accept, reject or mark done. Primero ignores an illegal transition silently (200):
        compare the returned status with the one asked for."""
        path = f"{CASES}/{_segment(case_id)}/referrals/{_segment(referral_id)}"
        return self._data(self._request("PATCH", path, body={"data": body}), dict)

    def find_cases(self, **filters: str) -> list[dict[str, Any]]:
        """Cases whose identifier fields equal the given values exactly (all of them)."""
        if not filters:
            raise ConfigError(f"{self.name}: find_cases needs at least one identifier filter")
        for field, value in filters.items():
            if field not in IDENTIFIER_FILTERS:
                raise ConfigError(
                    f"{self.name}: {field!r} is not an identifier filter; "
                    f"use one of {sorted(IDENTIFIER_FILTERS)}"
                )
            if not isinstance(value, str) or not value or "," in value or ".." in value:
                raise ConfigError(f"{self.name}: filter {field} needs one plain value")
        found: list[dict[str, Any]] = []
        page_no = 1
        while True:
            params = {**filters, "per": self.page_size, "page": page_no}
            data, total, per = self._listing(self._request("GET", CASES, params=params))
            offset = (page_no - 1) * (per or self.page_size)
            if not data and total > offset:
                raise FatalSourceError(
                    self.name, f"metadata.total says {total} cases match but page is empty"
                )
            found.extend(item for item in data if isinstance(item, dict))
            if offset + len(data) >= total:
                return found
            page_no += 1

    # --- configuration (read by mapping check --live) -----------------------------------------

    def lookups(self) -> list[dict[str, Any]]:
        """Every lookup (option list): ``{"unique_id", "name", "values": {"en": [...]}}``."""
        return self._every_page(LOOKUPS)

    def locations(self) -> list[dict[str, Any]]:
        """Every location: ``{"code", "type", "admin_level", "name"}``."""
        return self._every_page(LOCATIONS, {"hierarchy": "false"})

    def forms(self) -> list[dict[str, Any]]:
        """Every form section with its fields (which lookup each select field uses)."""
        return self._every_page(FORMS)

    def _every_page(self, path: str, params: dict[str, Any] | None = None) -> list[dict]:
        """All pages of a configuration list; a list without ``metadata`` is one page."""
        found: list[dict[str, Any]] = []
        for page_no in range(1, MAX_CONFIG_PAGES + 1):
            query = {**(params or {}), "per": 1000, "page": page_no}
            answer = self._request("GET", path, params=query)
            data = self._data(answer, list)
            found.extend(item for item in data if isinstance(item, dict))
            metadata = answer.get("metadata")
            total = metadata.get("total") if isinstance(metadata, dict) else None
            if not data or not isinstance(total, int) or len(found) >= total:
                return found
        raise FatalSourceError(self.name, f"{path} has more than {MAX_CONFIG_PAGES} pages")

    def _data(self, answer: Any, kind: type) -> Any:
        if not isinstance(answer, dict) or not isinstance(answer.get("data"), kind):
            raise FatalSourceError(self.name, f"answer has no 'data' {kind.__name__}")
        return answer["data"]


def _same_second(value: str, second: datetime) -> bool:
    moment = parse_time(value)
    return moment is not None and moment.replace(microsecond=0) == second


def _segment(value: str) -> str:
    """One path segment: an id can never walk to another endpoint."""
    if not isinstance(value, str) or not value:
        raise ConfigError("an id in a Primero path must be a non-empty string")
    return quote(value, safe="")
