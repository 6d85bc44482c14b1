"""Primero case listing (paging, order, filters with their quirks) and field validation."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from datetime import date

from bridge.sandbox.primero_state import CASE_STATUSES, RISK_LEVELS, SEXES, PrimeroState

MAX_PER = 1000
IDENTIFIERS = (
    "id", "case_id", "case_id_display", "short_id", "unique_identifier", "oscar_number",
    "national_id_no", "mosvy_number",
)  # fmt: skip
EQUALITY = (
    "status", "sex", "risk_level", "workflow", "owned_by", "owned_by_agency_id",
    "location_current",
)  # fmt: skip
TIMESTAMPS = ("last_updated_at", "created_at")
DATES = ("registration_date", "date_of_birth")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_STAMP = re.compile(
    r"^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}:\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$"
)

Predicate = Callable[[dict], bool]


class Malformed(ValueError):
    """A filter value Primero cannot parse: it answers 200 with no data."""


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default


def _bound(text: str, upper: bool) -> str:
    """A range bound as 'YYYY-MM-DDTHH:MM:SS' (whole seconds; the time zone is ignored)."""
    m = _STAMP.match(text.strip())
    if not m:
        raise Malformed(text)
    day, clock = m.group(1), m.group(2)
    try:
        date.fromisoformat(day)
    except ValueError as exc:
        raise Malformed(text) from exc
    return f"{day}T{clock or ('23:59:59' if upper else '00:00:00')}"


def _range(key: str, value: str, width: int) -> Predicate:
    low_text, sep, high_text = value.partition("..")
    if not sep:
        low_text = high_text = value
    if not low_text and not high_text:
        raise Malformed(value)
    low = _bound(low_text, False)[:width] if low_text else None
    high = _bound(high_text, True)[:width] if high_text else None

    def check(case: dict) -> bool:
        stored = case.get(key)
        if not isinstance(stored, str) or len(stored) < width:
            return False
        stamp = stored[:width].replace(" ", "T")
        return (low is None or stamp >= low) and (high is None or stamp <= high)

    return check


def _one_of(key: str, value: str) -> Predicate:
    wanted = {v for v in value.split(",") if v != ""}
    return lambda case: str(case.get(key)) in wanted if case.get(key) is not None else False


def _filters(query: dict[str, str]) -> list[Predicate]:
    predicates: list[Predicate] = []
    for key, value in query.items():
        if key in TIMESTAMPS:
            predicates.append(_range(key, value, 19))
        elif key in DATES:
            predicates.append(_range(key, value, 10))
        elif key in IDENTIFIERS or key in EQUALITY:
            predicates.append(_one_of(key, value))
        elif key == "record_state":
            if value not in ("true", "false"):
                raise Malformed(value)
            wanted = value == "true"
            predicates.append(lambda case, w=wanted: bool(case.get("record_state", True)) == w)
        # anything else is not a permitted filter: ignored silently, as Primero does
    return predicates


def list_cases(state: PrimeroState, query: dict[str, str]) -> dict:
    """The body of GET /api/v2/cases; call with state.lock held."""
    per = min(max(_int(query.get("per"), 20), 1), MAX_PER)  # silently capped
    page = max(_int(query.get("page"), 1), 1)
    try:
        predicates = _filters(query)
    except Malformed:
        return {"data": [], "metadata": {"total": 0, "per": per, "page": page}}
    matching = [c for c in state.cases.values() if all(p(c) for p in predicates)]
    order_by = query.get("order_by") or "created_at"
    descending = (query.get("order") or "desc").lower() != "asc"
    matching.sort(
        key=lambda c: (str(c.get(order_by) or ""), state.sequence(c["id"])), reverse=descending
    )
    chunk = matching[(page - 1) * per : page * per]
    fields = [f for f in (query.get("fields") or "").split(",") if f]
    if fields:
        keep = set(fields) | {"id"}
        chunk = [{k: v for k, v in c.items() if k in keep} for c in chunk]
    return {"data": chunk, "metadata": {"total": len(matching), "per": per, "page": page}}


DEFAULT_OPTIONS: dict[str, Collection[str]] = {
    "sex": SEXES,
    "risk_level": RISK_LEVELS,
    "status": CASE_STATUSES,
}


def validate_case(
    data: dict, resource: str, today: date, options: Mapping[str, Collection[str]] | None = None
) -> list[dict]:
    """Per-field 422 errors for bad lookup values and types (no personal values echoed).

    ``options``: the values each select field accepts (its lookup); the defaults otherwise."""
    errors: list[dict] = []

    def bad(field: str, message: str) -> None:
        errors.append({"status": 422, "resource": resource, "detail": field, "message": [message]})

    for field, allowed in {**DEFAULT_OPTIONS, **(options or {})}.items():
        if field in data and data[field] is not None and data[field] not in allowed:
            bad(field, "is not a valid option")
    if "date_of_birth" in data and data["date_of_birth"] not in (None, ""):
        dob = data["date_of_birth"]
        m = _DATE.match(dob) if isinstance(dob, str) else None
        try:
            parsed = date.fromisoformat(dob) if m else None
        except ValueError:
            parsed = None
        if parsed is None:
            bad("date_of_birth", "is not a valid date (YYYY-MM-DD)")
        elif parsed > today:
            bad("date_of_birth", "cannot be in the future")
    for field in ("consent_for_services", "disclosure_other_orgs", "estimated"):
        if field in data and data[field] is not None and not isinstance(data[field], bool):
            bad(field, "must be true or false")
    for field in ("services_section", "family_details_section"):
        value = data.get(field)
        if value is not None and (
            not isinstance(value, list)
            or not all(isinstance(r, dict) for r in value)
            or not all(isinstance(r.get("unique_id", ""), str) for r in value)
        ):
            bad(field, "must be a list of rows")
    return errors
