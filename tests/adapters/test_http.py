"""The shared HTTP plumbing: status table, URL redaction, messages, retry policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from adapters.errors import AuthError, FatalSourceError, RetryableSourceError
from adapters.http import (
    RetryPolicy,
    error_for_status,
    is_safe_to_resend,
    message_text,
    redact_url,
    retry_after,
)
from tests.adapters.fakes import Sleeps


def response(status: int, **headers: str) -> httpx.Response:
    request = httpx.Request("GET", "http://user:pw@host.test/api?page=2&token=abc")
    return httpx.Response(status, headers=headers, request=request)


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (401, AuthError),
        (403, FatalSourceError),
        (404, FatalSourceError),
        (409, FatalSourceError),
        (422, FatalSourceError),
        (302, FatalSourceError),
        (408, RetryableSourceError),
        (429, RetryableSourceError),
        (500, RetryableSourceError),
        (503, RetryableSourceError),
    ],
)
def test_status_table(status: int, kind: type) -> None:
    error = error_for_status("primero", response(status), "msg")
    assert type(error) is kind and error.status == status
    assert "pw" not in str(error) and "abc" not in str(error) and "page=2" in str(error)


def test_redact_url_keeps_only_harmless_values() -> None:
    url = "https://u:secret@p.test:8443/api/v2/cases?per=5&national_id_no=99&password=x"
    assert (
        redact_url(url) == "https://p.test:8443/api/v2/cases?per=5&national_id_no=***&password=***"
    )


def test_message_text_flattens_and_truncates() -> None:
    assert message_text({"level_of_risk": ["is not included", "bad"]}) == (
        "level_of_risk: is not included, bad"
    )
    assert message_text(["a", None, 3]) == "a, , 3"
    assert len(message_text("x" * 1000)) == 300


def test_retry_after_seconds_and_http_date() -> None:
    assert retry_after(response(503, **{"Retry-After": "60"})) == 60
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    assert 100 < (retry_after(response(503, **{"Retry-After": later})) or 0) <= 120
    assert retry_after(response(503, **{"Retry-After": "soon"})) is None
    assert retry_after(response(503)) is None


def test_policy_waits_grow_and_respect_retry_after() -> None:
    sleeps = Sleeps()
    policy = RetryPolicy(max_attempts=4, max_wait=8, initial=1, sleep=sleeps)
    calls = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 4:
            raise RetryableSourceError("oscar", "busy", status=503, retry_after=3)
        return "ok"

    assert policy.call(flaky) == "ok" and len(sleeps) == 3
    assert all(wait >= 3 for wait in sleeps) and all(wait <= 8 for wait in sleeps)


def test_policy_never_retries_fatal_errors() -> None:
    calls = []

    def refused() -> None:
        calls.append(1)
        raise AuthError("primero", "Unauthorized", status=401)

    with pytest.raises(AuthError):
        RetryPolicy(5, 0, sleep=Sleeps()).call(refused)
    assert len(calls) == 1


def test_only_unsent_requests_are_safe_to_resend() -> None:
    unsent = RetryableSourceError("primero", "refused")
    unsent.__cause__ = httpx.ConnectError("refused")
    lost = RetryableSourceError("primero", "dropped")
    lost.__cause__ = httpx.RemoteProtocolError("dropped")
    assert is_safe_to_resend(unsent) and not is_safe_to_resend(lost)
    assert is_safe_to_resend(RetryableSourceError("primero", "busy", status=503))
    assert not is_safe_to_resend(RetryableSourceError("primero", "oops", status=500))
