"""Inbound details: names, identifiers, caregivers, services, consent."""

from __future__ import annotations

from bridge.mapping import load_mapping
from bridge.model import Sex
from tests.mapping.helpers import TODAY, oscar_client, primero_case

OSCAR = load_mapping("oscar")
PRIMERO = load_mapping("primero")


def test_primero_composite_names_split_latin_from_khmer() -> None:
    child = PRIMERO.inbound(primero_case(name_first="មករា (Makra)", name_last="ទេព (TEP)")).child
    assert child is not None
    names = child.names
    assert (names.given, names.given_km, names.family, names.family_km) == (
        "Makra",
        "មករា",
        "Tep",
        "ទេព",
    )


def test_primero_name_other_khmer_or_latin() -> None:
    child = PRIMERO.inbound(primero_case(name_other="ទេព ពិសិដ្ឋ")).child
    assert child is not None and child.names.full_km == "ទេព ពិសិដ្ឋ" and child.names.other == []
    child = PRIMERO.inbound(primero_case(name_other="Pisith")).child
    assert child is not None and child.names.full_km is None and child.names.other == ["Pisith"]


def test_oscar_khmer_in_latin_fields_falls_back_to_the_khmer_side() -> None:
    client = oscar_client(
        given_name="ស្រីពៅ", family_name="ចាន់", local_given_name="", local_family_name=""
    )
    child = OSCAR.inbound(client).child
    assert child is not None
    assert (child.names.given, child.names.family) == (None, None)
    assert (child.names.given_km, child.names.family_km) == ("ស្រីពៅ", "ចាន់")


def test_upper_case_family_names_are_folded() -> None:
    child = OSCAR.inbound(oscar_client(family_name="NOV")).child
    assert child is not None and child.names.family == "Nov"


def test_identifiers_for_linking() -> None:
    primero = PRIMERO.inbound(primero_case(oscar_number="01HV6Z3K9Q8W2C4N7M5R1T0YAB")).child
    assert primero is not None
    assert primero.record_id == primero.identifiers.primero_case_id
    assert primero.identifiers.oscar_global_id == "01HV6Z3K9Q8W2C4N7M5R1T0YAB"
    oscar = OSCAR.inbound(oscar_client(external_id="2f1c", external_id_display="0000001")).child
    assert oscar is not None
    assert oscar.record_id == oscar.identifiers.oscar_global_id == "01HV6Z3K9Q8W2C4N7M5R1T0YAB"
    assert (oscar.identifiers.primero_case_id, oscar.identifiers.primero_case_id_display) == (
        "2f1c",
        "0000001",
    )
    assert oscar.identifiers.mosvy_number is None  # OSCaR's "" is no value
    assert (oscar.organisation, primero.organisation) == ("cif", None)


def test_sex_from_both_systems() -> None:
    assert OSCAR.inbound(oscar_client(gender="lgbt")).child.sex == Sex.other
    assert OSCAR.inbound(oscar_client(gender="prefer_not_to_say")).child.sex == Sex.unknown
    assert PRIMERO.inbound(primero_case(sex=None)).child.sex is None


def test_caregivers_and_services_from_primero_subforms() -> None:
    case = primero_case(
        family_details_section=[
            {
                "unique_id": "f1",
                "relation_name": "Kong Sokhom",
                "relation": "Mother",
                "relation_is_caregiver": True,
            },
            {"unique_id": "f2", "relation_name": "ចាន់ ស្រីពៅ", "relation": "aunt"},
        ],
        services_section=[
            {
                "unique_id": "s1",
                "service_type": "kinship_care",
                "service_response_type": "referral_to_oscar",
                "referral_status_edf41f2": "pending_310366",
                "oscar_referral_id_a4ac8a5": 1193,
                "service_implementing_agency": "agency-cif",
            },
        ],
        owned_by_agency_id="agency-mosvy",
        consent_for_services=True,
        disclosure_other_orgs=True,
        consent_reporting="false",
        record_state=False,
    )
    child = PRIMERO.inbound(case, today=TODAY).child
    assert child is not None
    first, second = child.caregivers
    assert (first.name, first.name_km, first.relation, first.is_caregiver) == (
        "Kong Sokhom",
        None,
        "mother",
        True,
    )
    assert (second.name, second.name_km, second.relation) == ("ចាន់ ស្រីពៅ", "ចាន់ ស្រីពៅ", "aunt")
    [service] = child.services
    assert (service.service_type, service.source_name, service.status, service.referral_id) == (
        "family_based_care_kinship",
        "kinship_care",
        "pending",
        "1193",
    )
    assert service.response_type == "referral_to_oscar" and service.source_row_id == "s1"
    assert child.consent.allows_referral and child.consent.reporting is False
    assert child.disabled and child.organisation == "mosvy"


def test_oscar_referral_services_carry_their_status() -> None:
    services = [{"uuid": "u", "name": "Foster care", "referral_id": 7, "referral_status": "Exited"}]
    child = OSCAR.inbound(oscar_client(services=services)).child
    assert child is not None
    [service] = child.services
    assert (service.service_type, service.referral_id, service.status) == (
        "family_based_care_foster",
        "7",
        "rejected",
    )
