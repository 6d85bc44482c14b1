"""The desk's worklist: the same items as `bridge review list`, urgent ones first, filters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bridge.helpdesk.worklist import WorkFilter, Worklists, build_worklist, select_work
from bridge.referrals.tables import REFERRAL, OutboxRow
from bridge.reports import open_reviews
from bridge.store.db import Store
from tests.helpdesk.factory import add_record, add_review, child_record


def filled(store: Store) -> dict[str, int | str]:
    a = add_record(store, child_record("primero", "p1", location="12010203"))
    b = add_record(store, child_record("oscar", "o1", "Dara", "Sokh", location="12010203"))
    c = add_record(store, child_record("oscar", "o2", "Vanna", "Chea", location="08030201"))
    add_record(store, child_record("oscar", "o3", "Dara", "Sok"), child_id=a)  # one child
    first = add_review(store, "primero:p1", "oscar:o1", 0.9)
    second = add_review(store, "oscar:o2", "primero:p1", 0.6)
    add_review(store, "primero:p1", "oscar:o3", 0.7)  # same child already: not worth asking
    with store.session() as session:
        session.add(
            OutboxRow(kind=REFERRAL, source_key="oscar:r1", source_system="oscar",
                      source_record_id="o2", child_id=c, state="pending")
        )  # fmt: skip
    return {"a": a, "b": b, "c": c, "first": first, "second": second}


def test_same_items_as_the_review_queue_in_the_engine_order(store: Store) -> None:
    filled(store)
    with store.session() as session:
        assert [i.id for i in build_worklist(session)] == [i.id for i in open_reviews(session)]


def test_a_pending_referral_puts_its_pair_first_and_filters_count(store: Store) -> None:
    ids = filled(store)
    with store.session() as session:
        items = build_worklist(session)
    kept, counts = select_work(items, WorkFilter())
    assert [i.id for i in kept] == [ids["second"], ids["first"]]
    assert kept[0].referral and not kept[1].referral
    kept, _ = select_work(items, WorkFilter(order="score"))
    assert [i.id for i in kept] == [ids["first"], ids["second"]]
    assert counts.total == 2 and counts.by_province["12"] == 2 and counts.by_province["08"] == 1
    kept, counts = select_work(items, WorkFilter(province="08"))
    assert [i.id for i in kept] == [ids["second"]] and counts.shown == 1
    assert not select_work(items, WorkFilter(min_score=0.95))[0]
    later = datetime.now(UTC) + timedelta(days=3)
    assert len(select_work(items, WorkFilter(older_than_days=2), now=later)[0]) == 2


def test_the_list_is_kept_until_the_store_changes(store: Store) -> None:
    ids = filled(store)
    lists = Worklists()
    with store.session() as session:
        first = lists.get(session)
        assert lists.get(session) is first
    third = add_review(store, "oscar:o1", "oscar:o2", 0.5)  # o2's child has a referral too
    with store.session() as session:
        again = lists.get(session)
        assert again is not first and len(again) == 3
        assert lists.next_after(session, ids["second"], WorkFilter()) == third
        assert lists.next_after(session, third, WorkFilter()) == ids["first"]


def test_a_decision_made_here_updates_the_list_without_reading_it_again(store: Store) -> None:
    from bridge.helpdesk.decide import decide
    from bridge.helpdesk.service import merge_review
    from bridge.helpdesk.worklist import store_version

    ids = filled(store)
    lists = Worklists()
    with store.session() as session:
        lists.get(session)
        before = store_version(session)
    decided = decide(
        store, lambda s: merge_review(s, int(ids["first"]), by="hana", reason="ticket 3")
    )
    with store.session() as session:
        assert lists.after_decision(
            session, before, int(ids["first"]), decided.result.decision_id,
            decided.result.involved,
        )  # fmt: skip
        patched = lists.get(session)  # current: not rebuilt
        assert patched is lists._items
        assert [i.id for i in patched] == [i.id for i in build_worklist(session)]
        # a list that was already out of date is not patched: the next get rebuilds it
        stale = Worklists()
        assert not stale.after_decision(session, before, 1, decided.result.decision_id)
