from __future__ import annotations

import httpx
import pytest

from bridge.sandbox import SandboxHandle

REMOTE = {"remote": True, "transitioned_to_remote": "cif", "transitioned_to_agency": "agency-cif"}


def _case(primero: httpx.Client, consent: bool = True) -> str:
    data = {"consent_for_services": consent, "disclosure_other_orgs": consent}
    return primero.post("/api/v2/cases", json={"data": data}).json()["data"]["id"]


def _stamp(sandbox: SandboxHandle, case_id: str) -> str:
    return sandbox.primero.cases[case_id]["last_updated_at"]


def test_referral_lifecycle_and_silent_no_ops(
    primero: httpx.Client, sandbox: SandboxHandle
) -> None:
    case_id = _case(primero)
    before = _stamp(sandbox, case_id)
    created = primero.post(f"/api/v2/cases/{case_id}/referrals", json={"data": REMOTE})
    assert created.status_code == 200
    referral = created.json()["data"]
    assert referral["status"] == "in_progress" and referral["type"] == "Referral"
    assert referral["record_id"] == case_id and referral["transitioned_by"]
    assert _stamp(sandbox, case_id) > before
    url = f"/api/v2/cases/{case_id}/referrals/{referral['id']}"

    # done straight from in_progress is illegal: 200 and nothing changes
    stamp = _stamp(sandbox, case_id)
    no_op = primero.patch(url, json={"data": {"status": "done"}})
    assert no_op.status_code == 200 and no_op.json()["data"]["status"] == "in_progress"
    assert _stamp(sandbox, case_id) == stamp

    accepted = primero.patch(url, json={"data": {"status": "accepted"}}).json()["data"]
    assert accepted["status"] == "accepted" and _stamp(sandbox, case_id) > stamp
    rejected = primero.patch(url, json={"data": {"status": "rejected"}}).json()["data"]
    assert rejected["status"] == "accepted"  # only from in_progress
    assert primero.patch(url, json={"data": {"status": "done"}}).json()["data"]["status"] == "done"
    assert primero.delete(url).json()["data"]["status"] == "done"  # done cannot be revoked
    listed = primero.get(f"/api/v2/cases/{case_id}/referrals").json()["data"]
    assert [r["status"] for r in listed] == ["done"]


def test_reject_with_reason_and_revoke(primero: httpx.Client) -> None:
    case_id = _case(primero)
    first = primero.post(f"/api/v2/cases/{case_id}/referrals", json={"data": REMOTE}).json()
    url = f"/api/v2/cases/{case_id}/referrals/{first['data']['id']}"
    body = {"data": {"status": "rejected", "rejected_reason": "no capacity"}}
    rejected = primero.patch(url, json=body).json()["data"]
    assert rejected["status"] == "rejected" and rejected["rejected_reason"] == "no capacity"
    second = primero.post(f"/api/v2/cases/{case_id}/referrals", json={"data": REMOTE}).json()
    revoked = primero.delete(f"/api/v2/cases/{case_id}/referrals/{second['data']['id']}")
    assert revoked.status_code == 200 and revoked.json()["data"]["status"] == "revoked"


def test_referral_without_consent_is_422_unless_overridden(primero: httpx.Client) -> None:
    case_id = _case(primero, consent=False)
    refused = primero.post(f"/api/v2/cases/{case_id}/referrals", json={"data": REMOTE})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["detail"] == "consent"
    body = {"data": {**REMOTE, "consent_overridden": True}}
    assert primero.post(f"/api/v2/cases/{case_id}/referrals", json=body).status_code == 200


def test_transitioned_to_required_unless_remote(primero: httpx.Client) -> None:
    case_id = _case(primero)
    refused = primero.post(f"/api/v2/cases/{case_id}/referrals", json={"data": {"notes": "x"}})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["detail"] == "transitioned_to"
    local = {"data": {"transitioned_to": "cp_worker"}}
    assert primero.post(f"/api/v2/cases/{case_id}/referrals", json=local).status_code == 200


def test_bulk_referral(primero: httpx.Client, sandbox: SandboxHandle) -> None:
    good, refused = _case(primero), _case(primero, consent=False)
    body = {"data": {"ids": [good, refused], **REMOTE}}
    response = primero.post("/api/v2/cases/referrals", json=body)
    assert response.status_code == 200
    assert [r["record_id"] for r in response.json()["data"]] == [good]
    assert response.json()["errors"][0]["status"] == 422
    assert len(sandbox.primero.referrals[good]) == 1


@pytest.mark.parametrize("path", ["/api/v2/cases/nope/referrals", "/api/v2/cases/nope/referrals/x"])
def test_unknown_case_or_referral_is_404(primero: httpx.Client, path: str) -> None:
    assert primero.get(path).status_code == 404
