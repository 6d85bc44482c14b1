from __future__ import annotations

from datetime import date

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dedupe.comparisons import PairView, level_matrix, sibling_pattern
from dedupe.engine import Matcher
from dedupe.prepare import prepare
from dedupe.records import PersonRecord

names = st.one_of(
    st.none(),
    st.text(max_size=20),
    st.sampled_from(["Sok", "Srey Mom", "សុខា", "ពន្លឺ (Ponleu)", "KONG", "Dara-Vann", "  "]),
)
records = st.builds(
    PersonRecord,
    key=st.text(min_size=1, max_size=5),
    system=st.sampled_from(["primero", "oscar", "x"]),
    given=names,
    family=names,
    given_km=names,
    family_km=names,
    full_km=names,
    nickname=names,
    sex=st.one_of(st.none(), st.sampled_from(["female", "male", "other", "unknown", "F"])),
    birth_date=st.one_of(st.none(), st.dates(min_value=date(1, 1, 1))),
    birth_precision=st.sampled_from(["exact", "year", "estimated", "unknown", "bogus"]),
    location_code=st.one_of(st.none(), st.text(max_size=10), st.from_regex(r"[0-9]{1,9}")),
    caregivers=st.lists(names.filter(lambda x: x is not None), max_size=3).map(tuple),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(records, min_size=1, max_size=4))
def test_preparation_never_raises(batch: list[PersonRecord]) -> None:
    table = prepare(batch)
    assert len(table) == len(batch)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records, records)
def test_levels_and_sibling_pattern_are_symmetric(left: PersonRecord, right: PersonRecord) -> None:
    table = prepare([left, right])
    forward = PairView(table, np.array([0]), np.array([1]))
    backward = PairView(table, np.array([1]), np.array([0]))
    assert level_matrix(forward).tolist() == level_matrix(backward).tolist()
    assert sibling_pattern(forward).tolist() == sibling_pattern(backward).tolist()


_matcher: Matcher | None = None


def _fitted() -> Matcher:
    global _matcher
    if _matcher is None:
        from tests.dedupe.synthetic import population

        _matcher = Matcher()
        _matcher.fit(population()[0])
    return _matcher


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records, records)
def test_score_is_symmetric(left: PersonRecord, right: PersonRecord) -> None:
    matcher = _fitted()
    forward, _ = matcher.explain(left, right)
    backward, _ = matcher.explain(right, left)
    assert abs(forward - backward) < 1e-9
