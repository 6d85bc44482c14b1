from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.errors import ConfigError
from bridge.referrals.consent import mask, minimise
from bridge.referrals.delivery import backoff
from bridge.referrals.routing import Route, load_routing, parse_routing
from tests.referrals import helpers as h


@pytest.mark.parametrize(
    ("source", "agency", "service", "province", "expected"),
    [
        ("primero", "cif", "legal_support", "12", ("oscar", "cif")),  # named agency first
        ("primero", None, "legal_support", "12", ("oscar", "dt")),  # service + province
        ("primero", None, "legal_support", "08", ("oscar", "tpo")),  # default
        ("oscar", None, "counselling", "08", ("primero", "mosvy")),
    ],
)
def test_route_order(source, agency, service, province, expected) -> None:
    route = h.routing().route(source, agency, service, province)
    assert isinstance(route, Route) and (route.system, route.organisation) == expected


def test_no_rule_holds_with_a_reason() -> None:
    routing = parse_routing({"rules": [{"from": "oscar", "to": "primero", "organisation": "m"}]})
    held = routing.route("primero", None, "legal_support", "12")
    assert isinstance(held, str) and "no routing rule" in held and "[[referrals.rules]]" in held


def test_load_routing_reads_the_config_file(tmp_path: Path) -> None:
    file = tmp_path / "bridge.toml"
    file.write_text(
        '[referrals]\nmax_attempts = 3\n[[referrals.rules]]\nto = "oscar"\norganisation = "cif"\n'
    )
    routing = load_routing(file)
    assert routing.max_attempts == 3 and routing.rules[0].organisation == "cif"
    assert load_routing(None).rules == []
    file.write_text('[[referrals.rules]]\nto = "mars"\norganisation = "x"\n')
    with pytest.raises(ConfigError, match="rule 1"):
        load_routing(file)


def test_backoff_grows_and_honours_retry_after() -> None:
    routing = parse_routing({"backoff_initial_seconds": 1, "backoff_max_seconds": 60})
    assert 1 <= backoff(routing, 1, None) <= 2
    assert 8 <= backoff(routing, 4, None) <= 9
    assert backoff(routing, 1, 30) >= 30


text = st.text(max_size=8)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=4),
    max_leaves=20,
)


def _paths(value, prefix=""):
    if isinstance(value, dict):
        for key, item in value.items():
            yield f"{prefix}{key}"
            yield from _paths(item, f"{prefix}{key}.")
    elif isinstance(value, list):
        for item in value:
            yield from _paths(item, prefix)


@given(st.dictionaries(text, json_values, max_size=6), st.sets(text, max_size=6))
def test_minimise_keeps_only_allowed_fields(body, allowed) -> None:
    kept = minimise(body, allowed)
    assert set(_paths(kept)) <= allowed


@given(st.dictionaries(text, json_values, max_size=6))
def test_mask_never_shows_a_personal_value(body) -> None:
    body = {**body, "given_name": "Dara", "date_of_birth": "2014-03-09"}
    shown = str(mask(body))
    assert "Dara" not in shown or "Dara" in str(
        {k: v for k, v in body.items() if k != "given_name"}
    )


@given(st.text(max_size=10), st.text(max_size=10) | st.none(), st.text(max_size=3) | st.none())
def test_route_never_raises(agency, service, province) -> None:
    result = h.routing().route("primero", agency or None, service, province)
    assert isinstance(result, Route | str)
