"""Small builders shared by the mapping tests."""

from __future__ import annotations

from datetime import date
from typing import Any

from bridge.mapping.engine import default_mappings_dir
from bridge.mapping.issues import Collector
from bridge.mapping.transforms import REGISTRY, Context
from bridge.mapping.vocab import load_vocabularies

TODAY = date(2026, 11, 23)
VOCABULARIES = load_vocabularies(default_mappings_dir() / "vocab")


def run(
    name: str,
    value: Any = None,
    *,
    direction: str = "inbound",
    options: dict[str, Any] | None = None,
    **inputs: Any,
) -> tuple[Any, Collector]:
    """Run one registered transform on ``value`` (and other named inputs)."""
    transform = REGISTRY[name]
    issues = Collector()
    ctx = Context(direction, TODAY, issues, VOCABULARIES, "test")  # type: ignore[arg-type]
    ctx.pointers = {n: f"/{n}" for n in transform.inputs}
    if transform.inputs[0] == "value":
        inputs["value"] = value
    opts = transform.options.model_validate(options or {})
    return transform.fn(inputs, ctx, opts), issues


def primero_case(**fields: Any) -> dict[str, Any]:
    case: dict[str, Any] = {
        "id": "2f1c6a52-0000-4000-8000-000000000001",
        "case_id": "2f1c6a52-0000-4000-8000-000000000001",
        "case_id_display": "0000001",
        "name_first": "Dara",
        "name_last": "Sok",
        "sex": "male",
        "date_of_birth": "2014-03-09",
        "estimated": False,
        "age": 12,
        "location_current": "8030201",
        "risk_level": "medium",
        "status": "open",
        "record_state": True,
        "services_section": [],
        "family_details_section": [],
    }
    case.update(fields)
    return case


def oscar_client(**fields: Any) -> dict[str, Any]:
    client: dict[str, Any] = {
        "global_id": "01HV6Z3K9Q8W2C4N7M5R1T0YAB",
        "slug": "cif-1739",
        "external_id": "",
        "external_id_display": "",
        "mosvy_number": "",
        "given_name": "Sreypov",
        "family_name": "Chan",
        "local_given_name": "ស្រីពៅ",
        "local_family_name": "ចាន់",
        "gender": "female",
        "date_of_birth": "2014-03-09",
        "location_current_village_code": "08030201",
        "organization_name": "cif",
        "status": "Active",
        "level_of_risk": "medium",
        "services": [
            {
                "uuid": "5b0c0000-0000-4000-8000-000000000001",
                "name": "Kinship care",
                "enrollment_date": "2024-11-02",
            }
        ],
    }
    client.update(fields)
    return client
