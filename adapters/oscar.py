"""OSCaR v1 adapter: pull the shared-client feed, write referrals, links and referral statuses.

Errors (one place, ``_raise_for``, on top of ``adapters.http``):

    timeouts, dropped connections, 408/425/429, 5xx,
    503 (Retry-After), HTML or garbled body (even 200) -> RetryableSourceError (retried here)
    401 on sign-in                                      -> AuthError, never retried
    401 later (token gone)                              -> one fresh sign-in, then AuthError
    403, 404, 409, 422                                  -> FatalSourceError, OSCaR's ``message``
                                                           or ``errors``

Pulling (``pull``): the feed is one unpaginated ``{"data": [...]}`` array without timestamps.
It is read as a stream and parsed one client at a time, so memory stays bounded however long
the window. The records carry no time, so the cursor is the time the request was sent minus
an overlap, and only the last page carries it: a run that fails half way moves nothing.
Opening the feed (status, first bytes) is retried; a failure later in the body is raised as
retryable for the next run to repeat the whole window.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from adapters.base import Page
from adapters.errors import AuthError, ConfigError, FatalSourceError, RetryableSourceError
from adapters.files import JsonStreamError, entries_to_pages, iter_entries
from adapters.http import (
    HttpSource,
    body_json,
    error_for_status,
    mapped_errors,
    message_text,
    read_json,
    redact_url,
    send,
)

SIGN_IN = "/api/v1/admin_auth/sign_in"
FEED = "/api/v1/organizations/clients"
UPSERT = "/api/v1/organizations/clients/upsert"
LINKS = "/api/v1/organizations/clients/update_links"
STATUSES = "/api/v1/organizations/referrals/update_statuses"
SINCE_FORMAT = "%Y-%m-%d %H:%M:%S"
EPOCH = "1970-01-01 00:00:00"
TOKEN_HEADERS = ("access-token", "client", "uid")


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _as_utc(moment: datetime) -> datetime:
    """A clock's reading in UTC; a naive reading is taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def oscar_message(body: Any) -> str:
    """OSCaR's message: ``message`` (a string or field -> messages) or ``errors`` (a list)."""
    if not isinstance(body, dict):
        return ""
    return message_text(body.get("message") or body.get("errors") or body.get("error"))


def since_date(since: str | None) -> str:
    """The feed's ``since_date`` for a stored cursor (``YYYY-MM-DD HH:MM:SS``, UTC)."""
    if since is None:
        return EPOCH
    try:
        return datetime.strptime(since.strip(), SINCE_FORMAT).strftime(SINCE_FORMAT)
    except (ValueError, AttributeError):
        pass
    try:
        moment = datetime.fromisoformat(since.strip())
    except (ValueError, AttributeError):
        raise ConfigError(f"oscar cursor {since!r} is not 'YYYY-MM-DD HH:MM:SS'") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime(SINCE_FORMAT)


class OscarAdapter(HttpSource):
    """Talks to one OSCaR deployment as the external system's admin user."""

    system = "oscar"

    def __init__(
        self,
        base_url: str,
        email: str,
        password: str,
        *,
        client: httpx.Client | None = None,
        overlap: timedelta = timedelta(minutes=10),
        chunk_size: int = 500,
        timeout: float = 120.0,
        max_attempts: int = 5,
        max_wait: float = 60.0,
        name: str = "oscar",
        clock: Callable[[], datetime] = _utc_now,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        if chunk_size < 1:
            raise ConfigError(f"{name}: chunk_size must be at least 1, not {chunk_size}")
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
        self.overlap = overlap
        self.chunk_size = chunk_size
        self._email = email
        self._password = password
        self._token: dict[str, str] | None = None

    # --- the one error function -------------------------------------------------------------

    def _raise_for(self, response: httpx.Response) -> None:
        """Raise the bridge error an OSCaR response stands for (module docstring table)."""
        if response.is_success:
            return
        raise error_for_status(self.name, response, oscar_message(body_json(response)))

    # --- sign-in and requests -----------------------------------------------------------------

    def _sign_in(self) -> None:
        """POST the credentials once; a 401 is raised at once, never retried."""
        self._token = None

        def attempt() -> httpx.Response:
            request = self._client.build_request(
                "POST",
                self.base_url + SIGN_IN,
                json={"email": self._email, "password": self._password},
                headers={"Accept": "application/json"},
            )
            response = send(self._client, self.name, request)
            self._raise_for(response)
            return response

        response = self.retry_policy.call(attempt)
        token = {name: response.headers.get(name, "") for name in TOKEN_HEADERS}
        if not all(token.values()):
            raise AuthError(self.name, "sign-in answered without the token headers")
        self._token = token

    def _build(self, method: str, path: str, **kwargs: Any) -> httpx.Request:
        headers = {"Accept": "application/json", **(self._token or {})}
        return self._client.build_request(method, self.base_url + path, headers=headers, **kwargs)

    def _authorised(self, call: Callable[[], Any]) -> Any:
        """Run ``call`` signed in; when the token has gone, sign in once more and run it again."""
        if self._token is None:
            self._sign_in()
        try:
            return call()
        except AuthError:
            self._sign_in()
            return call()

    def _request(self, method: str, path: str, body: Any, *, idempotent: bool = True) -> Any:
        def attempt() -> Any:
            response = send(self._client, self.name, self._build(method, path, json=body))
            self._raise_for(response)
            return read_json(self.name, response) if response.content else {}

        return self._authorised(lambda: self.retry_policy.call(attempt, idempotent=idempotent))

    # --- pull ---------------------------------------------------------------------------------

    def pull(self, since: str | None) -> Iterator[Page]:
        """Pages of the clients changed since ``since``; the last page carries the cursor."""
        params = {"since_date": since_date(since)}
        if self._token is None:
            self._sign_in()
        requested = _as_utc(self._clock())
        opened = self._authorised(lambda: self.retry_policy.call(lambda: self._open(params)))
        response, chunks = opened
        cursor = (requested - self.overlap).strftime(SINCE_FORMAT)
        try:
            yield from entries_to_pages(
                self.system, self._feed(response, chunks), self.chunk_size, cursor
            )
        finally:
            response.close()

    def _open(self, params: dict[str, str]) -> tuple[httpx.Response, Iterator[str]]:
        """Send the feed request and read up to its first character: a status error or an
        HTML page in place of JSON is found here, where it can still be retried."""
        request = self._build("GET", FEED, params=params)
        response = send(self._client, self.name, request, stream=True)
        try:
            with mapped_errors(self.name, request.url):
                if not response.is_success:
                    response.read()
                    self._raise_for(response)
                chunks = response.iter_text()
                head = ""
                while not head.strip():
                    chunk = next(chunks, None)
                    if chunk is None:
                        break
                    head += chunk
            if not head.lstrip().startswith(("{", "[")):
                raise RetryableSourceError(
                    self.name,
                    "expected the JSON client feed, got a body that is not JSON",
                    status=response.status_code,
                    url=redact_url(request.url),
                )
        except BaseException:
            response.close()
            raise
        return response, itertools.chain([head], chunks)

    def _feed(self, response: httpx.Response, chunks: Iterator[str]) -> Iterator[Any]:
        def guarded() -> Iterator[str]:
            with mapped_errors(self.name, response.request.url):
                yield from chunks

        try:
            yield from iter_entries(guarded())
        except JsonStreamError as exc:
            raise RetryableSourceError(
                self.name,
                f"client feed is not valid JSON: {exc}",
                url=redact_url(response.request.url),
            ) from None

    # --- writes -------------------------------------------------------------------------------

    def upsert_client(self, organization: dict[str, Any]) -> dict[str, Any]:
        """Refer a child into an NGO or update a client: ``{"external_id", "message"}``.
        Not resent after a failure that may have reached OSCaR (it may have made a referral)."""
        if not organization.get("organization_name"):
            raise ConfigError(f"{self.name}: upsert needs the receiving organization_name")
        answer = self._request("POST", UPSERT, {"organization": organization}, idempotent=False)
        return self._object(answer)

    def update_links(self, links: list[dict[str, Any]]) -> dict[str, Any]:
        """Write Primero case ids onto clients: ``global_id``, ``external_id``,
        ``external_id_display`` per entry."""
        return self._object(self._request("PUT", LINKS, {"data": links}))

    def update_statuses(self, statuses: list[dict[str, Any]]) -> dict[str, Any]:
        """Set referral statuses: ``client_global_id``, ``referral_id``, ``referral_status``."""
        return self._object(self._request("PUT", STATUSES, {"data": statuses}))

    def _object(self, answer: Any) -> dict[str, Any]:
        if not isinstance(answer, dict):
            raise FatalSourceError(self.name, "answer is not a JSON object")
        return answer
