from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from bridge.sandbox import SandboxHandle, start_sandbox
from tests.sandbox.conftest import oscar_headers

FEED = "/api/v1/organizations/clients"
UPSERT = "/api/v1/organizations/clients/upsert"
REFERRAL = {
    "organization_name": "cif",
    "external_id": "5c7a0e2e-aaaa-4bbb-8ccc-000000000001",
    "external_id_display": "0000001",
    "given_name": "Test",
    "family_name": "Child",
    "gender": "female",
    "date_of_birth": "2015-02-03",
    "reason_for_referral": "family support",
    "external_case_worker_name": "Worker",
    "external_case_worker_mobile": "012000000",
    "level_of_risk": "medium",
    "services": [{"name": "Kinship care"}],
}


def _client(**fields: object) -> dict:
    base = {
        "given_name": "A",
        "family_name": "B",
        "gender": "male",
        "date_of_birth": "2014-01-01",
        "organization_name": "cif",
        "external_id": None,
    }
    return {**base, **fields}


@pytest.fixture()
def timed() -> Iterator[tuple[SandboxHandle, httpx.Client]]:
    with start_sandbox() as handle:
        state = handle.oscar
        moments = {
            "early_same_day": datetime(2026, 3, 10, 1, 0, tzinfo=UTC),
            "day_before": datetime(2026, 3, 9, 23, 59, tzinfo=UTC),
            "later": datetime(2026, 3, 11, 8, 0, tzinfo=UTC),
        }
        for name, moment in moments.items():
            state.add_client(_client(global_id=name.upper()), changed_at=moment)
        state.add_client(_client(global_id="NO_DOB", date_of_birth=""), changed_at=moments["later"])
        state.add_client(_client(global_id="NO_GENDER", gender=None), changed_at=moments["later"])
        khmer = _client(global_id="KHMER_ONLY", given_name="", local_given_name="សុខា")
        state.add_client(khmer, changed_at=moments["later"])
        with httpx.Client(base_url=handle.oscar_url, headers=oscar_headers(handle)) as client:
            yield handle, client


def test_sign_in_returns_token_triple_in_headers(sandbox: SandboxHandle) -> None:
    response = httpx.post(
        f"{sandbox.oscar_url}/api/v1/admin_auth/sign_in",
        json={"email": sandbox.oscar_email, "password": sandbox.oscar_password},
    )
    assert response.status_code == 200
    for header in ("access-token", "client", "uid", "expiry"):
        assert response.headers[header]
    assert response.headers["token-type"] == "Bearer"
    assert response.headers["uid"] == sandbox.oscar_email
    assert response.json()["data"]["provider"] == "email"


def test_bad_sign_in_and_missing_headers_are_401(sandbox: SandboxHandle) -> None:
    bad = httpx.post(
        f"{sandbox.oscar_url}/api/v1/admin_auth/sign_in",
        json={"email": sandbox.oscar_email, "password": "wrong"},
    )
    assert bad.status_code == 401
    assert bad.json() == {"errors": ["Invalid login credentials. Please try again."]}
    anonymous = httpx.get(f"{sandbox.oscar_url}{FEED}")
    assert anonymous.status_code == 401
    assert anonymous.json() == {"errors": ["You need to sign in or sign up before continuing."]}


def test_feed_is_one_unpaginated_array_with_blank_nulls(
    oscar: httpx.Client, sandbox: SandboxHandle
) -> None:
    response = oscar.get(FEED, params={"since_date": "2000-01-01 00:00:00"})
    assert response.status_code == 200
    data = response.json()["data"]
    assert 0 < len(data) <= len(sandbox.oscar.clients)
    for client in data:
        assert "created_at" not in client and "updated_at" not in client
        assert None not in client.values()
        assert len(client["global_id"]) == 26


def test_feed_day_quirk_and_incomplete_clients(timed: tuple[SandboxHandle, httpx.Client]) -> None:
    _, client = timed
    data = client.get(FEED, params={"since_date": "2026-03-10 12:00:00"}).json()["data"]
    ids = {c["global_id"] for c in data}
    # changed at 01:00 the same day: still served; the day before: not
    assert ids == {"EARLY_SAME_DAY", "LATER", "KHMER_ONLY"}
    assert next(c for c in data if c["global_id"] == "LATER")["external_id"] == ""


def test_feed_end_date_selects_created_between(timed: tuple[SandboxHandle, httpx.Client]) -> None:
    _, client = timed
    params = {"since_date": "2026-03-09 00:00:00", "end_date": "2026-03-10 23:59:59"}
    ids = {c["global_id"] for c in client.get(FEED, params=params).json()["data"]}
    assert ids == {"EARLY_SAME_DAY", "DAY_BEFORE"}


def test_upsert_new_referral_mints_global_id_then_record_was_found(
    oscar: httpx.Client, sandbox: SandboxHandle
) -> None:
    response = oscar.post(UPSERT, json={"organization": REFERRAL})
    assert response.status_code == 200
    assert response.json() == {"external_id": REFERRAL["external_id"], "message": "Record saved."}
    referral = sandbox.oscar.referrals[-1]
    gid = referral["client_global_id"]
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{26}", gid)
    client = sandbox.oscar.clients[gid]
    assert client["status"] == "Referred" and client["is_referred"] is True
    assert client["services"][0]["referral_id"] == referral["id"]

    # not yet accepted: another referral for the same client
    assert oscar.post(UPSERT, json={"organization": REFERRAL}).status_code == 200
    assert sandbox.oscar.referrals[-1]["client_global_id"] == gid
    assert sandbox.oscar.referrals[-1]["id"] != referral["id"]

    accept = {"client_global_id": gid, "referral_id": referral["id"], "referral_status": "Accepted"}
    put = oscar.put("/api/v1/organizations/referrals/update_statuses", json={"data": [accept]})
    assert put.status_code == 200 and put.json() == {"message": "Record saved."}
    assert sandbox.oscar.status_updates[-1] == accept
    assert sandbox.oscar.clients[gid]["status"] == "Accepted"

    again = oscar.post(UPSERT, json={"organization": REFERRAL})
    assert again.status_code == 422
    assert again.json()["message"] == "Record was found."


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"services": [{"name": "Space travel"}]}, "services"),
        ({"services": []}, "services"),
        ({"level_of_risk": "extreme"}, "level_of_risk"),
        ({"reason_for_referral": ""}, "reason_for_referral"),
        ({"external_case_worker_mobile": ""}, "external_case_worker_mobile"),
        ({"organization_name": ""}, "organization_name"),
    ],
)
def test_upsert_validation_422(oscar: httpx.Client, change: dict, field: str) -> None:
    body = {**REFERRAL, "external_id": "other-" + field, **change}
    response = oscar.post(UPSERT, json={"organization": body})
    assert response.status_code == 422
    assert field in response.json()["message"]


def test_upsert_known_global_id_updates_unknown_is_404(
    oscar: httpx.Client, sandbox: SandboxHandle
) -> None:
    gid = next(iter(sandbox.oscar.clients))
    body = {"organization_name": "cif", "global_id": gid, "mosvy_number": "M-1"}
    assert oscar.post(UPSERT, json={"organization": body}).status_code == 200
    assert sandbox.oscar.clients[gid]["mosvy_number"] == "M-1"
    missing = oscar.post(UPSERT, json={"organization": {**body, "global_id": "0" * 26}})
    assert missing.status_code == 404
    assert missing.json() == {"global_id": "0" * 26, "message": "Record not found."}


def test_update_links_writes_case_ids(oscar: httpx.Client, sandbox: SandboxHandle) -> None:
    gid = list(sandbox.oscar.clients)[1]
    row = {"global_id": gid, "external_id": "case-uuid", "external_id_display": "abc1234"}
    response = oscar.put("/api/v1/organizations/clients/update_links", json={"data": [row]})
    assert response.status_code == 200 and response.json() == {"message": "Record saved."}
    assert sandbox.oscar.clients[gid]["external_id"] == "case-uuid"
    assert sandbox.oscar.links[-1] == row


def test_update_statuses_rejects_unknown_status(oscar: httpx.Client) -> None:
    row = {"client_global_id": "x", "referral_id": 1, "referral_status": "Accetped"}
    response = oscar.put("/api/v1/organizations/referrals/update_statuses", json={"data": [row]})
    assert response.status_code == 422
