"""Outbound payloads for each target, exactly as each system accepts them."""

from __future__ import annotations

import pytest

from adapters.errors import ConfigError
from bridge.mapping import OutboundReferral, load_mapping
from tests.mapping.helpers import TODAY, oscar_client, primero_case

OSCAR = load_mapping("oscar")
PRIMERO = load_mapping("primero")


def _child_from_primero(**fields: object):
    child = PRIMERO.inbound(primero_case(**fields), today=TODAY).child
    assert child is not None
    return child


def test_oscar_upsert_payload() -> None:
    child = _child_from_primero(name_first="មករា (Makra)", name_last="ទេព (Tep)", sex="female")
    referral = OutboundReferral(
        destination_organisation="cif",
        services=["family_based_care_kinship", "health_care"],
        reason="needs care",
        referee_name="worker",
        referee_phone="012",
        risk_level="no_action",
    )
    result = OSCAR.outbound("upsert", child, referral)
    assert not result.errors
    assert result.payload == {
        "organization": {
            "organization_name": "cif",
            "global_id": "",
            "external_id": child.identifiers.primero_case_id,
            "external_id_display": "0000001",
            "mosvy_number": "",
            "given_name": "Makra",
            "family_name": "Tep",
            "gender": "female",
            "date_of_birth": "2014-03-09",
            "location_current_village_code": "08030201",
            "reason_for_referral": "needs care",
            "external_case_worker_name": "worker",
            "external_case_worker_id": "",
            "external_case_worker_mobile": "012",
            "level_of_risk": "no action",
            "is_referred": True,
            "services": [{"name": "Kinship care"}, {"name": "Medical care"}],
        }
    }
    assert set(result.payload["organization"]) <= OSCAR.allowed_fields("upsert") | {"services"}


def test_oscar_upsert_falls_back_to_khmer_names() -> None:
    child = _child_from_primero(name_first="មករា", name_last="ទេព")
    referral = OutboundReferral(
        destination_organisation="cif",
        services=["health_care"],
        reason="r",
        referee_name="w",
        referee_phone="1",
    )
    payload = OSCAR.outbound("upsert", child, referral).payload["organization"]
    assert (payload["given_name"], payload["family_name"]) == ("មករា", "ទេព")


def test_oscar_upsert_requires_referral_fields() -> None:
    child = _child_from_primero()
    result = OSCAR.outbound("upsert", child, OutboundReferral())
    pointers = {e.pointer for e in result.errors}
    assert result.payload is None
    assert pointers == {
        "/referral/destination_organisation",
        "/referral/reason",
        "/referral/referee_name",
        "/referral/referee_phone",
        "/referral/services",
    }


def test_oscar_update_links_and_statuses() -> None:
    child = OSCAR.inbound(oscar_client(), today=TODAY).child
    child.identifiers.primero_case_id = "2f1c6a52"
    links = OSCAR.outbound("update_links", child).payload
    assert links == {
        "data": [
            {
                "global_id": "01HV6Z3K9Q8W2C4N7M5R1T0YAB",
                "external_id": "2f1c6a52",
                "external_id_display": "",
            }
        ]
    }
    statuses = OSCAR.outbound(
        "update_statuses", child, {"referral_id": "1193", "status": "accepted"}
    ).payload
    assert statuses == {
        "data": [
            {
                "client_global_id": "01HV6Z3K9Q8W2C4N7M5R1T0YAB",
                "referral_id": 1193,
                "referral_status": "Accepted",
            }
        ]
    }
    rejected = OSCAR.outbound(
        "update_statuses", {"child": child, "referral": {"referral_id": "5", "status": "rejected"}}
    ).payload
    assert rejected["data"][0]["referral_status"] == "Exited"


def test_oscar_status_unknown_is_held() -> None:
    child = OSCAR.inbound(oscar_client(), today=TODAY).child
    result = OSCAR.outbound("update_statuses", child, {"referral_id": "1", "status": "maybe"})
    assert result.payload is None and result.errors[0].code == "vocabulary_miss"


def test_primero_case_patch_from_an_oscar_client() -> None:
    services = [
        {"uuid": "u1", "name": "Counselling", "referral_id": 11, "referral_status": "Accepted"}
    ]
    client = oscar_client(
        services=services,
        status="Accepted",
        gender="unknown",
        date_of_birth="2014-01-01",
        level_of_risk="high",
    )
    child = OSCAR.inbound(client, today=TODAY).child
    payload = PRIMERO.outbound("case_patch", child).payload
    assert payload == {
        "data": {
            "oscar_number": "01HV6Z3K9Q8W2C4N7M5R1T0YAB",
            "oscar_short_id": "cif-1739",
            "oscar_status": "Accepted",
            "name_first": "ស្រីពៅ (Sreypov)",
            "name_last": "ចាន់ (Chan)",
            "date_of_birth": "2014-01-01",
            "estimated": True,
            "location_current": "8030201",
            "risk_level": "high",
            "services_section": [
                {
                    "unique_id": "u1",
                    "service_type": "psychosocial_support",
                    "service_response_type": "referral_from_oscar",
                    "referral_status_edf41f2": "accepted_340953",
                    "oscar_referral_id_a4ac8a5": "11",
                }
            ],
        }
    }  # sex "unknown" has no Primero value: not sent, never a placeholder


def test_primero_referral_create_and_update() -> None:
    child = _child_from_primero()
    referral = OutboundReferral(
        destination_organisation="cif",
        services=["health_care"],
        reason="note",
        service_record_id="s1",
    )
    assert PRIMERO.outbound("referral_create", child, referral).payload == {
        "data": {
            "remote": True,
            "transitioned_to_remote": "cif",
            "transitioned_to_agency": "agency-cif",
            "service": "health_care",
            "service_record_id": "s1",
            "notes": "note",
        }
    }
    update = PRIMERO.outbound(
        "referral_update", child, {"status": "rejected", "rejected_reason": "full"}
    )
    assert update.payload == {"data": {"status": "rejected", "rejected_reason": "full"}}


def test_unknown_target_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="upsert"):
        PRIMERO.outbound("upsert", None)


def test_case_patch_sends_only_what_is_known() -> None:
    from bridge.model import Child, Identifiers

    child = Child(system="oscar", record_id="g", identifiers=Identifiers(oscar_global_id="g"))
    assert PRIMERO.outbound("case_patch", child).payload == {"data": {"oscar_number": "g"}}
