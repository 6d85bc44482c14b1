"""Chunked, parallel comparing and scoring give exactly what all pairs at once give: the same
levels and scores, and the same plan (clusters in the same order, same reviews and evidence)."""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest

import dedupe.pair_chunks
from dedupe.blocking import candidate_pairs
from dedupe.comparisons import level_matrix, sibling_pattern
from dedupe.engine import LinkPlan, Matcher, MatchIndex
from dedupe.fastpath import FastPairView
from dedupe.prepare import Prepared
from dedupe.records import PersonRecord
from dedupe.scoring import Scored, score
from tests.dedupe_perf.reference import one_shot_add


@pytest.fixture()
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Many small chunks, on two workers (where the machine has two cores)."""
    monkeypatch.setattr(dedupe.pair_chunks, "CHUNK", 7_000)
    monkeypatch.setenv("BRIDGE_MATCH_WORKERS", "2")


def _plan_data(plan: LinkPlan, ordered: bool = True) -> tuple[list[list[str]], list[tuple]]:
    """Clusters (in order, or sorted: the order of an incremental add's clusters follows the
    iteration of a set of label strings, so it varies with Python's string hashing) and the
    reviews with their scores and evidence, in order."""
    reviews = [(r.key_a, r.key_b, r.score, r.evidence) for r in plan.reviews]
    return plan.clusters if ordered else sorted(map(sorted, plan.clusters)), reviews


def test_levels_and_scores_match_whole(dev_table: Prepared, small_chunks: None) -> None:
    a, b = candidate_pairs(dev_table, 30)
    a, b = a[:60_000], b[:60_000]
    whole_view = FastPairView(dev_table, a, b)
    levels = level_matrix(whole_view)
    sibling = sibling_pattern(whole_view)
    found_levels, found_sibling = dedupe.pair_chunks.compare(dev_table, a, b)
    assert np.array_equal(found_levels, levels)
    assert np.array_equal(found_sibling, sibling)
    assert np.array_equal(dedupe.pair_chunks.levels_of(dev_table, a, b), levels)

    params = Matcher().fit(dev_records_of(dev_table))
    freq = {"given": {}, "family": {}, "full": {}}
    whole = score(whole_view, params, freq, 4.0, levels)  # type: ignore[arg-type]

    def keep(s: Scored) -> np.ndarray:
        return (s.prob >= 0.05) | s.sibling

    expected = np.flatnonzero(keep(whole))
    picked, part = dedupe.pair_chunks.score_kept(
        dev_table,
        a,
        b,
        levels,
        sibling,
        params,
        freq,
        4.0,
        keep,  # type: ignore[arg-type]
    )
    assert np.array_equal(picked, expected)
    for f in fields(Scored):
        assert np.array_equal(getattr(part, f.name), getattr(whole, f.name)[expected]), f.name


def dev_records_of(table: Prepared) -> list[PersonRecord]:
    """Minimal records with the table's keys (fitting needs records, not their content)."""
    return [PersonRecord(key=k, system=s) for k, s in zip(table.keys, table.systems, strict=True)]


def test_full_link_same_plan(dev_records: list[PersonRecord], small_chunks: None) -> None:
    expected = one_shot_add(MatchIndex(Matcher()), dev_records, full=True)
    found = Matcher().link(dev_records)
    assert _plan_data(found) == _plan_data(expected)


def test_two_step_same_plan(dev_records: list[PersonRecord], small_chunks: None) -> None:
    primero = [r for r in dev_records if r.system == "primero"]
    oscar = [r for r in dev_records if r.system != "primero"]
    plans = []
    for add in (one_shot_add, MatchIndex.add):
        matcher = Matcher()
        first = matcher.link(primero)
        labels = {k: f"child{n}" for n, members in enumerate(first.clusters) for k in members}
        index = matcher.index(primero, labels)
        pinned = [(oscar[0].key, primero[0].key)]
        apart = [(oscar[1].key, oscar[2].key)]
        plan = add(index, oscar, must_link=pinned, cannot_link=apart)
        plans.append(_plan_data(plan, ordered=False))
    assert plans[0] == plans[1]
