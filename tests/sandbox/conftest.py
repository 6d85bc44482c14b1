"""Shared fixtures: one seeded sandbox per module, real HTTP on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from bridge.sandbox import SandboxHandle, start_sandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxHandle]:
    with start_sandbox(children=80, seed=7) as handle:
        yield handle


@pytest.fixture()
def fresh() -> Iterator[SandboxHandle]:
    """An empty sandbox for tests that change auth or fault state."""
    with start_sandbox() as handle:
        yield handle


@pytest.fixture()
def primero(sandbox: SandboxHandle) -> Iterator[httpx.Client]:
    sandbox.faults.off()
    auth = (sandbox.primero_user, sandbox.primero_password)
    with httpx.Client(base_url=sandbox.primero_url, auth=auth, timeout=10) as client:
        yield client


def oscar_headers(handle: SandboxHandle) -> dict[str, str]:
    response = httpx.post(
        f"{handle.oscar_url}/api/v1/admin_auth/sign_in",
        json={"email": handle.oscar_email, "password": handle.oscar_password},
    )
    assert response.status_code == 200
    return {k: response.headers[k] for k in ("access-token", "client", "uid")}


@pytest.fixture()
def oscar(sandbox: SandboxHandle) -> Iterator[httpx.Client]:
    sandbox.faults.off()
    headers = oscar_headers(sandbox)
    with httpx.Client(base_url=sandbox.oscar_url, headers=headers, timeout=10) as client:
        yield client
