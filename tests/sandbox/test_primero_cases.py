from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from bridge.sandbox import SandboxHandle, start_sandbox


@pytest.fixture(scope="module")
def many() -> Iterator[SandboxHandle]:
    """1,205 cases stamped within two seconds by a frozen clock."""
    with start_sandbox() as handle:
        handle.primero.clock.set(datetime(2026, 5, 1, 10, 0, 0, tzinfo=UTC))
        for i in range(1205):
            handle.primero.add_case({"name_first": f"Test{i}", "sex": "female"})
        yield handle


def _get(handle: SandboxHandle, **params: object) -> dict:
    auth = (handle.primero_user, handle.primero_password)
    response = httpx.get(f"{handle.primero_url}/api/v2/cases", params=params, auth=auth)
    assert response.status_code == 200
    return response.json()


def test_per_is_silently_capped_at_1000_and_pages_reach_the_rest(many: SandboxHandle) -> None:
    first = _get(many, per=10000, order_by="last_updated_at", order="asc")
    assert len(first["data"]) == 1000
    assert first["metadata"] == {"total": 1205, "per": 1000, "page": 1}
    second = _get(many, per=1000, page=2, order_by="last_updated_at", order="asc")
    assert len(second["data"]) == 205
    ids = [c["id"] for c in first["data"] + second["data"]]
    assert len(set(ids)) == 1205


def test_frozen_clock_stamps_strictly_increase_by_millisecond(many: SandboxHandle) -> None:
    stamps = sorted(c["last_updated_at"] for c in many.primero.cases.values())
    assert len(set(stamps)) == len(stamps)
    assert stamps[0] == "2026-05-01T10:00:00.000Z"
    assert stamps[1] == "2026-05-01T10:00:00.001Z"


def test_default_per_and_order(many: SandboxHandle) -> None:
    body = _get(many)
    assert body["metadata"]["per"] == 20 and len(body["data"]) == 20


def test_range_filter_is_inclusive_at_whole_seconds_and_ignores_time_zone(
    many: SandboxHandle,
) -> None:
    body = _get(
        many,
        last_updated_at="2026-05-01T10:00:01.999+07:00..2026-05-01T10:00:01Z",
        per=1000,
        order_by="last_updated_at",
        order="asc",
    )
    # every stamp within second 10:00:01 (ms truncated), nothing from second 10:00:00
    assert body["metadata"]["total"] == 205
    stamps = [c["last_updated_at"] for c in body["data"]]
    assert stamps == sorted(stamps)
    assert all(s.startswith("2026-05-01T10:00:01.") for s in stamps)


def test_open_ended_range_and_descending_order(sandbox: SandboxHandle) -> None:
    cases = sorted(sandbox.primero.cases.values(), key=lambda c: c["last_updated_at"])
    cut = cases[len(cases) // 2]["last_updated_at"][:19] + "Z"
    body = _get(sandbox, last_updated_at=f"{cut}..", order_by="last_updated_at", order="desc")
    expected = [c for c in cases if c["last_updated_at"][:19] >= cut[:19]]
    assert body["metadata"]["total"] == len(expected)
    stamps = [c["last_updated_at"] for c in body["data"]]
    assert stamps == sorted(stamps, reverse=True)


@pytest.mark.parametrize(
    "params",
    [
        {"last_updated_at": "yesterday.."},
        {"last_updated_at": "2026-13-45T00:00:00Z.."},
        {"record_state": "maybe"},
    ],
)
def test_malformed_filter_is_200_with_empty_data(sandbox: SandboxHandle, params: dict) -> None:
    body = _get(sandbox, **params)
    assert body["data"] == [] and body["metadata"]["total"] == 0


def test_unknown_filters_are_ignored(sandbox: SandboxHandle) -> None:
    body = _get(sandbox, no_such_filter="x")
    assert body["metadata"]["total"] == len(sandbox.primero.cases)


def test_identifier_filters_and_fields(sandbox: SandboxHandle) -> None:
    case = next(iter(sandbox.primero.cases.values()))
    other = list(sandbox.primero.cases)[1]
    assert _get(sandbox, short_id=case["short_id"])["data"][0]["id"] == case["id"]
    assert _get(sandbox, id=f"{case['id']},{other}")["metadata"]["total"] == 2
    narrowed = _get(sandbox, case_id=case["case_id"], fields="sex,age")["data"][0]
    assert set(narrowed) == {"id", "sex", "age"}


def test_disabled_cases_hidden_only_with_record_state_true(primero: httpx.Client) -> None:
    created = primero.post("/api/v2/cases", json={"data": {"sex": "male"}}).json()["data"]
    assert primero.delete(f"/api/v2/cases/{created['id']}").status_code == 200
    shown = primero.get("/api/v2/cases", params={"id": created["id"]}).json()["data"]
    assert shown[0]["record_state"] is False
    hidden = primero.get("/api/v2/cases", params={"id": created["id"], "record_state": "true"})
    assert hidden.json()["data"] == []


def test_create_with_client_id_204_then_409(primero: httpx.Client) -> None:
    case_id = "0b6f8d7e-1111-4222-8333-944445555666"
    first = primero.post("/api/v2/cases", json={"data": {"id": case_id, "sex": "female"}})
    assert first.status_code == 204 and first.content == b""
    again = primero.post("/api/v2/cases", json={"data": {"id": case_id}})
    assert again.status_code == 409
    assert again.json()["errors"][0]["status"] == 409


def test_create_without_id_returns_generated_fields(primero: httpx.Client) -> None:
    data = primero.post("/api/v2/cases", json={"data": {"sex": "female"}}).json()["data"]
    assert data["short_id"] == data["id"][-7:] and data["last_updated_at"].endswith("Z")


def test_get_unknown_case_is_404_envelope(primero: httpx.Client) -> None:
    response = primero.get("/api/v2/cases/nope")
    assert response.status_code == 404
    assert response.json()["errors"][0]["message"] == "Not Found"


def test_patch_merges_subform_rows_and_bumps_last_updated(primero: httpx.Client) -> None:
    rows = [{"unique_id": "r1", "service_type": "kinship_care"}, {"unique_id": "r2"}]
    case = primero.post("/api/v2/cases", json={"data": {"services_section": rows}}).json()["data"]
    before = case["last_updated_at"]
    change = [
        {"unique_id": "r1", "service_implemented": "implemented"},
        {"unique_id": "r2", "_destroy": True},
        {"service_type": "foster_care"},
    ]
    patched = primero.patch(
        f"/api/v2/cases/{case['id']}", json={"data": {"services_section": change}}
    )
    assert patched.status_code == 200
    assert patched.json()["data"]["last_updated_at"] > before
    stored = primero.get(f"/api/v2/cases/{case['id']}").json()["data"]["services_section"]
    assert stored[0] == {
        "unique_id": "r1",
        "service_type": "kinship_care",
        "service_implemented": "implemented",
    }
    assert [r["unique_id"] for r in stored][1:] != ["r2"] and len(stored) == 2
    assert stored[1]["service_type"] == "foster_care" and stored[1]["unique_id"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sex", "boy"),
        ("risk_level", "urgent"),
        ("status", "pending"),
        ("date_of_birth", "2014-31-01"),
        ("date_of_birth", "2999-01-01"),
        ("consent_for_services", "yes"),
    ],
)
def test_bad_lookup_value_is_422_per_field(primero: httpx.Client, field: str, value: str) -> None:
    case_id = primero.post("/api/v2/cases", json={"data": {}}).json()["data"]["id"]
    response = primero.patch(f"/api/v2/cases/{case_id}", json={"data": {field: value}})
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors[0]["detail"] == field and errors[0]["status"] == 422
    assert value not in response.text  # never echo the value


def test_invalid_json_is_422_invalid_record_json(primero: httpx.Client) -> None:
    response = primero.post("/api/v2/cases", content=b"{not json")
    assert response.status_code == 422
    assert response.json()["errors"][0]["message"] == "Invalid Record JSON"
