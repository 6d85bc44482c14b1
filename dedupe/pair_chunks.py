"""Comparing and scoring many candidate pairs a chunk at a time, on every core.

A full link of 1M records has ~18M candidate pairs. Their features (a dozen float arrays) and
weights (8 floats a pair) held at once take gigabytes, while only the level matrix (8 bytes a
pair, for the EM fit) and the few pairs that can matter downstream are needed afterwards. So
pairs are compared chunk by chunk, in threads (numpy sorts and rapidfuzz release the GIL), and
after scoring only the pairs ``keep`` selects are kept. Every pair's values are computed by
the same functions as for all pairs at once (a pair's features depend on that pair only), so
results are identical (tests/dedupe_perf/test_pair_chunks.py).
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import fields
from typing import TypeVar

import numpy as np

from dedupe.comparisons import COMPARISONS, PairView, level_matrix, sibling_pattern
from dedupe.fastpath import FastPairView
from dedupe.prepare import Prepared
from dedupe.scoring import Scored, score
from dedupe.weights import ModelParams

# Pairs per chunk: a chunk's features stay near 60 MB, and one chunk per thread is in flight.
CHUNK = 400_000
_T = TypeVar("_T")


def workers() -> int:
    """Threads for chunked work: the cores this process may use (BRIDGE_MATCH_THREADS caps)."""
    found = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cap = os.environ.get("BRIDGE_MATCH_THREADS", "")
    return max(1, min(int(cap) if cap.isdigit() else 64, found or 1))


def _spans(n: int, chunk: int) -> list[tuple[int, int]]:
    return [(i, min(i + chunk, n)) for i in range(0, n, chunk)]


def _run(task: Callable[[tuple[int, int]], _T], spans: Sequence[tuple[int, int]]) -> list[_T]:
    threads = min(workers(), len(spans))
    if threads <= 1:
        return [task(span) for span in spans]
    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(task, spans))


def _warm(table: Prepared, a: np.ndarray, b: np.ndarray) -> None:
    """Fill the table's lazy caches once, before workers would each build them."""
    if len(a):
        view = FastPairView(table, a[:1], b[:1])
        level_matrix(view)
        sibling_pattern(view)


# What forked workers compare: set by the parent just before the fork, read by the children
# (copy-on-write: the table is not copied nor pickled).
_JOB: tuple[Prepared, np.ndarray, np.ndarray, bool] | None = None


def _compare_span(span: tuple[int, int]) -> tuple[int, np.ndarray, np.ndarray | None]:
    assert _JOB is not None
    table, a, b, with_sibling = _JOB
    i, j = span
    view = FastPairView(table, a[i:j], b[i:j])
    return i, level_matrix(view), sibling_pattern(view) if with_sibling else None


def _compare_all(
    table: Prepared, a: np.ndarray, b: np.ndarray, with_sibling: bool, chunk: int
) -> tuple[np.ndarray, np.ndarray]:
    """Level matrix (and sibling pattern) of the pairs, in forked worker processes when there
    are several chunks: comparing is mostly Python-level work (distinct names, caregivers),
    which threads would serialise."""
    global _JOB
    n = len(a)
    levels = np.zeros((n, len(COMPARISONS)), np.int8)
    sibling = np.zeros(n if with_sibling else 0, bool)
    _warm(table, a, b)
    spans = _spans(n, chunk)
    processes = min(workers(), len(spans))
    _JOB = (table, a, b, with_sibling)
    try:
        if processes <= 1 or "fork" not in mp.get_all_start_methods():
            results: Iterable[tuple[int, np.ndarray, np.ndarray | None]] = map(_compare_span, spans)
            _store(results, levels, sibling)
        else:
            with mp.get_context("fork").Pool(processes) as pool:
                _store(pool.imap_unordered(_compare_span, spans), levels, sibling)
    finally:
        _JOB = None
    return levels, sibling


def _store(
    results: Iterable[tuple[int, np.ndarray, np.ndarray | None]],
    levels: np.ndarray,
    sibling: np.ndarray,
) -> None:
    for i, found, sib in results:
        levels[i : i + len(found)] = found
        if sib is not None:
            sibling[i : i + len(found)] = sib


def compare(
    table: Prepared, a: np.ndarray, b: np.ndarray, chunk: int = CHUNK
) -> tuple[np.ndarray, np.ndarray]:
    """(level matrix, sibling pattern) of the pairs (a[k], b[k]): ``level_matrix`` and
    ``sibling_pattern`` of ``FastPairView(table, a, b)``, chunk by chunk."""
    return _compare_all(table, a, b, True, chunk)


def levels_of(table: Prepared, a: np.ndarray, b: np.ndarray, chunk: int = CHUNK) -> np.ndarray:
    """``level_matrix(FastPairView(table, a, b))``, chunk by chunk."""
    return _compare_all(table, a, b, False, chunk)[0]


def score_kept(
    table: Prepared,
    a: np.ndarray,
    b: np.ndarray,
    levels: np.ndarray,
    sibling: np.ndarray,
    params: ModelParams,
    freq: dict[str, Counter[str]],
    tf_bound: float,
    keep: Callable[[Scored], np.ndarray],
    chunk: int = CHUNK,
) -> tuple[np.ndarray, Scored]:
    """(indices of the pairs ``keep`` selects, in order, and their ``Scored``): the same as
    ``score`` of all pairs at once followed by that selection."""

    def task(span: tuple[int, int]) -> tuple[np.ndarray, Scored]:
        i, j = span
        view = PairView(table, a[i:j], b[i:j])
        scored = score(view, params, freq, tf_bound, levels[i:j], sibling[i:j])
        pick = np.flatnonzero(keep(scored))
        return pick + i, _select(scored, pick)

    parts = _run(task, _spans(len(a), chunk))
    if not parts:
        empty = PairView(table, a[:0], b[:0])
        scored = score(empty, params, freq, tf_bound, levels[:0], sibling[:0])
        return np.zeros(0, np.int64), scored
    return np.concatenate([p for p, _ in parts]), Scored(
        *(np.concatenate([getattr(s, f.name) for _, s in parts]) for f in fields(Scored))
    )


def _select(scored: Scored, pick: np.ndarray) -> Scored:
    return Scored(*(getattr(scored, f.name)[pick] for f in fields(Scored)))
