"""The review-ceiling benchmark's counting: recall at a queue budget and the pattern oracle."""

from __future__ import annotations

import numpy as np

from bench.review_ceiling import Candidates, pattern_oracle, recall_at


def _candidates(is_true: list[bool], *, true_pairs: int, linked_true: int) -> Candidates:
    return Candidates(
        reviews=[],
        is_true=np.array(is_true),
        child=[str(n) for n in range(len(is_true))],
        true_pairs=true_pairs,
        linked_true=linked_true,
        records=100,
    )


def test_recall_counts_linked_pairs_and_the_true_pairs_in_the_top_of_the_queue() -> None:
    c = _candidates([True, False, True, True], true_pairs=10, linked_true=6)
    ranking = np.array([0.9, 0.8, 0.7, 0.1])
    recall, need = recall_at(c, ranking, budget=3)
    assert recall == 0.8  # 6 linked + the two true pairs among the top three
    assert need is None  # 9 of 10 at most: 0.97 is never reached


def test_queue_needed_for_the_target_is_the_position_of_the_pair_that_reaches_it() -> None:
    c = _candidates([False, True, False, True], true_pairs=34, linked_true=32)
    recall, need = recall_at(c, np.array([0.9, 0.8, 0.7, 0.6]), budget=1)
    assert recall == 32 / 34
    assert need == 2  # 33 / 34 = 0.9706 after the second pair
    assert recall_at(c, np.array([0.1, 0.9, 0.2, 0.8]), budget=2) == (1.0, 1)


def test_pattern_oracle_ranks_each_pair_by_its_patterns_true_share() -> None:
    patterns = [("exact",), ("exact",), ("different",), ("exact",)]
    shares = pattern_oracle(patterns, np.array([True, False, False, True]))
    assert np.allclose(shares, [2 / 3, 2 / 3, 0.0, 2 / 3])
