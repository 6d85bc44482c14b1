"""The Primero adapter's sign-in (contract: Authentication): the token from the body or the
header, one token per account shared by the adapters of a process for its hour, 429 at sign-in
waited out, 401 at sign-in never retried, a refused cached token replaced once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import respx

from adapters.errors import AuthError, RetryableSourceError
from adapters.primero import PrimeroAdapter
from adapters.primero_tokens import SHARED_TOKENS, TokenCache
from bridge.config import Config, SourceConfig
from bridge.sandbox import SandboxHandle, start_sandbox
from bridge.store.db import Store
from bridge.sync import build_adapter, run_sync
from tests.adapters.fakes import PRIMERO, FakePrimeroCases, Sleeps, json_response, make_cases
from tests.sync.helpers import sandbox_config

T0 = datetime(2026, 10, 9, 8, 0, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, start: datetime = T0) -> None:
        self.moment = start

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, seconds: float) -> None:
        self.moment += timedelta(seconds=seconds)


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=PRIMERO, assert_all_called=False) as mock:
        yield mock


def adapter(tokens: TokenCache, **kwargs: Any) -> PrimeroAdapter:
    options: dict[str, Any] = {"sleep": Sleeps(), "auth": "token", "tokens": tokens}
    options.update(kwargs)
    return PrimeroAdapter(PRIMERO, "bridge", "s3cret", client=httpx.Client(), **options)


def pull(primero: PrimeroAdapter) -> int:
    return sum(len(page.records) for page in primero.pull(None))


# --- against a fake Primero (respx) ---------------------------------------------------------


def test_token_from_the_body_alone_is_used(router: respx.MockRouter) -> None:
    router.post("/api/v2/tokens").mock(
        return_value=json_response(200, {"user_name": "bridge", "token": "jwt-body"})
    )
    cases = router.get("/api/v2/cases").mock(side_effect=FakePrimeroCases(make_cases(3)))
    assert pull(adapter(TokenCache())) == 3
    assert cases.calls[0].request.headers["authorization"] == "Bearer jwt-body"


def test_token_from_the_header_alone_still_works(router: respx.MockRouter) -> None:
    router.post("/api/v2/tokens").mock(
        return_value=httpx.Response(200, json={"id": 1}, headers={"Authorization": "Bearer old"})
    )
    cases = router.get("/api/v2/cases").mock(side_effect=FakePrimeroCases(make_cases(1)))
    assert pull(adapter(TokenCache())) == 1
    assert cases.calls[0].request.headers["authorization"] == "Bearer old"


def test_adapters_of_one_process_share_the_token_for_its_hour(router: respx.MockRouter) -> None:
    login = router.post("/api/v2/tokens").mock(
        side_effect=[
            json_response(200, {"user_name": "bridge", "token": "first"}),
            json_response(200, {"user_name": "bridge", "token": "second"}),
        ]
    )
    cases = router.get("/api/v2/cases").mock(side_effect=FakePrimeroCases(make_cases(2)))
    clock = FakeClock()
    tokens = TokenCache(clock=clock)
    for _ in range(30):  # a job a minute for half an hour, a new adapter each time
        primero = adapter(tokens)
        assert pull(primero) == 2
        primero.close()
        clock.advance(60)
    assert login.call_count == 1
    clock.advance(30 * 60)  # past the token's hour (less the margin): one fresh sign-in
    assert pull(adapter(tokens)) == 2
    assert login.call_count == 2
    sent = [c.request.headers["authorization"] for c in cases.calls]
    assert set(sent[:-1]) == {"Bearer first"} and sent[-1] == "Bearer second"


def test_other_accounts_and_other_servers_get_their_own_tokens(router: respx.MockRouter) -> None:
    login = router.post("/api/v2/tokens").mock(
        side_effect=lambda request: json_response(200, {"token": f"t{login.call_count}"})
    )
    router.get("/api/v2/cases").mock(side_effect=FakePrimeroCases(make_cases(1)))
    tokens = TokenCache()
    pull(adapter(tokens))
    other = PrimeroAdapter(
        PRIMERO, "someone", "pw", client=httpx.Client(), auth="token", tokens=tokens
    )
    pull(other)
    pull(adapter(tokens))
    assert login.call_count == 2


def test_429_at_sign_in_is_waited_out_as_told(router: respx.MockRouter) -> None:
    throttled = json_response(429, {"errors": [{"status": 429}]}, **{"Retry-After": "42"})
    login = router.post("/api/v2/tokens").mock(
        side_effect=[throttled, json_response(200, {"token": "after-wait"})]
    )
    router.get("/api/v2/cases").mock(side_effect=FakePrimeroCases(make_cases(4)))
    sleeps = Sleeps()
    # max_attempts=1 as the referral outbox configures it: sign-in still waits
    assert pull(adapter(TokenCache(), sleep=sleeps, max_attempts=1, max_wait=5)) == 4
    assert login.call_count == 2 and sleeps == [42.0]


def test_a_longer_retry_after_than_the_bound_gives_up_at_once(router: respx.MockRouter) -> None:
    locked = json_response(429, {"errors": [{"status": 429}]}, **{"Retry-After": "1800"})
    login = router.post("/api/v2/tokens").mock(return_value=locked)
    sleeps = Sleeps()
    with pytest.raises(RetryableSourceError) as caught:
        pull(adapter(TokenCache(), sleep=sleeps))
    assert login.call_count == 1 and sleeps == [] and caught.value.retry_after == 1800


def test_401_at_sign_in_is_never_retried_and_nothing_is_cached(router: respx.MockRouter) -> None:
    login = router.post("/api/v2/tokens").mock(
        return_value=json_response(401, {"errors": [{"message": "Invalid credentials"}]})
    )
    tokens = TokenCache()
    with pytest.raises(AuthError):
        pull(adapter(tokens))
    assert login.call_count == 1 and tokens.get((PRIMERO, "bridge")) is None


def test_a_refused_cached_token_is_dropped_and_replaced_once(router: respx.MockRouter) -> None:
    login = router.post("/api/v2/tokens").mock(
        side_effect=[json_response(200, {"token": "one"}), json_response(200, {"token": "two"})]
    )
    fake = FakePrimeroCases(make_cases(2))
    refused: set[str] = set()

    def cases(request: httpx.Request) -> httpx.Response:
        if request.headers["authorization"] in refused:
            return json_response(401, {"errors": [{"message": "Unauthorized"}]})
        return fake(request)

    router.get("/api/v2/cases").mock(side_effect=cases)
    tokens = TokenCache()
    assert pull(adapter(tokens)) == 2
    refused.add("Bearer one")  # Primero forgot it (restarted, revoked)
    assert pull(adapter(tokens)) == 2  # the next job's adapter meets a 401, signs in once
    assert login.call_count == 2
    assert tokens.get((PRIMERO, "bridge")).token == "two"  # type: ignore[union-attr]
    assert pull(adapter(tokens)) == 2 and login.call_count == 2  # later jobs reuse "two"


# --- against the sandbox over HTTP ----------------------------------------------------------


@pytest.fixture
def sandbox() -> Iterator[SandboxHandle]:
    with start_sandbox(children=30, seed=5) as handle:
        yield handle


def token_config(handle: SandboxHandle, db_url: str) -> Config:
    config = sandbox_config(handle, db_url)
    primero = config.sources[0].model_copy(update={"auth": "token"})
    return config.model_copy(update={"sources": [primero, *config.sources[1:]]})


def sign_ins(handle: SandboxHandle) -> int:
    return sum(1 for method, path, _ in handle.primero.request_log if path == "/api/v2/tokens")


def test_twenty_syncs_in_two_minutes_sign_in_once(
    sandbox: SandboxHandle, store: Store, db_url: str
) -> None:
    config = token_config(sandbox, db_url)
    clock = FakeClock()
    tokens = TokenCache(clock=clock)

    def factory(source: SourceConfig) -> Any:
        if source.kind != "primero":
            return build_adapter(source)
        return PrimeroAdapter(
            source.base_url or "",
            source.username or "",
            source.password(),
            auth="token",
            name=source.name,
            clock=clock,
            tokens=tokens,
        )

    for _ in range(20):  # what `bridge serve` does: a sync every 6 seconds
        report = run_sync(config, store, adapter_factory=factory, referrals=False)
        assert all(s.error is None for s in report.sources), report.sources
        clock.advance(6)
    assert clock() - T0 == timedelta(minutes=2)
    assert sign_ins(sandbox) == 1 and sandbox.primero.logins.sign_ins == 1
    clock.advance(60 * 60)  # an hour later the token is renewed, once
    for _ in range(5):
        run_sync(config, store, adapter_factory=factory, referrals=False)
    assert sandbox.primero.logins.sign_ins == 2


def test_the_default_adapters_share_the_process_wide_cache(
    sandbox: SandboxHandle, store: Store, db_url: str
) -> None:
    config = token_config(sandbox, db_url)
    SHARED_TOKENS.clear()  # as in a process that starts now
    for _ in range(10):  # sync, route and deliver: new adapters every run, 10 runs
        report = run_sync(config, store)
        assert all(s.error is None for s in report.sources)
    assert sandbox.primero.logins.sign_ins == 1  # real Primero would 429 the seventh


def test_a_throttled_sign_in_waits_for_the_sandbox_and_succeeds(sandbox: SandboxHandle) -> None:
    now = [5000.0]
    sandbox.primero.logins.monotonic = lambda: now[0]
    body = {"user": {"user_name": sandbox.primero_user, "password": sandbox.primero_password}}
    for _ in range(6):  # another process of the same account signed in six times just now
        assert httpx.post(f"{sandbox.primero_url}/api/v2/tokens", json=body).status_code == 200
    waited: list[float] = []

    def sleep(seconds: float) -> None:
        waited.append(seconds)
        now[0] += seconds

    primero = PrimeroAdapter(
        sandbox.primero_url,
        sandbox.primero_user,
        sandbox.primero_password,
        auth="token",
        tokens=TokenCache(),
        sleep=sleep,
    )
    try:
        assert sum(len(p.records) for p in primero.pull(None)) == len(sandbox.primero.cases)
    finally:
        primero.close()
    assert waited == [60.0] and sandbox.primero.logins.sign_ins == 7
