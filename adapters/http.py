"""HTTP plumbing the adapters share: httpx failures and status codes onto the error tree, and
one retry policy.

    no usable response (httpx.TransportError: timeouts, refused or dropped connections,
    protocol errors, undecodable bodies)        -> RetryableSourceError
    a response with a status
      2xx                                        ok; the body is checked to be JSON
      2xx with a body that is not JSON (HTML)    -> RetryableSourceError
      401                                        -> AuthError
      408, 425, 429, 5xx                         -> RetryableSourceError (Retry-After kept)
      3xx, 403, 404, 409, 422, any other 4xx     -> FatalSourceError with the system's message

Each adapter has one ``_raise_for(response)`` that pulls its system's message out of the body
and hands it to ``error_for_status``; transport errors are mapped by ``send``. URLs in messages
keep only harmless query values, so no password, token or child identifier leaks into a log.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception

from adapters.errors import (
    AuthError,
    ConfigError,
    FatalSourceError,
    RetryableSourceError,
    SourceError,
)
from adapters.files import loads_tolerant
from adapters.redact import redact_message

T = TypeVar("T")

# Query parameters whose values are safe in a log line; every other value is masked.
_SAFE_PARAMS = frozenset(
    {"page", "per", "order", "order_by", "since_date", "end_date", "last_updated_at", "fields"}
)
_RETRYABLE_STATUS = frozenset({408, 425, 429})
# Requests that never reached the application: safe to resend even when they would create.
_UNSENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_MAX_MESSAGE = 300


def redact_url(url: httpx.URL | str) -> str:
    """The URL without credentials, and with only harmless query values kept."""
    url = httpx.URL(str(url))
    query = "&".join(
        f"{key}={value if key in _SAFE_PARAMS else '***'}"
        for key, value in url.params.multi_items()
    )
    port = f":{url.port}" if url.port else ""
    return f"{url.scheme}://{url.host}{port}{url.path}" + (f"?{query}" if query else "")


def message_text(value: Any) -> str:
    """A system's error message (a string, a list or a field -> messages mapping) as one line."""
    if isinstance(value, str):
        text = value
    elif isinstance(value, dict):
        text = "; ".join(f"{key}: {message_text(item)}" for key, item in value.items())
    elif isinstance(value, list):
        text = ", ".join(message_text(item) for item in value)
    elif value is None:
        text = ""
    else:
        text = str(value)
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def retry_after(response: httpx.Response) -> float | None:
    """Seconds the server asked us to wait (``Retry-After`` in seconds or as an HTTP date)."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _sent_body(response: httpx.Response) -> Any:
    """What we sent (JSON body or form fields), so an error quoting it can be redacted; every
    value of it counts as personal here, since an adapter cannot tell which fields are."""
    try:
        content = response.request.content
    except httpx.RequestNotRead:
        return None
    if not content:
        return None
    try:
        return json.loads(content)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return content.decode("utf-8", "replace")


def error_for_status(system: str, response: httpx.Response, message: str) -> SourceError:
    """The error a non-success response stands for (the table in this module's docstring)."""
    status = response.status_code
    url = redact_url(response.request.url)
    text = redact_message(message, sent=_sent_body(response)) if message else ""
    text = text or response.reason_phrase or "request failed"
    if status == 401:
        return AuthError(system, text, status=status, url=url)
    if status in _RETRYABLE_STATUS or status >= 500:
        return RetryableSourceError(
            system, text, status=status, url=url, retry_after=retry_after(response)
        )
    if 300 <= status < 400:
        return FatalSourceError(system, f"unexpected redirect: {text}", status=status, url=url)
    return FatalSourceError(system, text, status=status, url=url)


def body_json(response: httpx.Response) -> Any:
    """The body as JSON, or None when it is not JSON (an HTML error page, say)."""
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


def read_json(system: str, response: httpx.Response) -> Any:
    """The JSON body of a successful response; an HTML or garbled body is retryable (a proxy
    or the application's error page answering in its place). One list entry too deep or
    with a number too long to decode is kept as an ``UnreadableEntry``, not a failed page."""
    try:
        return loads_tolerant(response.content.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        kind = response.headers.get("content-type", "unknown content type").split(";")[0]
        raise RetryableSourceError(
            system,
            f"expected JSON, got a body that is not JSON ({kind})",
            status=response.status_code,
            url=redact_url(response.request.url),
        ) from None


def transport_error(
    system: str, exc: httpx.HTTPError, url: httpx.URL | str
) -> ConfigError | SourceError:
    """The error a failure without a usable response stands for."""
    where = redact_url(url)
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return ConfigError(f"{system}: bad base URL {where}: {type(exc).__name__}")
    if isinstance(exc, httpx.TooManyRedirects):
        return FatalSourceError(system, "too many redirects", url=where)
    return RetryableSourceError(system, f"no usable response: {type(exc).__name__}", url=where)


@contextmanager
def mapped_errors(system: str, url: httpx.URL | str) -> Iterator[None]:
    """Turn httpx exceptions raised inside the block into the bridge's errors."""
    try:
        yield
    except httpx.HTTPError as exc:
        raise transport_error(system, exc, url) from exc
    except httpx.StreamError as exc:  # reading a stream twice or after close: a bug, not a retry
        raise FatalSourceError(system, f"stream misuse: {type(exc).__name__}") from exc


def send(
    client: httpx.Client, system: str, request: httpx.Request, *, stream: bool = False
) -> httpx.Response:
    """Send one request; transport failures come out as bridge errors."""
    with mapped_errors(system, request.url):
        return client.send(request, stream=stream)


def is_safe_to_resend(exc: BaseException) -> bool:
    """Whether a failed request that would create something can be sent again: only when it
    surely never reached the application (no connection, or refused by 429/503)."""
    if not isinstance(exc, RetryableSourceError):
        return False
    if exc.status in (429, 503):
        return True
    return exc.status is None and isinstance(exc.__cause__, _UNSENT_ERRORS)


class RetryPolicy:
    """Exponential backoff with jitter for retryable errors, never shorter than Retry-After.

    Gives up after ``max_attempts``, or at once when the server asks for a longer wait than
    ``max_wait`` (the error carries ``retry_after`` so the next run can be scheduled).
    """

    def __init__(
        self,
        max_attempts: int = 5,
        max_wait: float = 60.0,
        *,
        initial: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_attempts < 1:
            raise ConfigError(f"max_attempts must be at least 1, not {max_attempts}")
        self.max_attempts = max_attempts
        self.max_wait = max(0.0, max_wait)
        self.initial = initial
        self.sleep = sleep

    def wait_for(self, attempt: int, exc: BaseException | None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        backoff = min(self.max_wait, self.initial * 2 ** (attempt - 1))
        backoff = random.uniform(backoff / 2, backoff) if backoff > 0 else 0.0
        asked = getattr(exc, "retry_after", None) or 0.0
        return max(backoff, asked)

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        return self.wait_for(state.attempt_number, exc)

    def _stop(self, state: RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        asked = getattr(exc, "retry_after", None) or 0.0
        return state.attempt_number >= self.max_attempts or asked > self.max_wait

    def call(self, fn: Callable[[], T], *, idempotent: bool = True) -> T:
        """Run ``fn``, retrying retryable failures. A non-idempotent call (one that creates
        something) is retried only when the request surely was not processed."""

        def retryable(exc: BaseException) -> bool:
            if idempotent:
                return isinstance(exc, RetryableSourceError)
            return is_safe_to_resend(exc)

        retrying = Retrying(
            retry=retry_if_exception(retryable),
            stop=self._stop,
            wait=self._wait,
            sleep=self.sleep,
            reraise=True,
        )
        return retrying(fn)


class HttpSource:
    """What every HTTP adapter sets up the same way: base URL, an injected or owned
    ``httpx.Client`` (tests inject a transport), a clock, and the retry policy."""

    def __init__(
        self,
        base_url: str,
        *,
        name: str,
        client: httpx.Client | None,
        timeout: float,
        max_attempts: int,
        max_wait: float,
        clock: Callable[[], datetime],
        sleep: Callable[[float], None] | None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.name = name
        self._owns_client = client is None
        self._client = client or httpx.Client(timeout=timeout)
        self._clock = clock
        self.retry_policy = RetryPolicy(max_attempts, max_wait)
        if sleep is not None:
            self.retry_policy.sleep = sleep

    def close(self) -> None:
        if self._owns_client:
            self._client.close()
