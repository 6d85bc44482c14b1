"""FastPairView computes exactly what PairView computes, at the same moment (the matching
model may change: the comparison is always against the current reference)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import dedupe.engine
import dedupe.pair_chunks
from dedupe.blocking import candidate_pairs
from dedupe.comparisons import PairView, level_matrix, sibling_pattern
from dedupe.engine import Matcher
from dedupe.fastpath import FastPairView
from dedupe.prepare import Prepared, prepare
from dedupe.records import PersonRecord

_FEATURES = (
    "_gg",
    "_ff",
    "_gf",
    "_fg",
    "swapped",
    "given_sim",
    "family_sim",
    "given_contained",
    "given_skeleton",
    "family_skeleton",
    "location_depth",
    "caregiver_sim",
    "has_home",
)


def _assert_same_view(table: Prepared, a: np.ndarray, b: np.ndarray) -> None:
    ref, fast = PairView(table, a, b), FastPairView(table, a, b)
    assert np.array_equal(level_matrix(ref), level_matrix(fast))
    assert np.array_equal(sibling_pattern(ref), sibling_pattern(fast))
    for name in _FEATURES:
        x, y = getattr(ref, name), getattr(fast, name)
        assert x.dtype == y.dtype and np.array_equal(x, y), name
    for x, y in zip(ref.dates(), fast.dates(), strict=True):
        assert np.array_equal(x, y)


def test_candidate_pairs_same_features(dev_table: Prepared) -> None:
    a, b = candidate_pairs(dev_table, 30)
    pick = np.random.default_rng(7).choice(len(a), min(len(a), 80_000), replace=False)
    _assert_same_view(dev_table, a[pick], b[pick])


def test_random_pairs_same_features(dev_table: Prepared) -> None:
    rng = np.random.default_rng(3)
    a, b = rng.integers(0, len(dev_table), (2, 30_000))
    _assert_same_view(dev_table, a, b)


def test_no_pairs(dev_table: Prepared) -> None:
    _assert_same_view(dev_table, np.zeros(0, np.int64), np.zeros(0, np.int64))


class _CountedPairView(PairView):
    """The reference ``PairView``, counting how often the engine builds one (in this process)."""

    built = 0

    def __init__(self, table: Prepared, a: np.ndarray, b: np.ndarray) -> None:
        type(self).built += 1
        super().__init__(table, a, b)


@pytest.fixture()
def reference_engine(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Turns the engine into the reference: every place it builds a ``FastPairView`` (the
    engine's own name ``PairView`` is FastPairView, and the chunked compare) builds the
    reference ``comparisons.PairView`` instead. Forked compare workers inherit the swap."""

    def swap() -> None:
        assert dedupe.engine.PairView is FastPairView, "the engine no longer uses FastPairView"
        assert dedupe.pair_chunks.FastPairView is FastPairView
        monkeypatch.setattr(dedupe.engine, "PairView", _CountedPairView)
        monkeypatch.setattr(dedupe.pair_chunks, "FastPairView", _CountedPairView)
        monkeypatch.setattr(dedupe.pair_chunks, "PairView", _CountedPairView)

    return swap


def test_dev_corpus_link_unchanged(
    dev_records: list[PersonRecord], reference_engine: Callable[[], None]
) -> None:
    fast = Matcher().link(dev_records)
    reference_engine()
    _CountedPairView.built = 0
    reference = Matcher().link(dev_records)
    assert _CountedPairView.built > 0, "the reference run never built the reference PairView"
    assert sorted(map(sorted, fast.clusters)) == sorted(map(sorted, reference.clusters))
    assert [(r.key_a, r.key_b, r.score) for r in fast.reviews] == [
        (r.key_a, r.key_b, r.score) for r in reference.reviews
    ]


_NAMES = ["Sok", "Sokha", "Dara", "Dary", "Srey Mom", "Sreymom", "Neang", "Sreyneang", "Chan"]
_records = st.builds(
    PersonRecord,
    key=st.uuids().map(str),
    system=st.sampled_from(["primero", "oscar"]),
    given=st.sampled_from(_NAMES) | st.text(max_size=8),
    family=st.sampled_from(_NAMES + ["", "សុខ (Sok)"]),
    nickname=st.sampled_from([None, "Neang", "Mom"]),
    sex=st.sampled_from(["female", "male", None]),
    birth_date=st.none() | st.dates(date(2008, 1, 1), date(2009, 12, 31)),
    birth_precision=st.sampled_from(["exact", "year"]),
    location_code=st.sampled_from([None, "12", "1214", "12140302", "12140303"]),
    caregivers=st.lists(
        st.sampled_from(["Kong Sokhom", "Kong Sokhum", "ចាន់ ដារា"]), max_size=3
    ).map(tuple),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(_records, min_size=2, max_size=12), st.data())
def test_any_records_same_features(records: list[PersonRecord], data: st.DataObject) -> None:
    table = prepare(records)
    rows = st.integers(0, len(records) - 1)
    pairs = data.draw(st.lists(st.tuples(rows, rows), min_size=1, max_size=40))
    a = np.array([p[0] for p in pairs])
    b = np.array([p[1] for p in pairs])
    _assert_same_view(table, a, b)
