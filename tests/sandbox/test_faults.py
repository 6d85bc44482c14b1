from __future__ import annotations

import httpx
import pytest

from bridge.sandbox import FaultSwitch, SandboxHandle
from tests.sandbox.conftest import oscar_headers


def _auth(handle: SandboxHandle) -> tuple[str, str]:
    return (handle.primero_user, handle.primero_password)


@pytest.mark.parametrize(("kind", "status"), [("500", 500), ("503", 503), ("429", 429)])
def test_status_faults(fresh: SandboxHandle, kind: str, status: int) -> None:
    fresh.faults.set(rate=1.0, kinds=[kind], seed=1)
    response = httpx.get(f"{fresh.primero_url}/api/v2/cases", auth=_auth(fresh))
    assert response.status_code == status
    if status != 500:
        assert response.headers["Retry-After"] == "1"
    assert fresh.primero.request_log[-1] == ("GET", "/api/v2/cases", status)
    assert fresh.faults.log[-1] == ("GET", "/api/v2/cases", kind)


def test_html_fault_is_not_json(fresh: SandboxHandle) -> None:
    fresh.faults.set(rate=1.0, kinds=["html"], seed=3)
    headers = oscar_headers(fresh)  # sign-in is spared
    statuses = set()
    for _ in range(12):
        response = httpx.get(f"{fresh.oscar_url}/api/v1/organizations/clients", headers=headers)
        assert response.headers["Content-Type"].startswith("text/html")
        statuses.add(response.status_code)
    assert statuses == {200, 500}


def test_timeout_fault_hangs_until_the_client_gives_up(fresh: SandboxHandle) -> None:
    # the server waits for the client (at most 30 s): the client's own timeout decides,
    # so the client sees a read timeout however loaded the machine is
    fresh.faults.set(rate=1.0, kinds=["timeout"], timeout_seconds=30)
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(f"{fresh.primero_url}/api/v2/cases", auth=_auth(fresh), timeout=0.2)


def test_timeout_fault_closes_after_its_limit(fresh: SandboxHandle) -> None:
    fresh.faults.set(rate=1.0, kinds=["timeout"], timeout_seconds=0.1)
    with pytest.raises(httpx.RemoteProtocolError):  # hung up without an answer
        httpx.get(f"{fresh.primero_url}/api/v2/cases", auth=_auth(fresh), timeout=30)


def test_drop_after_acts_then_drops(fresh: SandboxHandle) -> None:
    case = fresh.primero.add_case({"consent_for_services": True, "disclosure_other_orgs": True})
    fresh.faults.set(rate=1.0, kinds=["drop_after"], paths=r"/referrals$")
    url = f"{fresh.primero_url}/api/v2/cases/{case['id']}/referrals"
    with pytest.raises(httpx.TransportError):
        httpx.post(url, json={"data": {"remote": True}}, auth=_auth(fresh))
    assert len(fresh.primero.referrals[case["id"]]) == 1  # the server did act
    # paths limits the faults: other endpoints answer normally
    assert httpx.get(f"{fresh.primero_url}/api/v2/cases", auth=_auth(fresh)).status_code == 200


def test_drop_after_on_oscar_upsert_creates_the_referral(fresh: SandboxHandle) -> None:
    headers = oscar_headers(fresh)
    fresh.faults.set(rate=1.0, kinds=["drop_after"])
    body = {
        "organization_name": "cif",
        "external_id": "e-1",
        "reason_for_referral": "r",
        "external_case_worker_name": "w",
        "external_case_worker_mobile": "0",
        "services": ["Counselling"],
    }
    with pytest.raises(httpx.TransportError):
        httpx.post(
            f"{fresh.oscar_url}/api/v1/organizations/clients/upsert",
            json={"organization": body},
            headers=headers,
        )
    assert [r["external_id"] for r in fresh.oscar.referrals] == ["e-1"]


def test_rate_share_is_deterministic_for_a_seed() -> None:
    def pattern() -> list[str | None]:
        switch = FaultSwitch()
        switch.set(rate=0.3, kinds=["500", "503"], seed=42)
        return [switch.decide("GET", "/api/v2/cases") for _ in range(200)]

    first = pattern()
    assert first == pattern()
    share = sum(k is not None for k in first) / len(first)
    assert 0.15 < share < 0.45


def test_sign_in_spared_unless_asked() -> None:
    switch = FaultSwitch()
    switch.set(rate=1.0, kinds=["500"])
    assert switch.decide("POST", "/api/v2/tokens") is None
    assert switch.decide("POST", "/api/v1/admin_auth/sign_in") is None
    switch.set(rate=1.0, kinds=["500"], include_auth=True)
    assert switch.decide("POST", "/api/v2/tokens") == "500"


def test_unknown_kind_rejected() -> None:
    with pytest.raises(ValueError):
        FaultSwitch().set(rate=0.5, kinds=["explode"])


def test_admin_endpoint_sets_and_reads_faults(fresh: SandboxHandle) -> None:
    url = f"{fresh.oscar_url}/_sandbox/faults"
    response = httpx.post(url, json={"rate": 0.25, "kinds": ["503"], "seed": 9})
    assert response.status_code == 200
    state = httpx.get(f"{fresh.primero_url}/_sandbox/faults").json()
    assert state["rate"] == 0.25 and state["kinds"] == ["503"]
    assert httpx.post(url, json={"rate": 0.5, "kinds": ["nope"]}).status_code == 422
    httpx.post(url, json={"off": True})
    assert fresh.faults.rate == 0.0
