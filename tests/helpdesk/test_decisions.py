"""Decisions on a store filled by hand: merge, distinct, split, undo, and their audit rows."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from bridge.children import resolve
from bridge.helpdesk import (
    HelpdeskError,
    list_audit,
    mark_distinct,
    merge_children_decision,
    merge_review,
    review_queue,
    show_child,
    split_child,
    undo_decision,
)
from bridge.linking import Linker
from bridge.store.schema import AuditRow, ChildRow, DecisionRow, LinkRow, ReviewItemRow
from tests.helpdesk.factory import add_record, add_review, child_of, child_record


@pytest.fixture
def filled(store):
    """Two records of one child in two systems (separate children), plus a third child."""
    a = add_record(store, child_record("primero", "p1", ids={"primero_case_id": "c1"}))
    b = add_record(store, child_record("oscar", "o1", "Dara", "Sokh"))
    c = add_record(store, child_record("oscar", "o2", "Vanna", "Chea", km=None))
    review = add_review(store, "primero:p1", "oscar:o1", 0.71)
    other = add_review(store, "oscar:o2", "primero:p1", 0.55)
    return store, {"a": a, "b": b, "c": c, "review": review, "other": other}


def test_merge_keeps_older_id_and_old_id_resolves(filled) -> None:
    store, ids = filled
    with store.session() as session:
        result = merge_review(session, ids["review"], by="sokha", reason="same mother, same DOB")
    assert child_of(store, "oscar:o1") == ids["a"] == child_of(store, "primero:p1")
    with store.session() as session:
        assert resolve(session, ids["b"]).child_id == ids["a"]
        view = show_child(session, ids["b"], by="sokha")
        assert view.child_id == ids["a"] and len(view.columns) == 2
        links = session.scalars(select(LinkRow)).all()
        assert {link.method for link in links if link.child_id == ids["a"]} == {"human"}
        assert session.get(ReviewItemRow, ids["review"]).state == "resolved"
        must, cannot = Linker.constraints(session)
        assert must == [("oscar:o1", "primero:p1")] and cannot == []
    assert result.children == [ids["a"]]


def test_distinct_is_never_suggested_again(filled) -> None:
    store, ids = filled
    with store.session() as session:
        mark_distinct(session, ids["other"], by="sokha", reason="different villages")
        queue = [q.id for q in review_queue(session)]
        _, cannot = Linker.constraints(session)
    assert ids["other"] not in queue and ids["review"] in queue
    assert cannot == [("oscar:o2", "primero:p1")]


def test_split_gives_a_fresh_id_and_undo_restores(filled) -> None:
    store, ids = filled
    with store.session() as session:
        merge_children_decision(session, ids["a"], ids["c"], by="sokha", reason="ticket 12")
    with store.session() as session:
        split = split_child(session, ids["a"], ["oscar:o2"], by="dara", reason="wrong merge")
    fresh = child_of(store, "oscar:o2")
    assert fresh not in (ids["a"], ids["b"], ids["c"])
    assert child_of(store, "primero:p1") == ids["a"]
    with store.session() as session:
        with pytest.raises(HelpdeskError, match="later decision"):
            undo_decision(session, 1, by="dara", reason="oops")
        undo_decision(session, split.decision_id, by="dara", reason="split was wrong")
    assert child_of(store, "oscar:o2") == ids["a"]
    with store.session() as session:
        assert resolve(session, fresh).child_id == ids["a"]  # the split id is an alias now
        undo_decision(session, 1, by="dara", reason="merge was wrong too")
    assert child_of(store, "oscar:o2") == ids["c"]
    with store.session() as session:
        assert session.get(ChildRow, ids["c"]).state == "active"
        assert Linker.constraints(session) == ([], [])
        with pytest.raises(HelpdeskError, match="already undone"):
            undo_decision(session, 1, by="dara", reason="again")


def test_undo_of_merge_reopens_the_review(filled) -> None:
    store, ids = filled
    with store.session() as session:
        merge = merge_review(session, ids["review"], by="sokha", reason="same child")
    with store.session() as session:
        undo = undo_decision(session, merge.decision_id, by="sokha", reason="mistake")
        assert session.get(ReviewItemRow, ids["review"]).state == "open"
        assert resolve(session, ids["b"]).child_id == ids["b"]
        assert sorted(undo.children) == sorted([ids["a"], ids["b"]])
        with pytest.raises(HelpdeskError, match="itself an undo"):
            undo_decision(session, undo.decision_id, by="sokha", reason="x")


@pytest.mark.parametrize(("by", "reason"), [(None, "r"), ("x", None), ("  ", "r"), ("x", "")])
def test_decision_without_by_or_reason_is_refused(filled, by, reason) -> None:
    store, ids = filled
    with store.session() as session, pytest.raises(HelpdeskError, match="required"):
        merge_review(session, ids["review"], by=by, reason=reason)
    with store.session() as session:
        assert session.scalars(select(DecisionRow)).all() == []


def test_refusals_name_the_problem(filled) -> None:
    store, ids = filled
    with store.session() as session:
        merge_review(session, ids["review"], by="s", reason="r")
    with store.session() as session:
        with pytest.raises(HelpdeskError, match="resolved"):
            mark_distinct(session, ids["review"], by="s", reason="r")
        with pytest.raises(HelpdeskError, match="keep no record"):
            split_child(session, ids["a"], ["p1", "o1"], by="s", reason="r")
        with pytest.raises(HelpdeskError, match="not in child"):
            split_child(session, ids["a"], ["o2"], by="s", reason="r")
        with pytest.raises(HelpdeskError, match="already the same child"):
            merge_children_decision(session, ids["a"], ids["b"], by="s", reason="r")


def test_every_decision_and_view_is_audited_without_personal_data(filled) -> None:
    store, ids = filled
    with store.session() as session:
        merge_review(session, ids["review"], by="sokha", reason="ticket 7")
        show_child(session, ids["a"], by="auditor")
        mark_distinct(session, ids["other"], by="dara", reason="ticket 8")
    with store.session() as session:
        mine = list_audit(session, child_id=ids["b"])  # an alias finds the survivor's rows
        assert {e.action for e in mine} >= {"merge", "view_child", "distinct"}
        assert [e.action for e in list_audit(session, actor="auditor")] == ["view_child"]
        text_of_all = repr([e.as_dict() for e in list_audit(session)])
    for personal in ("Dara", "Sok", "2015", "សុខ", "Vanna"):
        assert personal not in text_of_all


def test_audit_log_is_append_only(filled) -> None:
    store, ids = filled
    with store.session() as session:
        show_child(session, ids["a"], by="auditor")
    for statement in ("UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), store.session() as session:
            session.execute(text(statement))
    with store.session() as session:
        assert session.scalars(select(AuditRow.actor)).all() == ["auditor"]
