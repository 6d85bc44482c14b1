"""The sandbox Primero's case forms: what ``GET /api/v2/forms`` serves, and so which case and
subform keys are permitted (Primero drops every other key silently on create and update).

The fields are the contract's case fields (default configuration plus Cambodia's additions).
A select field names its option list as Primero does: ``"lookup lookup-<name>"``.
"""

from __future__ import annotations

from typing import Any

# (field name, Primero field type, option list or subform id or None)
FieldSpec = tuple[str, str, str | None]

_TEXT, _DATE, _NUMBER, _TICK, _SELECT, _SUBFORM = (
    "text_field", "date_field", "numeric_field", "tick_box", "select_box", "subform",
)  # fmt: skip

# (unique id, English name, Khmer name, nested?, fields)
FORMS: tuple[tuple[str, str, str, bool, tuple[FieldSpec, ...]], ...] = (
    ("record_owner", "Record Information", "ព័ត៌មានកំណត់ត្រា", False, (
        ("case_id", _TEXT, None),
        ("case_id_display", _TEXT, None),
        ("status", _SELECT, "lookup lookup-case-status"),
        ("workflow", _TEXT, None),
        ("registration_date", _DATE, None),
        ("owned_by", _TEXT, None),
        ("owned_by_agency_id", _TEXT, None),
        ("mark_synced", _TICK, None),
        ("mark_synced_url", _TEXT, None),
        ("mark_synced_status", _TEXT, None),
    )),
    ("basic_identity", "Basic Identity", "អត្តសញ្ញាណមូលដ្ឋាន", False, (
        ("name", _TEXT, None),
        ("name_first", _TEXT, None),
        ("name_middle", _TEXT, None),
        ("name_last", _TEXT, None),
        ("name_nickname", _TEXT, None),
        ("name_other", _TEXT, None),
        ("sex", _SELECT, "lookup lookup-gender"),
        ("date_of_birth", _DATE, None),
        ("age", _NUMBER, None),
        ("estimated", _TICK, None),
        ("nationality", _SELECT, None),
        ("national_id_no", _TEXT, None),
        ("location_current", _SELECT, "Location"),
        ("disability_type", _SELECT, None),
        ("oscar_number", _TEXT, None),
        ("oscar_short_id", _TEXT, None),
        ("oscar_status", _TEXT, None),
        ("mosvy_number", _TEXT, None),
    )),
    ("protection_concern_details", "Protection Concerns", "កង្វល់ការពារ", False, (
        ("risk_level", _SELECT, "lookup lookup-risk-level"),
        ("protection_concerns", _SELECT, "lookup lookup-protection-concerns"),
    )),
    ("consent", "Consent", "ការយល់ព្រម", False, (
        ("consent_for_services", _TICK, None),
        ("disclosure_other_orgs", _TICK, None),
        ("consent_reporting", _SELECT, None),
        ("consent_overridden", _TICK, None),
    )),
    ("family_details", "Family Details", "ព័ត៌មានគ្រួសារ", False, (
        ("family_details_section", _SUBFORM, "family_details_section"),
    )),
    ("services", "Services", "សេវា", False, (
        ("services_section", _SUBFORM, "services_section"),
    )),
    ("family_details_section", "Family Member", "សមាជិកគ្រួសារ", True, (
        ("relation_name", _TEXT, None),
        ("relation", _SELECT, "lookup lookup-family-relationship"),
        ("relation_is_caregiver", _TICK, None),
        ("relation_age", _NUMBER, None),
        ("relation_date_of_birth", _DATE, None),
        ("relation_sex", _SELECT, "lookup lookup-gender"),
        ("relation_location_current", _SELECT, "Location"),
        ("relation_telephone", _TEXT, None),
    )),
    ("services_section", "Service", "សេវា", True, (
        ("service_type", _SELECT, "lookup lookup-service-type"),
        ("service_response_type", _SELECT, "lookup lookup-service-response-type"),
        ("service_implementing_agency", _TEXT, None),
        ("service_implementing_agency_individual", _TEXT, None),
        ("service_referral_notes", _TEXT, None),
        ("service_implemented", _TEXT, None),
        ("service_status_referred", _TICK, None),
        ("service_appointment_date", _DATE, None),
        ("referral_status_edf41f2", _SELECT, "lookup lookup-service-referral-status"),
        ("oscar_referral_id_a4ac8a5", _TEXT, None),
    )),
)  # fmt: skip

SUBFORM_KEYS: dict[str, frozenset[str]] = {
    unique_id: frozenset(name for name, _, _ in fields) | {"unique_id", "_destroy"}
    for unique_id, _, _, nested, fields in FORMS
    if nested
}
CASE_KEYS: frozenset[str] = frozenset(
    name for _, _, _, nested, fields in FORMS if not nested for name, _, _ in fields
)


def permitted(data: dict[str, Any]) -> dict[str, Any]:
    """The keys of a case ``data`` that Primero keeps; subform rows lose unknown keys too."""
    kept: dict[str, Any] = {}
    for key, value in data.items():
        if key not in CASE_KEYS:
            continue
        if key in SUBFORM_KEYS and isinstance(value, list):
            allowed = SUBFORM_KEYS[key]
            value = [
                {k: v for k, v in row.items() if k in allowed} if isinstance(row, dict) else row
                for row in value
            ]
        kept[key] = value
    return kept


def _field(name: str, kind: str, source: str | None, nested_ids: set[str]) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": name,
        "type": kind,
        "display_name": {"en": name.replace("_", " ").capitalize()},
        "option_strings_source": None,
        "subform_section_unique_id": None,
    }
    if kind == _SUBFORM and source in nested_ids:
        entry["subform_section_unique_id"] = source
    elif source is not None:
        entry["option_strings_source"] = source
    return entry


def forms_payload() -> dict[str, Any]:
    """The body of ``GET /api/v2/forms``: every case form section with its fields."""
    nested_ids = {unique_id for unique_id, _, _, nested, _ in FORMS if nested}
    data = [
        {
            "id": number,
            "unique_id": unique_id,
            "name": {"en": name_en, "km": name_km},
            "parent_form": "case",
            "module_ids": ["primeromodule-cp"],
            "visible": not nested,
            "is_nested": nested,
            "fields": [_field(n, k, s, nested_ids) for n, k, s in fields],
        }
        for number, (unique_id, name_en, name_km, nested, fields) in enumerate(FORMS, start=1)
    ]
    return {"data": data, "metadata": {"total": len(data), "per": len(data), "page": 1}}
