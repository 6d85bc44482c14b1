"""Whatever a client sends, the sandbox answers with the contract's shapes, never a crash."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from bridge.sandbox.generator import generate
from bridge.sandbox.oscar_state import OscarState
from bridge.sandbox.oscar_upsert import upsert
from bridge.sandbox.primero_cases import list_cases, validate_case
from bridge.sandbox.primero_state import PrimeroState

_STATE = PrimeroState("u", "p")
for _case in generate(40, 1).primero_cases:
    _STATE.add_case(_case)

KEYS = st.sampled_from(
    ["page", "per", "order", "order_by", "last_updated_at", "created_at", "id", "sex",
     "record_state", "fields", "date_of_birth", "whatever"]
)  # fmt: skip
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(KEYS, st.text(max_size=30), max_size=5))
def test_any_case_query_gives_the_list_envelope(query: dict[str, str]) -> None:
    body = list_cases(_STATE, query)
    assert set(body) == {"data", "metadata"}
    meta = body["metadata"]
    assert 1 <= meta["per"] <= 1000 and meta["page"] >= 1
    assert len(body["data"]) <= min(meta["per"], meta["total"])
    json.dumps(body)


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            ["sex", "date_of_birth", "risk_level", "status", "services_section", "estimated"]
        ),
        JSONISH,
    )
)
def test_validation_never_crashes(data: dict) -> None:
    from datetime import date

    errors = validate_case(data, "/api/v2/cases/x", date(2026, 11, 1))
    for error in errors:
        assert error["status"] == 422 and error["detail"] in data
    if not errors:  # what passes validation must also merge and store
        state = PrimeroState("u", "p")
        case = state.add_case({})
        state.update_case(case["id"], data)


@settings(max_examples=150, deadline=None)
@given(
    JSONISH
    | st.fixed_dictionaries(
        {
            "organization": st.dictionaries(
                st.sampled_from(
                    [
                        "organization_name",
                        "global_id",
                        "external_id",
                        "services",
                        "level_of_risk",
                        "reason_for_referral",
                        "is_referred",
                    ]
                ),
                JSONISH,
            )
        }
    )
)
def test_upsert_answers_200_404_or_422(body: object) -> None:
    state = OscarState("e", "p")
    response = upsert(state, body)
    assert response.status in (200, 404, 422)
    assert isinstance(json.loads(response.body), dict)
