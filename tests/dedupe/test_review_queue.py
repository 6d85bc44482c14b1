"""Review ranking: what a "same child" answer would imply for the records of both children."""

from __future__ import annotations

from dedupe.comparisons import SYSTEMS
from dedupe.review_queue import implied_bits, source_penalties

WEIGHTS = [0.0] * len(SYSTEMS.labels)
WEIGHTS[SYSTEMS.labels.index("different systems")] = 0.65
WEIGHTS[SYSTEMS.labels.index("same system, other organisation")] = -0.5
WEIGHTS[SYSTEMS.labels.index("same organisation")] = -2.3

SYSTEM = ["primero", "oscar", "primero", "oscar", "oscar"]
GROUP = ["primero|mosvy", "oscar|a", "primero|mosvy", "oscar|b", "oscar|a"]


def _members(children: list[list[int]]):
    of = {row: members for members in children for row in members}
    return lambda row: of[row]


def test_penalties_are_the_models_negative_systems_weights() -> None:
    assert source_penalties(WEIGHTS) == (-2.3, -0.5)
    positive = [1.0] * len(SYSTEMS.labels)
    assert source_penalties(positive) == (0.0, 0.0)


def test_two_single_records_imply_nothing_more() -> None:
    members = _members([[0], [1]])
    assert implied_bits(0, 1, members, SYSTEM, GROUP, (-2.3, -0.5)) == 0.0


def test_merging_two_children_that_each_hold_a_primero_case_costs_a_same_source_pair() -> None:
    # child {0 primero, 1 oscar a} and child {2 primero, 3 oscar b}: reviewing 1-2 implies
    # 0-2 (Primero twice: same organisation) and 1-3 (two OSCaR organisations)
    members = _members([[0, 1], [2, 3]])
    assert implied_bits(1, 2, members, SYSTEM, GROUP, (-2.3, -0.5)) == -2.3 - 0.5


def test_the_reviewed_pair_itself_is_not_counted_twice() -> None:
    members = _members([[1], [4]])  # two clients of organisation a
    assert implied_bits(1, 4, members, SYSTEM, GROUP, (-2.3, -0.5)) == 0.0


def test_implied_bits_are_symmetric() -> None:
    members = _members([[0, 1], [2, 3, 4]])
    for x, y in ((0, 2), (1, 3), (1, 4)):
        forward = implied_bits(x, y, members, SYSTEM, GROUP, (-2.3, -0.5))
        assert forward == implied_bits(y, x, members, SYSTEM, GROUP, (-2.3, -0.5))
