"""The echo faults: error answers that quote the request, in each system's shape."""

from __future__ import annotations

import httpx
import pytest

from bridge.sandbox import FAULT_KINDS, FaultSwitch, SandboxHandle
from bridge.sandbox.faults import ECHO_KINDS
from tests.sandbox.conftest import oscar_headers

BODY = {"data": {"name_first": "Qorvath", "date_of_birth": "2011-04-27"}}


def _auth(handle: SandboxHandle) -> tuple[str, str]:
    return (handle.primero_user, handle.primero_password)


def test_echo_is_never_part_of_the_default_mix() -> None:
    assert not set(ECHO_KINDS) & set(FAULT_KINDS) and "echo" not in FAULT_KINDS
    switch = FaultSwitch()
    switch.set(rate=1.0, seed=1)
    assert all(switch.decide("POST", "/api/v2/cases") in FAULT_KINDS for _ in range(200))
    with pytest.raises(ValueError, match="unknown fault kinds"):
        switch.set(rate=1.0, kinds=["echo_xml"])


def test_echo_picks_a_variant_and_methods_limit_faults() -> None:
    switch = FaultSwitch()
    switch.set(rate=1.0, kinds=["echo"], seed=3, methods=["post", "PATCH"])
    served = {switch.decide("POST", "/api/v2/cases") for _ in range(60)}
    assert served == set(ECHO_KINDS)
    assert switch.decide("GET", "/api/v2/cases") is None
    assert switch.as_dict()["methods"] == ["POST", "PATCH"]


def test_primero_echo_json_quotes_fields_and_body(fresh: SandboxHandle) -> None:
    fresh.faults.set(rate=1.0, kinds=["echo_json"], methods=["POST"])
    response = httpx.post(f"{fresh.primero_url}/api/v2/cases", json=BODY, auth=_auth(fresh))
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert {e.get("detail") for e in errors[:-1]} == {"data.name_first", "data.date_of_birth"}
    assert "Qorvath" in str(errors[0]["message"]) and errors[-1]["detail"] == BODY
    assert fresh.primero.cases == {}  # nothing was created
    # a read is not faulted (methods)
    assert httpx.get(f"{fresh.primero_url}/api/v2/cases", auth=_auth(fresh)).status_code == 200


def test_oscar_echo_json_quotes_fields(fresh: SandboxHandle) -> None:
    headers = oscar_headers(fresh)
    fresh.faults.set(rate=1.0, kinds=["echo_json"])
    body = {"organization": {"organization_name": "cif", "given_name": "Qorvath"}}
    response = httpx.post(
        f"{fresh.oscar_url}/api/v1/organizations/clients/upsert", json=body, headers=headers
    )
    assert response.status_code == 422
    answer = response.json()
    assert answer["message"]["given_name"] == ["Qorvath is invalid"]
    assert "Qorvath" in answer["request"] and fresh.oscar.referrals == []


@pytest.mark.parametrize(
    ("kind", "content_type"), [("echo_text", "text/plain"), ("echo_html", "text/html")]
)
def test_echo_text_and_html_quote_the_raw_body(
    fresh: SandboxHandle, kind: str, content_type: str
) -> None:
    fresh.faults.set(rate=1.0, kinds=[kind])
    for url in (f"{fresh.primero_url}/api/v2/cases", f"{fresh.oscar_url}/api/v1/x"):
        response = httpx.post(url, json=BODY, auth=_auth(fresh))
        assert response.status_code == 500
        assert response.headers["Content-Type"].startswith(content_type)
        assert "Qorvath" in response.text and "2011-04-27" in response.text
