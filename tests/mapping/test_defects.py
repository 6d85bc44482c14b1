"""Each mapping defect of today's integration (current-integration.md), done right."""

from __future__ import annotations

import json

import pytest

from bridge.mapping import OutboundReferral, check_records, load_mapping
from bridge.model import Child, DatePrecision
from tests.mapping.helpers import TODAY, oscar_client, primero_case

PRIMERO = load_mapping("primero")
OSCAR = load_mapping("oscar")


def referral(**fields: object) -> OutboundReferral:
    base: dict = {
        "destination_organisation": "cif",
        "services": ["family_based_care_kinship"],
        "reason": "family tracing",
        "referee_name": "social worker",
        "referee_phone": "012000000",
        "risk_level": "high",
    }
    base.update(fields)
    return OutboundReferral(**base)


# --- 5. Leading zeros ---------------------------------------------------------------------


@pytest.mark.parametrize("code", ["8030201", 8030201, "08030201"])
def test_primero_location_keeps_its_leading_zero(code: object) -> None:
    child = PRIMERO.inbound(primero_case(location_current=code), today=TODAY).child
    assert child is not None
    assert (child.location.code, child.location.province_code) == ("08030201", "08")


def test_oscar_location_is_a_string_and_goes_out_as_one() -> None:
    child = OSCAR.inbound(oscar_client(), today=TODAY).child
    assert child is not None and child.location.code == "08030201"
    payload = OSCAR.outbound("upsert", child, referral()).payload
    assert payload is not None
    assert payload["organization"]["location_current_village_code"] == "08030201"


def test_primero_gets_its_own_code_form_without_a_number_round_trip() -> None:
    child = OSCAR.inbound(oscar_client(), today=TODAY).child
    payload = PRIMERO.outbound("case_patch", child).payload
    assert payload is not None and payload["data"]["location_current"] == "8030201"
    back = PRIMERO.inbound(primero_case(location_current=payload["data"]["location_current"]))
    assert back.child is not None and back.child.location.code == "08030201"


# --- 6. Every province, Stung Treng included ----------------------------------------------


@pytest.mark.parametrize("province", [f"{n:02d}" for n in range(1, 26)])
def test_every_province_is_known(province: str) -> None:
    result = OSCAR.inbound(oscar_client(location_current_village_code=province + "010101"))
    assert result.child is not None and not result.warnings
    assert result.child.location.province_code == province


def test_stung_treng_in_primero_form() -> None:
    result = PRIMERO.inbound(primero_case(location_current="19010203"), today=TODAY)
    assert result.child is not None and result.child.location.province_code == "19"
    assert not result.warnings


def test_a_province_that_does_not_exist_warns() -> None:
    result = OSCAR.inbound(oscar_client(location_current_village_code="26010101"))
    assert result.child is not None and result.child.location.province_code is None
    assert [w.code for w in result.warnings] == ["unknown_province"]


# --- 7. Risk read from the field OSCaR sends ----------------------------------------------


@pytest.mark.parametrize(
    ("level_of_risk", "expected"),
    [("high", "high"), ("medium", "medium"), ("low", "low"), ("no action", "no_action")],
)
def test_risk_is_read_from_level_of_risk(level_of_risk: str, expected: str) -> None:
    client = oscar_client(level_of_risk=level_of_risk)
    child = OSCAR.inbound(client, today=TODAY).child
    assert child is not None and child.risk_level == expected


def test_a_stray_risk_level_field_is_not_read_and_is_reported() -> None:
    client = oscar_client(level_of_risk="high", risk_level="no_action")
    child = OSCAR.inbound(client, today=TODAY).child
    assert child is not None and child.risk_level == "high"
    report = check_records(OSCAR, [client], today=TODAY)
    assert [f.field for f in report.coverage.unmapped] == ["/risk_level"]


def test_risk_goes_back_in_each_systems_words() -> None:
    child = OSCAR.inbound(oscar_client(level_of_risk="no action"), today=TODAY).child
    assert PRIMERO.outbound("case_patch", child).payload["data"]["risk_level"] == "no_action"
    payload = OSCAR.outbound("upsert", child, referral(risk_level=None)).payload
    assert payload["organization"]["level_of_risk"] == "no action"


# --- The typo'd status `Accetped` -----------------------------------------------------------


def test_accetped_is_reported_by_coverage_and_the_child_still_maps() -> None:
    client = oscar_client(status="Accetped")
    result = OSCAR.inbound(client, today=TODAY)
    assert result.child is not None and result.child.status is None
    assert [w.code for w in result.warnings] == ["vocabulary_miss"]
    report = check_records(OSCAR, [client, oscar_client(status="Accetped")], today=TODAY)
    assert report.exit_code == 0
    [miss] = report.coverage.vocabulary_misses
    assert (miss.vocabulary, miss.value, miss.count, miss.fields) == (
        "statuses.case",
        "Accetped",
        2,
        ["/status"],
    )
    # (test_vocab_edit.py shows it mapped once a maintainer adds it to the vocabulary)


# --- 9. Unknown service names ---------------------------------------------------------------


def test_unknown_oscar_service_is_a_vocabulary_miss_and_the_child_maps() -> None:
    services = [{"uuid": "u1", "name": "Art therapy"}, {"uuid": "u2", "name": "Counselling"}]
    client = oscar_client(services=services)
    result = OSCAR.inbound(client, today=TODAY)
    assert result.child is not None
    assert [s.service_type for s in result.child.services] == [None, "psychosocial_support"]
    assert result.child.services[0].source_name == "Art therapy"
    [warning] = result.warnings
    assert warning.pointer == "/services/0/name" and "Art therapy" in warning.message
    report = check_records(OSCAR, [client], today=TODAY)
    [miss] = report.coverage.vocabulary_misses
    assert (miss.vocabulary, miss.value, miss.fields) == (
        "services",
        "Art therapy",
        ["/services/*/name"],
    )


def test_unknown_service_is_held_outbound_never_sent_as_a_placeholder() -> None:
    child = OSCAR.inbound(oscar_client(), today=TODAY).child
    result = OSCAR.outbound(
        "upsert", child, referral(services=["family_based_care_kinship", "art_therapy"])
    )
    assert result.payload is None and result.held
    [error] = result.errors
    assert error.pointer == "/referral/services/1"
    assert "art_therapy" in error.message and "services" in error.message
    assert "Not Specified" not in json.dumps(result.model_dump())


def test_unknown_oscar_service_is_held_on_the_way_to_primero() -> None:
    client = oscar_client(services=[{"uuid": "u1", "name": "Art therapy"}])
    child = OSCAR.inbound(client, today=TODAY).child
    result = PRIMERO.outbound("case_patch", child)
    assert result.payload is None
    assert [(e.pointer, e.code) for e in result.errors] == [
        ("/child/services/0/service_type", "missing")
    ]


def test_a_service_one_system_lacks_is_held_with_a_clear_message(tmp_path) -> None:
    import shutil

    from bridge.mapping import default_mappings_dir

    folder = tmp_path / "m"
    shutil.copytree(default_mappings_dir(), folder)
    services = folder / "vocab" / "services.toml"
    services.write_text(
        services.read_text(encoding="utf-8")
        + '\n[[service]]\ncanonical = "birth_registration"\noscar = []\n'
        + 'primero = ["birth_registration"]\n',
        encoding="utf-8",
    )
    oscar = load_mapping("oscar", folder)
    result = oscar.outbound(
        "upsert", Child(system="primero", record_id="x"), referral(services=["birth_registration"])
    )
    assert result.payload is None
    [error] = result.errors
    assert error.code == "no_value" and "services.toml" in error.message


# --- 10. Corrupt dates ----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["22012-01-01", "0000-00-00", "2099-01-01", "2026-11-24"])
@pytest.mark.parametrize("mapping", [PRIMERO, OSCAR], ids=["primero", "oscar"])
def test_corrupt_dates_become_unknown_with_a_warning(value: str, mapping) -> None:
    payload = (primero_case if mapping is PRIMERO else oscar_client)(date_of_birth=value)
    result = mapping.inbound(payload, today=TODAY)
    assert result.child is not None and not result.errors
    assert result.child.birth.value is None
    assert result.child.birth.precision == DatePrecision.unknown
    [warning] = result.warnings
    assert warning.pointer == "/date_of_birth" and warning.code in ("corrupt_date", "future_date")
    assert value not in warning.message


def test_an_empty_oscar_date_is_unknown_without_a_warning() -> None:
    result = OSCAR.inbound(oscar_client(date_of_birth=""), today=TODAY)
    assert result.child is not None and not result.warnings
    assert result.child.birth.precision == DatePrecision.unknown


def test_a_missing_primero_date_is_estimated_from_age() -> None:
    result = PRIMERO.inbound(primero_case(date_of_birth=None, age=9), today=TODAY)
    assert result.child is not None and not result.warnings
    assert result.child.birth.value.isoformat() == "2017-01-01"
    assert result.child.birth.precision == DatePrecision.estimated


def test_unknown_dates_go_out_as_oscar_empty_string() -> None:
    child = OSCAR.inbound(oscar_client(date_of_birth="22012-01-01"), today=TODAY).child
    payload = OSCAR.outbound("upsert", child, referral()).payload
    assert payload["organization"]["date_of_birth"] == ""
    assert "date_of_birth" not in PRIMERO.outbound("case_patch", child).payload["data"]
