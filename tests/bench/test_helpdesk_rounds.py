"""The helpdesk-rounds benchmark proposes only pairs nobody answered, across two children."""

from __future__ import annotations

from bench.helpdesk_rounds import next_queue
from dedupe.engine import LinkPlan, ReviewPair


def _review(a: str, b: str, score: float) -> ReviewPair:
    return ReviewPair(key_a=a, key_b=b, score=score, evidence=())


def test_next_queue_skips_answered_and_already_linked_pairs_best_first() -> None:
    plan = LinkPlan(
        clusters=[["p:1", "o:1"], ["o:2"], ["o:3"], ["o:4"]],
        reviews=[
            _review("p:1", "o:1", 0.9),  # linked meanwhile
            _review("o:2", "p:1", 0.8),  # answered before, in the other order
            _review("o:3", "o:4", 0.3),
            _review("o:2", "o:3", 0.5),
            _review("o:2", "o:4", 0.2),
        ],
    )
    queue = next_queue(plan, {("o:2", "p:1"): False}, budget=2)
    assert [(r.key_a, r.key_b) for r in queue] == [("o:2", "o:3"), ("o:3", "o:4")]
