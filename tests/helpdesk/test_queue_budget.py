"""The review queue is one best-first list within the helpdesk's budget, across syncs."""

from __future__ import annotations

from sqlalchemy import select

from bridge.linking import trim_review_queue, upsert_review
from bridge.reports import open_reviews
from bridge.store.schema import ReviewItemRow
from dedupe.engine import ReviewPair

from .factory import add_record, add_review, child_record


def _states(store) -> dict[tuple[str, str], str]:
    with store.session() as session:
        return {(r.key_a, r.key_b): r.state for r in session.scalars(select(ReviewItemRow))}


def test_items_beyond_the_budget_become_stale_lowest_first(store) -> None:
    for n in range(4):
        add_record(store, child_record("oscar", f"o{n}"))
    add_review(store, "oscar:o0", "oscar:o1", 0.9)
    add_review(store, "oscar:o1", "oscar:o2", 0.3)
    add_review(store, "oscar:o2", "oscar:o3", 0.6)
    with store.session() as session:
        assert trim_review_queue(session, 2) == 1
    states = _states(store)
    assert states[("oscar:o1", "oscar:o2")] == "stale"
    assert states[("oscar:o0", "oscar:o1")] == states[("oscar:o2", "oscar:o3")] == "open"
    with store.session() as session:
        assert trim_review_queue(session, 2) == 0  # nothing more to do


def test_a_pair_already_in_one_child_takes_no_room(store) -> None:
    child = add_record(store, child_record("oscar", "o0"))
    add_record(store, child_record("oscar", "o1"), child)  # same child as o0
    add_record(store, child_record("oscar", "o2"))
    add_review(store, "oscar:o0", "oscar:o1", 0.9)  # moot: already one child
    add_review(store, "oscar:o1", "oscar:o2", 0.5)
    with store.session() as session:
        assert trim_review_queue(session, 1) == 0
        assert [(i.key_a, i.key_b) for i in open_reviews(session)] == [("oscar:o1", "oscar:o2")]


def test_a_stale_pair_proposed_again_is_reopened(store) -> None:
    add_record(store, child_record("oscar", "o0"))
    add_record(store, child_record("oscar", "o1"))
    add_review(store, "oscar:o0", "oscar:o1", 0.4)
    with store.session() as session:
        trim_review_queue(session, 0)
    assert _states(store)[("oscar:o0", "oscar:o1")] == "stale"
    with store.session() as session:
        upsert_review(session, ReviewPair("oscar:o1", "oscar:o0", 0.8, ()), reopen_stale=True)
    assert _states(store)[("oscar:o0", "oscar:o1")] == "open"
