"""The configuration integrations read, and Primero dropping keys it does not permit
(shared/contracts/primero-v2.md: "Configuration read by integrations", Cases), over HTTP."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import httpx
import pytest

from bridge.mapping import default_mappings_dir
from bridge.mapping.vocab import load_vocabularies
from bridge.sandbox import SandboxHandle, start_sandbox

KHMER = re.compile("[\u1780-\u17ff]")


def test_an_unknown_case_field_posted_is_not_read_back(primero: httpx.Client) -> None:
    case_id = str(uuid.uuid4())
    body = {"data": {"id": case_id, "name_first": "Dara", "not_a_field_xyz": "kept?"}}
    assert primero.post("/api/v2/cases", json=body).status_code == 204
    stored = primero.get(f"/api/v2/cases/{case_id}").json()["data"]
    assert stored["name_first"] == "Dara" and "not_a_field_xyz" not in stored


def test_unknown_keys_are_dropped_on_update_and_in_subform_rows(primero: httpx.Client) -> None:
    created = primero.post("/api/v2/cases", json={"data": {"name_first": "Sokha"}}).json()
    case_id = created["data"]["id"]
    row = {"unique_id": str(uuid.uuid4()), "service_type": "legal_support", "colour": "red"}
    patch = {"data": {"services_section": [row], "data": {"name_first": "nested"}, "zzz": 1}}
    answer = primero.patch(f"/api/v2/cases/{case_id}", json=patch)
    assert answer.status_code == 200
    assert "zzz" not in answer.json()["data"] and "data" not in answer.json()["data"]
    stored = primero.get(f"/api/v2/cases/{case_id}").json()["data"]
    assert "zzz" not in stored and "data" not in stored and stored["name_first"] == "Sokha"
    [saved] = stored["services_section"]
    assert saved == {"unique_id": row["unique_id"], "service_type": "legal_support"}


def test_lookups_answer_with_the_contract_envelope_and_paging(primero: httpx.Client) -> None:
    first = primero.get("/api/v2/lookups").json()
    assert set(first) == {"data", "metadata"}
    total = first["metadata"]["total"]
    assert first["metadata"] == {"total": total, "per": 20, "page": 1} and total >= 5
    for lookup in first["data"]:
        assert set(lookup) == {"id", "unique_id", "name", "values"}
        assert lookup["unique_id"].startswith("lookup-")
        assert set(lookup["name"]) == {"en", "km"} and KHMER.search(lookup["name"]["km"])
        assert set(lookup["values"]) == {"en", "km"}
        for language in ("en", "km"):
            assert all(set(v) == {"id", "display_text"} for v in lookup["values"][language])
        assert [v["id"] for v in lookup["values"]["km"]] == [
            v["id"] for v in lookup["values"]["en"]
        ]
    paged = primero.get("/api/v2/lookups", params={"per": 2, "page": 2}).json()
    assert paged["metadata"] == {"total": total, "per": 2, "page": 2}
    assert [x["id"] for x in paged["data"]] == [x["id"] for x in first["data"][2:4]]


def test_lookups_are_the_shipped_vocabularies_with_khmer_texts(primero: httpx.Client) -> None:
    lookups = {x["unique_id"]: x for x in primero.get("/api/v2/lookups").json()["data"]}
    vocab = load_vocabularies(default_mappings_dir() / "vocab")
    for unique_id, name, column in [
        ("lookup-gender", "sex", "primero"),
        ("lookup-risk-level", "risk", "primero"),
        ("lookup-case-status", "statuses.case", "primero"),
        ("lookup-service-type", "services", "primero"),
        ("lookup-service-referral-status", "statuses.referral", "primero_service"),
    ]:
        expected = [row[column][0] for row in vocab[name].rows if row[column]]
        assert [v["id"] for v in lookups[unique_id]["values"]["en"]] == expected, unique_id
        assert all(KHMER.search(v["display_text"]) for v in lookups[unique_id]["values"]["km"])
    gender = {v["id"]: v["display_text"] for v in lookups["lookup-gender"]["values"]["km"]}
    assert gender["male"] == "ប្រុស" and gender["female"] == "ស្រី"
    referral = lookups["lookup-service-referral-status"]["values"]["en"]
    status = {v["id"]: v["display_text"] for v in referral}
    assert status["accepted_340953"] == "Accepted"


def test_locations_with_and_without_hierarchy(
    primero: httpx.Client, sandbox: SandboxHandle
) -> None:
    plain = primero.get("/api/v2/locations", params={"per": 1000}).json()
    assert plain["metadata"]["per"] == 1000 and plain["metadata"]["page"] == 1
    assert all(set(x) == {"id", "code", "type", "name", "admin_level"} for x in plain["data"])
    total = plain["metadata"]["total"]
    codes: set[str] = set()
    page = 1
    while (page - 1) * 1000 < total:
        chunk = primero.get("/api/v2/locations", params={"per": 5000, "page": page}).json()
        assert chunk["metadata"]["per"] == 1000  # silently capped, as for cases
        codes |= {x["code"] for x in chunk["data"]}
        page += 1
    assert len(codes) == total
    held = {case.get("location_current") for case in sandbox.primero.cases.values()}
    assert {c.lstrip("0") for c in held if c} <= codes  # codes without the leading zero
    rich = primero.get("/api/v2/locations", params={"hierarchy": "true", "per": 30}).json()
    kandal = next(x for x in rich["data"] if x["code"] == "8")
    assert kandal["type"] == "province" and kandal["admin_level"] == 1
    assert kandal["hierarchy"] == "KH.8" and kandal["name"]["en"] == "Cambodia::Kandal"
    assert kandal["placename"] == {"en": "Kandal", "km": "កណ្តាល"}
    last = primero.get("/api/v2/locations", params={"per": 1, "page": total}).json()
    [village] = last["data"]
    assert village["type"] == "village" and village["name"]["en"].count("::") == 4


def test_forms_name_their_fields_types_and_option_lists(primero: httpx.Client) -> None:
    forms = primero.get("/api/v2/forms").json()["data"]
    by_id = {form["unique_id"]: form for form in forms}
    fields = {
        field["name"]: field for form in forms if not form["is_nested"] for field in form["fields"]
    }
    assert fields["sex"]["type"] == "select_box"
    assert fields["sex"]["option_strings_source"] == "lookup lookup-gender"
    assert fields["services_section"]["type"] == "subform"
    nested = by_id[fields["services_section"]["subform_section_unique_id"]]
    service_type = next(f for f in nested["fields"] if f["name"] == "service_type")
    assert service_type["option_strings_source"] == "lookup lookup-service-type"
    assert all({"name", "type", "display_name"} <= set(f) for form in forms for f in form["fields"])


@pytest.mark.parametrize("path", ["/api/v2/lookups", "/api/v2/locations", "/api/v2/forms"])
def test_configuration_needs_credentials(sandbox: SandboxHandle, path: str) -> None:
    response = httpx.get(sandbox.primero_url + path)
    assert response.status_code == 401


@pytest.fixture()
def differing() -> Iterator[SandboxHandle]:
    with start_sandbox(primero_lookups={"lookup-gender": ["male", "female", "intersex"]}) as sb:
        yield sb


def test_lookups_can_differ_and_the_select_field_follows_them(differing: SandboxHandle) -> None:
    auth = (differing.primero_user, differing.primero_password)
    with httpx.Client(base_url=differing.primero_url, auth=auth) as client:
        lookups = {x["unique_id"]: x for x in client.get("/api/v2/lookups").json()["data"]}
        values = lookups["lookup-gender"]["values"]
        assert [v["id"] for v in values["en"]] == ["male", "female", "intersex"]
        assert values["en"][2]["display_text"] == "Intersex"
        accepted = client.post("/api/v2/cases", json={"data": {"sex": "intersex"}})
        assert accepted.status_code == 200
        refused = client.post("/api/v2/cases", json={"data": {"sex": "other"}})
        assert refused.status_code == 422 and refused.json()["errors"][0]["detail"] == "sex"
