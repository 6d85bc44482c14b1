"""Arbitrary JSON into the inbound mapper: it returns errors, it never raises."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.mapping import load_mapping
from tests.mapping.helpers import TODAY, oscar_client, primero_case

MAPPINGS = {kind: load_mapping(kind) for kind in ("primero", "oscar")}

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    st.sampled_from(["", "22012-01-01", "0000-00-00", "8030201", "មករា (Makra)", "no action"]),
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


def _fields(kind: str) -> list[str]:
    return sorted((primero_case() if kind == "primero" else oscar_client()).keys()) + [
        "name_other",
        "oscar_number",
        "referral_status",
        "services_section",
        "consent_reporting",
    ]


def record_like(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    """Records with the mapping's own field names but any values: reaches every transform."""
    base = primero_case() if kind == "primero" else oscar_client()
    return st.dictionaries(st.sampled_from(_fields(kind)), json_values, max_size=12).map(
        lambda changes: {**base, **changes}
    )


def _check(kind: str, payload: Any) -> None:
    result = MAPPINGS[kind].inbound(payload, today=TODAY)
    assert (result.child is None) == bool(result.errors)
    for issue in [*result.errors, *result.warnings]:
        assert issue.code != "internal", issue
        assert issue.pointer == "" or issue.pointer.startswith("/")


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(["primero", "oscar"]), payload=json_values)
def test_any_json_never_raises(kind: str, payload: Any) -> None:
    _check(kind, payload)


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), kind=st.sampled_from(["primero", "oscar"]))
def test_record_shaped_json_never_raises(data: st.DataObject, kind: str) -> None:
    _check(kind, data.draw(record_like(kind)))


def test_not_an_object_is_an_error() -> None:
    for payload in (None, [], "x", 3):
        result = MAPPINGS["oscar"].inbound(payload)
        assert [e.code for e in result.errors] == ["not_an_object"]
