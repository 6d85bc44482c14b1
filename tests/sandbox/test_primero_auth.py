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
