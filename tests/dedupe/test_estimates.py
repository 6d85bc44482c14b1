"""The engine's own estimates (``dedupe.estimates``): the arithmetic on hand-made cases, its
properties on arbitrary probabilities, and the figures on the shared dev corpus (with truth)
and on halves of it: the interval of unique children holds the true count, the estimated
precision is within 0.003 of the true one."""

from __future__ import annotations

import itertools
import random
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedupe.engine import Matcher
from dedupe.estimates import expected_children, id_pairs, tree_wrong, tree_wrong_pairs

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from bench.common import dev_corpus_dir, load_dev_corpus  # noqa: E402


def arr(*values: float) -> np.ndarray:
    return np.array(values, np.float64)


def ints(*values: int) -> np.ndarray:
    return np.array(values, np.int32)


def test_children_of_sure_and_impossible_pairs() -> None:
    assert expected_children(5, ints(), ints(), arr())[0] == 5
    # a sure pair is one child of two records; a triangle of sure pairs one child of three
    assert expected_children(5, ints(0), ints(1), arr(1.0))[0] == pytest.approx(4)
    tri = expected_children(3, ints(0, 0, 1), ints(1, 2, 2), arr(1.0, 1.0, 1.0))
    assert tri[0] == pytest.approx(1)
    assert expected_children(2, ints(0), ints(1), arr(0.0))[0] == 2


def test_a_doubtful_pair_counts_half_a_child() -> None:
    found, variance = expected_children(2, ints(0), ints(1), arr(0.5))
    assert found == pytest.approx(1.5)  # 0.5 x one child + 0.5 x two children
    assert variance == pytest.approx(0.25)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(2, 12).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(
                st.tuples(st.integers(0, n - 1), st.integers(0, n - 1), st.floats(0, 1)),
                max_size=30,
            ),
        )
    )
)
def test_children_lie_between_all_merged_and_none(case: tuple[int, list]) -> None:
    n, raw = case
    pairs = {(min(x, y), max(x, y)): p for x, y, p in raw if x != y}
    a = ints(*(x for x, _ in pairs))
    b = ints(*(y for _, y in pairs))
    p = arr(*pairs.values())
    found, variance = expected_children(n, a, b, p)
    assert 1 - 1e-9 <= found <= n + 1e-9
    assert 0 <= variance <= len(pairs) / 4 + 1e-9
    # more sure of every pair: never more children
    assert expected_children(n, a, b, np.minimum(p + 0.1, 1.0))[0] <= found + 1e-9


def test_a_doubtful_link_in_a_chain_makes_its_sides_wrong() -> None:
    # 0-1 sure, 1-2 doubtful (0.9), 0-2 weak: the tree is 0-1, 1-2; a wrong 1-2 link makes
    # records 0 and 1 wrong against 2: 2 pairs x 0.1
    edges = [(1.0, 0, 1), (0.9, 1, 2), (0.2, 0, 2)]
    assert tree_wrong_pairs([0, 1, 2], edges) == pytest.approx(0.2)
    assert tree_wrong_pairs([0], []) == 0
    # and one more child were it split: 0.1 of a link
    assert tree_wrong([0, 1, 2], edges) == pytest.approx((0.2, 0.1))


def test_two_ids_are_one_child_as_much_as_their_strongest_cross_pair() -> None:
    # rows 0, 1 are id 0; rows 2 is id 1; row 3 is id 2
    child = np.array([0, 0, 1, 2])
    a, b = ints(0, 1, 2, 0), ints(2, 2, 3, 1)
    found = id_pairs(child, a, b, arr(0.3, 0.8, 0.5, 0.9))
    pairs = list(zip(*(x.tolist() for x in found), strict=True))
    # the within-id pair (0, 1) is not an id pair; ids 0-1 take 0.8, ids 1-2 take 0.5
    assert pairs == [(0, 1, 0.8), (1, 2, 0.5)]


def _dev_estimate(keys_kept: set[str] | None = None):
    from dedupe.estimates import estimate, refits

    corpus = load_dev_corpus()
    records = [r for r in corpus.records if keys_kept is None or r.key in keys_kept]
    matcher = Matcher()
    plan = matcher.link(records)
    labels = {key: f"c{n}" for n, members in enumerate(plan.clusters) for key in members}
    fits = refits(records, matcher.settings, matcher.settings.estimate_refits)
    found = estimate(matcher, records, labels, other_fits=fits)
    pairs = [
        corpus.truth[x] == corpus.truth[y]
        for members in plan.clusters
        for x, y in itertools.combinations(members, 2)
    ]
    children = len({corpus.truth[r.key] for r in records})
    return found, sum(pairs) / len(pairs), children, corpus


needs_dev = pytest.mark.skipif(
    not (dev_corpus_dir() / "truth.csv").exists(), reason="dev corpus not available"
)


@needs_dev
@pytest.mark.slow
def test_dev_corpus_estimates_hold_the_truth() -> None:
    found, precision, children, _ = _dev_estimate()
    assert found.unique_children_low <= children <= found.unique_children_high
    assert abs(found.precision - precision) <= 0.003
    assert found.children > children  # the ids overstate; the estimate says by how much
    assert found.unique_children < found.children


@needs_dev
@pytest.mark.slow
def test_dev_corpus_halves_hold_the_truth() -> None:
    corpus = load_dev_corpus()
    kids = sorted(set(corpus.truth.values()))
    random.Random(1).shuffle(kids)
    for part in (0, 1):
        chosen = set(kids[part::2])
        keys = {k for k, child in corpus.truth.items() if child in chosen}
        found, _, children, _ = _dev_estimate(keys)
        assert children == len(chosen)
        assert found.unique_children_low <= children <= found.unique_children_high, part
        assert Counter(corpus.truth[k] for k in keys).total() == found.records
