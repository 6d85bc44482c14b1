from __future__ import annotations

import httpx

from bridge.sandbox import SandboxHandle


def test_basic_auth_lists_cases(sandbox: SandboxHandle) -> None:
    auth = (sandbox.primero_user, sandbox.primero_password)
    response = httpx.get(f"{sandbox.primero_url}/api/v2/cases", auth=auth)
    assert response.status_code == 200
    assert response.json()["metadata"]["total"] == len(sandbox.primero.cases)


def test_no_credentials_is_401_with_envelope_and_realm(sandbox: SandboxHandle) -> None:
    response = httpx.get(f"{sandbox.primero_url}/api/v2/cases")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="Primero"'
    error = response.json()["errors"][0]
    assert error["status"] == 401 and set(error) == {"status", "resource", "message", "detail"}


def test_token_in_response_header_is_accepted_back_then_revoked(sandbox: SandboxHandle) -> None:
    body = {"user": {"user_name": sandbox.primero_user, "password": sandbox.primero_password}}
    login = httpx.post(f"{sandbox.primero_url}/api/v2/tokens", json=body)
    assert login.status_code == 200
    bearer = login.headers["Authorization"]
    assert bearer.startswith("Bearer ")
    headers = {"Authorization": bearer}
    assert httpx.get(f"{sandbox.primero_url}/api/v2/cases", headers=headers).status_code == 200
    revoke = httpx.delete(f"{sandbox.primero_url}/api/v2/tokens", headers=headers)
    assert revoke.status_code == 200
    assert httpx.get(f"{sandbox.primero_url}/api/v2/cases", headers=headers).status_code == 401


def test_bad_password_is_401_and_more_than_six_a_minute_is_429(fresh: SandboxHandle) -> None:
    url = f"{fresh.primero_url}/api/v2/cases"
    statuses = [httpx.get(url, auth=(fresh.primero_user, "wrong")).status_code for _ in range(6)]
    assert statuses == [401] * 6
    assert httpx.get(url, auth=(fresh.primero_user, "wrong")).status_code == 429
    # the account is locked: even the right password is refused now
    good = (fresh.primero_user, fresh.primero_password)
    assert httpx.get(url, auth=good).status_code == 429
    fresh.primero.reset_throttle()
    assert httpx.get(url, auth=good).status_code == 200


def test_token_login_with_bad_password_counts_towards_the_throttle(fresh: SandboxHandle) -> None:
    body = {"user": {"user_name": "someone", "password": "nope"}}
    url = f"{fresh.primero_url}/api/v2/tokens"
    statuses = [httpx.post(url, json=body).status_code for _ in range(7)]
    assert statuses == [401] * 6 + [429]


def test_system_locked_is_503_with_retry_after_60(fresh: SandboxHandle) -> None:
    fresh.faults.lock_system()
    auth = (fresh.primero_user, fresh.primero_password)
    response = httpx.get(f"{fresh.primero_url}/api/v2/cases", auth=auth)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "60"
    fresh.faults.off()
    assert httpx.get(f"{fresh.primero_url}/api/v2/cases", auth=auth).status_code == 200


# --- sign-in as Primero's real clients see it (contract: Authentication) ----------------------


def sign_in(handle: SandboxHandle, password: str | None = None) -> httpx.Response:
    user = {"user_name": handle.primero_user, "password": password or handle.primero_password}
    return httpx.post(f"{handle.primero_url}/api/v2/tokens", json={"user": user})


def test_a_client_reading_the_token_from_the_body_works(fresh: SandboxHandle) -> None:
    login = sign_in(fresh)
    assert login.status_code == 200
    body = login.json()
    assert set(body) == {"user_name", "token"} and body["user_name"] == fresh.primero_user
    assert login.headers["Authorization"] == f"Bearer {body['token']}"  # both places, one JWT
    assert body["token"].count(".") == 2  # header.claims.signature
    headers = {"Authorization": f"Bearer {body['token']}"}  # what OpenFn's adaptor sends
    answer = httpx.get(f"{fresh.primero_url}/api/v2/cases", headers=headers)
    assert answer.status_code == 200 and answer.json()["metadata"]["total"] == 0


def test_the_seventh_sign_in_in_a_minute_is_429_with_retry_after(fresh: SandboxHandle) -> None:
    now = [1000.0]
    fresh.primero.logins.monotonic = lambda: now[0]
    statuses = []
    for _ in range(6):
        statuses.append(sign_in(fresh).status_code)
        now[0] += 5.0
    assert statuses == [200] * 6  # successful ones count: rack-attack counts every POST
    throttled = sign_in(fresh)
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "30"  # the first counted one was 30 s ago
    assert throttled.json()["errors"][0]["status"] == 429
    assert fresh.primero.logins.sign_ins == 6
    now[0] += 30.0  # the first sign-in leaves the minute
    assert sign_in(fresh).status_code == 200
    assert sign_in(fresh).status_code == 429


def test_the_throttle_is_per_user_name_and_basic_auth_is_not_a_sign_in(
    fresh: SandboxHandle,
) -> None:
    auth = (fresh.primero_user, fresh.primero_password)
    for _ in range(10):
        assert httpx.get(f"{fresh.primero_url}/api/v2/cases", auth=auth).status_code == 200
    assert [sign_in(fresh).status_code for _ in range(7)] == [200] * 6 + [429]
    other = {"user": {"user_name": "someone_else", "password": "x"}}
    assert httpx.post(f"{fresh.primero_url}/api/v2/tokens", json=other).status_code == 401


def test_failed_sign_ins_still_lock_the_account_for_30_minutes(fresh: SandboxHandle) -> None:
    now = [1000.0]
    fresh.primero.logins.monotonic = lambda: now[0]
    assert [sign_in(fresh, "wrong").status_code for _ in range(6)] == [401] * 6
    now[0] += 61.0  # past the throttle's minute: only the lock is left
    locked = sign_in(fresh)
    assert locked.status_code == 429 and locked.headers["Retry-After"] == str(1800 - 61)
    now[0] += 1800.0
    assert sign_in(fresh).status_code == 200
