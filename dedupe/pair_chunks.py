"""Comparing and scoring many candidate pairs a chunk at a time, on every core.

A full link of 1M records has ~18M candidate pairs. Their features (a dozen float arrays) and
weights (8 floats a pair) held at once take gigabytes, while only the level matrix (8 bytes a
pair, for the EM fit) and the few pairs that can matter downstream are needed afterwards. So
pairs are compared chunk by chunk in forked worker processes (comparing is mostly Python-level
work), scored chunk by chunk in threads (numpy work), and after scoring only the pairs ``keep``
selects are kept. Every pair's values are computed by
the same functions as for all pairs at once (a pair's features depend on that pair only), so
results are identical (tests/dedupe_perf/test_pair_chunks.py).
"""

from __future__ import annotations

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
from dedupe.workers import fork_map, workers

# Pairs per chunk: a chunk's features stay near 60 MB, and one chunk per worker is in flight.
CHUNK = 100_000
_T = TypeVar("_T")


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


def _compare_span(
    span: tuple[int, int], table: Prepared, a: np.ndarray, b: np.ndarray, with_sibling: bool
) -> tuple[int, np.ndarray, np.ndarray | None]:
    i, j = span
    view = FastPairView(table, a[i:j], b[i:j])
    return i, level_matrix(view), sibling_pattern(view) if with_sibling else None


def _compare_all(
    table: Prepared, a: np.ndarray, b: np.ndarray, with_sibling: bool, chunk: int
) -> tuple[np.ndarray, np.ndarray]:
    """Level matrix (and sibling pattern) of the pairs, in forked worker processes when there
    are several chunks: comparing is mostly Python-level work (distinct names, caregivers),
    which threads would serialise."""
    n = len(a)
    levels = np.zeros((n, len(COMPARISONS)), np.int8)
    sibling = np.zeros(n if with_sibling else 0, bool)
    _warm(table, a, b)
    results = fork_map(_compare_span, _spans(n, chunk), table, a, b, with_sibling, ordered=False)
    _store(results, levels, sibling)
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
    table: Prepared, a: np.ndarray, b: np.ndarray, chunk: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(level matrix, sibling pattern) of the pairs (a[k], b[k]): ``level_matrix`` and
    ``sibling_pattern`` of ``FastPairView(table, a, b)``, chunk by chunk."""
    return _compare_all(table, a, b, True, chunk or CHUNK)


def levels_of(
    table: Prepared, a: np.ndarray, b: np.ndarray, chunk: int | None = None
) -> np.ndarray:
    """``level_matrix(FastPairView(table, a, b))``, chunk by chunk."""
    return _compare_all(table, a, b, False, chunk or CHUNK)[0]


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
    chunk: int | None = None,
) -> tuple[np.ndarray, Scored]:
    """(indices of the pairs ``keep`` selects, in order, and their ``Scored``): the same as
    ``score`` of all pairs at once followed by that selection."""

    def task(span: tuple[int, int]) -> tuple[np.ndarray, Scored]:
        i, j = span
        view = PairView(table, a[i:j], b[i:j])
        scored = score(view, params, freq, tf_bound, levels[i:j], sibling[i:j])
        pick = np.flatnonzero(keep(scored))
        return pick + i, _select(scored, pick)

    parts = _run(task, _spans(len(a), chunk or CHUNK))
    if not parts:
        empty = PairView(table, a[:0], b[:0])
        scored = score(empty, params, freq, tf_bound, levels[:0], sibling[:0])
        return np.zeros(0, np.int64), scored
    return np.concatenate([p for p, _ in parts]), Scored(
        *(np.concatenate([getattr(s, f.name) for _, s in parts]) for f in fields(Scored))
    )


def _select(scored: Scored, pick: np.ndarray) -> Scored:
    return Scored(*(getattr(scored, f.name)[pick] for f in fields(Scored)))
