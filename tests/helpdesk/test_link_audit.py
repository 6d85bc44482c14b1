"""Audits of automatic links (`bridge review sample --links N`): a random sample of linked pairs
in the queue, answered like any pair, giving a measured precision with a Wilson interval."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from typer.testing import CliRunner

from bridge.helpdesk.link_audit import audited_precision, sample_links, wilson
from bridge.helpdesk.queue import review_queue
from bridge.helpdesk.service import mark_distinct, merge_review, undo_decision
from bridge.linking import trim_review_queue
from bridge.reports import open_reviews, status_estimates
from bridge.store.schema import AUDIT, MatchConstraintRow, ModelParamsRow, ReviewItemRow
from dedupe.comparisons import COMPARISONS
from dedupe.weights import ModelParams

from .factory import add_record, child_of, child_record


def _model() -> ModelParams:
    """Agreement likely for the same child, disagreement for others (no fit needed)."""
    m, u = [], []
    for c in COMPARISONS:
        n = len(c.labels) - 1
        down = 0.5 ** np.arange(n)
        m.append([0.0, *(down / down.sum()).tolist()])
        u.append([0.0, *(down[::-1] / down.sum()).tolist()])
    return ModelParams(m=m, u=u, prior=0.01)


def _three_and_two(store) -> tuple[str, str]:
    """Child A: o0, o1 (alike) and o2 (another name); child B: o3, o4."""
    a = add_record(store, child_record("oscar", "o0"))
    add_record(store, child_record("oscar", "o1"), a)
    add_record(store, child_record("oscar", "o2", "Sreymom", "Chan", km=None), a)
    b = add_record(store, child_record("oscar", "o3", "Vanna", "Keo", km=None))
    add_record(store, child_record("oscar", "o4", "Vanna", "Keo", km=None), b)
    with store.session() as session:
        session.add(ModelParamsRow(record_count=5, params=_model().to_dict()))
    return a, b


def _audits(store) -> list[tuple[int, str, str]]:
    with store.session() as session:
        rows = session.scalars(select(ReviewItemRow).where(ReviewItemRow.kind == AUDIT))
        return sorted((r.id, r.key_a, r.key_b) for r in rows)


def test_wilson_interval() -> None:
    assert wilson(0, 0) == (0.0, 1.0)
    low, high = wilson(10, 10)
    assert high == pytest.approx(1.0) and low == pytest.approx(0.7225, abs=1e-4)
    low, high = wilson(5, 10)
    assert low == pytest.approx(1 - high)


@given(st.integers(0, 500), st.integers(1, 500))
def test_wilson_holds_the_share(same: int, pairs: int) -> None:
    same = min(same, pairs)
    low, high = wilson(same, pairs)
    assert 0.0 <= low <= same / pairs <= high <= 1.0


def test_the_sample_is_drawn_from_linked_pairs_once_each(store) -> None:
    _three_and_two(store)
    with store.session() as session:
        first = sample_links(session, 2, seed=7)
    assert (first.added, first.linked_pairs, first.open_audits) == (2, 4, 2)
    with store.session() as session:
        rest = sample_links(session, 10, seed=7)
    assert (rest.added, rest.open_audits) == (2, 4)  # only the two not drawn yet
    linked = {("oscar:o0", "oscar:o1"), ("oscar:o0", "oscar:o2"), ("oscar:o1", "oscar:o2")}
    linked.add(("oscar:o3", "oscar:o4"))
    assert {(a, b) for _, a, b in _audits(store)} == linked


def test_the_same_seed_draws_the_same_links(store, tmp_path) -> None:
    from bridge.store.db import open_store

    other = open_store(f"sqlite:///{tmp_path / 'other.db'}")
    for target in (store, other):
        _three_and_two(target)
        with target.session() as session:
            sample_links(session, 2, seed=3)
    assert [p[1:] for p in _audits(store)] == [p[1:] for p in _audits(other)]


def test_audits_wait_in_the_queue_and_are_never_trimmed(store) -> None:
    _three_and_two(store)
    with store.session() as session:
        sample_links(session, 4, seed=1)
    with store.session() as session:
        assert trim_review_queue(session, 0) == 0
        assert len(review_queue(session)) == 4
        assert open_reviews(session, "possible") == []


def test_answers_give_a_measured_precision_and_a_wrong_link_is_split(store) -> None:
    a, b = _three_and_two(store)
    with store.session() as session:
        sample_links(session, 4, seed=1)
    items = {(x, y): n for n, x, y in _audits(store)}
    with store.session() as session:
        merge_review(session, items[("oscar:o0", "oscar:o1")], by="desk", reason="same")
        merge_review(session, items[("oscar:o3", "oscar:o4")], by="desk", reason="same")
        result = mark_distinct(
            session, items[("oscar:o0", "oscar:o2")], by="desk", reason="other child"
        )
    # o2 differs from both o0 and o1: the cut leaves it alone, o0 and o1 stay together
    assert child_of(store, "oscar:o0") == child_of(store, "oscar:o1") == a
    assert child_of(store, "oscar:o2") not in (a, b)
    with store.session() as session:
        measured = audited_precision(session)
        assert measured is not None
        assert (measured.pairs, measured.same) == (3, 2)
        found = status_estimates(session)
        assert found is not None and found["audited_pairs"] == 3
        assert found["audited_low"] < found["audited_precision"] < found["audited_high"]
        kinds = {
            (c.key_a, c.key_b): c.kind
            for c in session.scalars(select(MatchConstraintRow).where(MatchConstraintRow.active))
        }
        assert kinds[("oscar:o0", "oscar:o2")] == "cannot"
        assert kinds[("oscar:o0", "oscar:o1")] == "must"
        # the (o1, o2) audit is moot now: its records are in two children
        assert [i.key_b for i in review_queue(session)] == []
    with store.session() as session:
        undo_decision(session, result.decision_id, by="desk", reason="misread")
    assert child_of(store, "oscar:o2") == a
    with store.session() as session:
        measured = audited_precision(session)
        assert measured is not None and (measured.pairs, measured.same) == (2, 2)


def test_the_command_queues_and_status_shows_the_measure(store, monkeypatch) -> None:
    from cli import app

    _three_and_two(store)
    monkeypatch.delenv("BRIDGE_CONFIG", raising=False)
    monkeypatch.setenv("BRIDGE_DATABASE_URL", store.url)
    runner = CliRunner()
    done = runner.invoke(app, ["review", "sample", "--links", "3", "--seed", "2"])
    assert done.exit_code == 0, done.output
    assert "3 audit item(s) queued, drawn from 4 linked pairs" in done.output
    with store.session() as session:
        first = session.scalars(select(ReviewItemRow).where(ReviewItemRow.kind == AUDIT)).first()
        assert first is not None
        merge_review(session, first.id, by="desk", reason="same")
    shown = runner.invoke(app, ["status"])
    assert shown.exit_code == 0, shown.output
    assert "audited precision (helpdesk answers to 1 sampled links): 1.0000" in shown.output
