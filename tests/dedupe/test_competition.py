"""Competition between candidates of the same system/organisation (dedupe/competition.py)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dedupe.cluster import Clusterer
from dedupe.competition import (
    CONTESTED,
    DOMINATED,
    NONE,
    UNCONTESTED,
    adjust_prob,
    compete,
    group_of,
)
from dedupe.settings import MatchSettings

SETTINGS = MatchSettings()
# rows 0: an OSCaR client; 1, 2: two Primero cases; 3: a client of another organisation
GROUPS = [group_of("oscar", "fi"), group_of("primero", "mosvy"), group_of("primero", "mosvy")]
GROUPS.append(group_of("oscar", "tpo"))


def _race(pairs: list[tuple[int, int, float]], labels: list[str | None] | None = None):
    a = np.array([p[0] for p in pairs])
    b = np.array([p[1] for p in pairs])
    prob = np.array([p[2] for p in pairs])
    return compete(a, b, prob, GROUPS, labels or [None] * len(GROUPS), SETTINGS)


def test_lone_candidate_gains_and_beaten_namesake_loses() -> None:
    race = _race([(0, 1, 0.6), (0, 2, 0.05)])
    assert race.state == [UNCONTESTED, DOMINATED]
    assert race.bits[0] == SETTINGS.competition_bonus
    assert race.bits[1] == -SETTINGS.competition_penalty
    adjusted = race.adjusted(np.array([0.6, 0.05]))
    assert adjusted[0] > 0.6 and adjusted[1] < 0.05


def test_two_similar_candidates_are_contested() -> None:
    race = _race([(0, 1, 0.6), (0, 2, 0.55)])
    assert race.state[0] == CONTESTED
    assert race.bits[0] == 0.0


def test_candidates_in_other_organisations_do_not_compete() -> None:
    # 1 is a Primero case; clients 0 and 3 are in different organisations: no rivalry
    race = _race([(0, 1, 0.6), (3, 1, 0.6)])
    assert race.state == [UNCONTESTED, UNCONTESTED]


def test_same_child_does_not_compete_with_itself() -> None:
    # cases 1 and 2 already carry the same child label: both are the client's child
    race = _race([(0, 1, 0.6), (0, 2, 0.6)], labels=[None, "c1", "c1", None])
    assert race.state == [UNCONTESTED, UNCONTESTED]
    # or are linked to each other above the upper threshold in this batch
    race = _race([(0, 1, 0.6), (0, 2, 0.6), (1, 2, 0.99)])
    assert race.state[:2] == [UNCONTESTED, UNCONTESTED]


def test_weak_pairs_take_no_part() -> None:
    race = _race([(0, 1, 0.6), (0, 2, 0.001)])
    assert race.state == [UNCONTESTED, NONE]


def test_switched_off() -> None:
    off = MatchSettings(competition=False)
    race = compete(np.array([0]), np.array([1]), np.array([0.5]), GROUPS, [None] * 4, off)
    assert race.state == [NONE] and race.bits[0] == 0.0


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 3), st.integers(0, 3), st.floats(0.0, 1.0)),
        max_size=12,
    )
)
def test_adjustment_is_bounded_and_order_free(pairs: list[tuple[int, int, float]]) -> None:
    pairs = [(x, y, p) for x, y, p in pairs if x != y]
    race = _race(pairs)
    allowed = {0.0, SETTINGS.competition_bonus, -SETTINGS.competition_penalty}
    assert set(race.bits.tolist()) <= allowed
    prob = np.array([p for _, _, p in pairs])
    adjusted = adjust_prob(prob, race.bits)
    assert np.all((adjusted >= 0) & (adjusted <= 1))
    # the same pairs in reverse order get the same adjustment
    back = _race(pairs[::-1])
    assert back.bits[::-1].tolist() == race.bits.tolist()


def test_same_source_records_need_a_strong_link() -> None:
    groups = ["primero|", "primero|", "oscar|fi"]
    scores = {(0, 1): (0.5, False), (0, 2): (0.99, False), (1, 2): (0.99, False)}
    cl = Clusterer(0.05, lambda xs, ys: [(0.0, False)] * len(xs), scores=dict(scores))
    cl.group, cl.same_source = groups, 0.9
    for node in range(3):
        cl.add_node(node)
    assert cl.join_scored(0, 2)
    assert not cl.join_scored(1, 2)  # two Primero cases that barely match: two children
    loose = Clusterer(0.05, lambda xs, ys: [(0.0, False)] * len(xs), scores=dict(scores))
    for node in range(3):
        loose.add_node(node)
    assert loose.join_scored(0, 2) and loose.join_scored(1, 2)
