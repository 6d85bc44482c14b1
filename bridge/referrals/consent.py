"""Minimisation: what leaves is only what the destination's allow-list names.

The allow-lists are declared beside the outbound mappings (``allowed = [...]`` in
``mappings/<system>.toml``); a nested field is named ``parent.child`` (e.g. ``services.name``).
The mapping builds only the fields it declares; this is the second lock on the door, so a
mapping edit that adds a field without adding it to the allow-list cannot leak it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

# Payload fields that hold personal data: masked in `bridge referrals show` unless --reveal.
PERSONAL_FIELDS = frozenset(
    {
        "given_name", "family_name", "local_given_name", "local_family_name", "date_of_birth",
        "location_current_village_code", "address_current_village_code", "reason_for_referral",
        "external_case_worker_name", "external_case_worker_mobile", "external_case_worker_id",
        "name_first", "name_last", "name", "location_current", "notes", "mosvy_number",
        "rejected_reason", "transitioned_by",
    }
)  # fmt: skip
MASK = "***"


def _keep(value: Any, allowed: frozenset[str], prefix: str) -> Any:
    if isinstance(value, dict):
        return {
            key: _keep(item, allowed, f"{prefix}{key}.")
            for key, item in value.items()
            if f"{prefix}{key}" in allowed
        }
    if isinstance(value, list):
        return [_keep(item, allowed, prefix) for item in value]
    return value


def minimise(body: dict[str, Any], allowed: Iterable[str]) -> dict[str, Any]:
    """``body`` (the payload inside its envelope) keeping only allow-listed fields."""
    return _keep(body, frozenset(allowed), "")


def mask(value: Any) -> Any:
    """A payload with every personal field's value replaced by ``***``."""
    if isinstance(value, dict):
        return {
            key: (MASK if key in PERSONAL_FIELDS and item not in (None, "") else mask(item))
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [mask(item) for item in value]
    return value
