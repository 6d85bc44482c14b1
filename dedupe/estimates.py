"""How sure the engine is of a linked register, from its own model (no labels).

Given records, the children they are linked into and the fitted model, ``estimate`` gives:

- **precision** of the links (pairwise, as ``score_links.py`` counts it): within each child
  the strongest links form a spanning tree; a wrong tree link would split the child in two, so
  it makes ``|A|·|B|`` wrong pairs. Expected wrong pairs = sum over tree links of
  ``(1 − p) · |A| · |B|`` (human and exact-id links count as sure); precision = 1 − that share
  of the linked pairs. ``wrong_merges`` is the expected number of wrong pairs.
- **recall**: expected true pairs linked / expected true pairs in the register, the latter the
  sum of match probabilities over candidate pairs found with blocks ``wide_block_size`` wide
  (much wider than linking uses: namesakes a link must not be made on still count here).
- **unique children**, from the probabilities the links are decided with (after competition
  between candidates: a record has at most one child's record in each other system):

  - *from the ids* (the point estimate): the ids, plus the expected wrong tree links (each
    would split a child), corrected by the expected matches between ids: id ``c`` belongs to
    a true child of ``1 + K_c`` ids, ``K_c`` Poisson-binomial over the probabilities that
    ``c`` and each other id are one child (their strongest cross pair), and the ids count
    ``Σ 1 / (1 + K_c)``;
  - a *low* bound: the ids plus the expected splits minus the sum of those id-pair
    probabilities. It counts one merge per id pair, and a child recorded under three ids
    needs two merges, not three, so it leans low;
  - a *high* bound: the same sum over records (record ``i`` of a child of ``1 + K_i``
    records counts ``1 / (1 + K_i)``). A record's uncertain candidates, taken as
    independent, spread ``K_i`` both ways and ``1 / (1 + K)`` is convex, and pairs that the
    wide blocks never bring together count as different children, so it leans high.

  Each is computed under the fitted model and under models fitted from other random samples
  of the same records (``refits``: the fit's own uncertainty); the 95% interval runs from
  the lowest low bound to the highest high bound, widened by 1.96 standard deviations of the
  sum (variance ``Σ p (1 − p)``).

Everything is a function of the records, labels and model; nothing is tuned to a corpus.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import TypeVar

import numpy as np

from dedupe.competition import compete
from dedupe.engine import Matcher, MatchIndex
from dedupe.extra_blocking import union_pairs
from dedupe.fastpath import FastPairView
from dedupe.pair_chunks import compare, score_kept
from dedupe.records import PersonRecord
from dedupe.scoring import score
from dedupe.settings import MatchSettings
from dedupe.weights import ModelParams

# Pairs whose match probability is below this count as different children (their sum over a
# national register is noise next to the interval).
NEGLIGIBLE = 1e-4
T = TypeVar("T", int, str)
Z95 = 1.959964


@dataclass(frozen=True)
class Estimates:
    records: int
    children: int  # ids: the linked count
    linked_pairs: int  # pairs of records in one child
    precision: float
    recall: float
    wrong_merges: float  # expected wrong pairs among the linked ones
    unique_children: int
    unique_children_low: int
    unique_children_high: int
    expected_true_pairs: float

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


def expected_children(
    n_records: int, a: np.ndarray, b: np.ndarray, prob: np.ndarray
) -> tuple[float, float]:
    """E[Σ 1/(1 + K_i)] with K_i Poisson-binomial over record i's pair probabilities, and the
    variance of the number of matches among the pairs (Σ p (1 − p)).

    Records are taken together by their number of candidates ``d``: the distribution of K for
    all of them is built at once, one candidate at a time (a ``(records, d + 1)`` array)."""
    keep = prob >= NEGLIGIBLE
    a, b, p = a[keep], b[keep], prob[keep].astype(np.float64)
    ends = np.concatenate([a, b]).astype(np.int64)
    probs = np.concatenate([p, p])
    order = np.argsort(ends, kind="stable")
    ends, probs = ends[order], probs[order]
    if not len(ends):
        return float(n_records), 0.0
    starts = np.flatnonzero(np.concatenate([[True], ends[1:] != ends[:-1]]))
    degree = np.diff(np.append(starts, len(ends)))
    total = float(n_records - len(starts))  # records without any candidate: one child each
    for d in np.unique(degree).tolist():
        first = starts[degree == d]
        rows = probs[first[:, None] + np.arange(d)[None, :]]  # (records, d)
        dist = np.zeros((len(first), d + 1))
        dist[:, 0] = 1.0
        for j in range(d):
            q = rows[:, j : j + 1]
            dist[:, 1 : j + 2] = dist[:, 1 : j + 2] * (1.0 - q) + dist[:, : j + 1] * q
            dist[:, 0] *= 1.0 - q[:, 0]
        total += float((dist / np.arange(1, d + 2)).sum())
    return total, float((p * (1.0 - p)).sum())


def tree_wrong_pairs(members: Sequence[int], edges: Sequence[tuple[float, int, int]]) -> float:
    """Expected wrong pairs in one child: maximum spanning tree of its scored pairs, each tree
    link weighing (1 − p) · (records on one side) · (records on the other)."""
    return tree_wrong(members, edges)[0]


def strongest_tree(
    members: Sequence[T], edges: Sequence[tuple[float, T, T]]
) -> list[tuple[float, T, T]]:
    """The maximum spanning tree (forest) of ``edges`` ``(p, x, y)`` over ``members``:
    strongest first, ties by the ends, so the same input gives the same tree."""
    parent = {m: m for m in members}

    def root(x: T) -> T:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    tree: list[tuple[float, T, T]] = []
    for p, x, y in sorted(edges, key=lambda e: (-e[0], e[1], e[2])):
        rx, ry = root(x), root(y)
        if rx != ry:
            parent[rx] = ry
            tree.append((p, x, y))
    return tree


def tree_wrong(
    members: Sequence[int], edges: Sequence[tuple[float, int, int]]
) -> tuple[float, float]:
    """(expected wrong pairs, expected wrong links) of one child's maximum spanning tree: a
    wrong tree link makes (records on one side) · (records on the other) wrong pairs, and
    splitting there would make one more child."""
    if len(members) < 2:
        return 0.0, 0.0
    tree = strongest_tree(members, edges)
    adjacent: dict[int, list[int]] = defaultdict(list)
    for _, x, y in tree:
        adjacent[x].append(y)
        adjacent[y].append(x)
    size = len(members)
    wrong = links = 0.0
    for p, x, y in tree:
        if p >= 1.0:
            continue
        seen, stack = {x}, [x]
        while stack:
            node = stack.pop()
            for other in adjacent[node]:
                if other not in seen and not (node == x and other == y):
                    seen.add(other)
                    stack.append(other)
        wrong += (1.0 - p) * len(seen) * (size - len(seen))
        links += 1.0 - p
    return wrong, links


def id_pairs(
    child: np.ndarray, a: np.ndarray, b: np.ndarray, prob: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs of ids (``child[row]`` is a row's id as 0..ids-1) joined by candidate pairs, each
    with the probability of its strongest cross pair: the chance the two ids are one child."""
    ca, cb = child[a], child[b]
    cross = (ca != cb) & (prob >= NEGLIGIBLE)
    lo = np.minimum(ca, cb)[cross].astype(np.int64)
    hi = np.maximum(ca, cb)[cross].astype(np.int64)
    p = prob[cross]
    if not len(p):
        empty = np.zeros(0, np.int64)
        return empty, empty, np.zeros(0)
    key = lo * (int(child.max()) + 1) + hi
    order = np.lexsort((-p, key))
    key, lo, hi, p = key[order], lo[order], hi[order], p[order]
    first = np.concatenate([[True], key[1:] != key[:-1]])
    return lo[first], hi[first], p[first]


def refits(
    records: Sequence[PersonRecord],
    settings: MatchSettings,
    count: int,
    labelled_pairs: Sequence[tuple[str, str, bool]] = (),
) -> list[ModelParams]:
    """``count`` models fitted on ``records`` with other seeds of the random samples EM and
    u are drawn from (``settings.seed + 1 ...``)."""
    fits = []
    for step in range(1, count + 1):
        other = Matcher(replace(settings, seed=settings.seed + step))
        fits.append(other.fit(records, labelled_pairs=labelled_pairs))
    return fits


def _candidates(index: MatchIndex, width: int) -> tuple[np.ndarray, np.ndarray]:
    a, b = index.blocks.all_pairs(width)
    extra = index.extra_blocks.pairs(index.table, None, width)
    a, b = union_pairs((a, b), extra)
    return a.astype(np.int32), b.astype(np.int32)


def estimate(
    matcher: Matcher,
    records: Sequence[PersonRecord],
    labels: Mapping[str, str],
    *,
    sure_pairs: Sequence[tuple[str, str]] = (),
    wide_block_size: int | None = None,
    other_fits: Sequence[ModelParams] = (),
    linked_out: list[tuple[str, str, float]] | None = None,
) -> Estimates:
    """The engine's estimates for ``records`` linked as ``labels`` (record key -> child).

    ``matcher`` must hold a fitted model. ``sure_pairs``: pairs known to be one child (shared
    exact ids, human decisions): probability 1 in the tree. ``wide_block_size``: blocks for
    the expected true pairs (default: ``settings.estimate_block_size``). ``other_fits``:
    models fitted on the same records from other random samples (``refits``); the spread of
    their counts of children widens the interval by the fit's own uncertainty.
    ``linked_out``, when given, receives each pair of records in one child with its match
    probability (the benches' calibration table)."""
    if matcher.params is None:
        raise ValueError("estimates need a fitted model")
    settings = matcher.settings
    ordered = sorted(records, key=lambda r: r.key)
    index = matcher.index(ordered, {k: v for k, v in labels.items()})
    table, n = index.table, len(index.table)
    a, b = _candidates(index, wide_block_size or settings.estimate_block_size)
    levels, sibling = compare(table, a, b)
    # each model (the fitted one, then refits on other random samples) scores the same
    # candidates; the probabilities after competition are what links are decided with
    decided_by_fit: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for params in [matcher.params, *other_fits]:
        kept, scored = score_kept(
            table,
            a,
            b,
            levels,
            sibling,
            params,
            index.freq,
            settings.tf_max_adjust,
            lambda s: s.prob >= NEGLIGIBLE,
        )
        ka, kb = a[kept], b[kept]
        race = compete(ka, kb, scored.prob, index.groups, index.labels, settings)
        decided_by_fit.append((ka, kb, race.adjusted(scored.prob)))
    del levels, sibling
    a, b, decided = decided_by_fit[0]
    # within-child pairs: the decided probability when a candidate, else scored now
    known = dict(zip(((a.astype(np.int64) << 32) | b).tolist(), decided.tolist(), strict=True))
    sure = {
        (min(x, y), max(x, y))
        for kx, ky in sure_pairs
        for x, y in [(index.row_of_key.get(kx), index.row_of_key.get(ky))]
        if x is not None and y is not None
    }
    by_child: dict[str, list[int]] = defaultdict(list)
    for row, label in enumerate(index.labels):
        by_child[label if label is not None else f"\0{row}"].append(row)
    pairs = [
        (x, y)
        for rows in by_child.values()
        if len(rows) > 1
        for x, y in itertools.combinations(rows, 2)
    ]
    linked = len(pairs)
    if pairs:
        pa = np.array([x for x, _ in pairs], np.int32)
        pb = np.array([y for _, y in pairs], np.int32)
        fresh = score(
            FastPairView(table, pa, pb), matcher.params, index.freq, settings.tf_max_adjust
        )
        within = [
            1.0 if (x, y) in sure else known.get((x << 32) | y, p)
            for (x, y), p in zip(pairs, fresh.prob.tolist(), strict=True)
        ]
    else:
        within = []
    edges: dict[int, list[tuple[float, int, int]]] = defaultdict(list)
    child = np.zeros(n, np.int64)
    for number, rows in enumerate(by_child.values()):
        child[rows] = number
    for (x, y), p in zip(pairs, within, strict=True):
        edges[int(child[x])].append((p, x, y))
    members = list(by_child.values())
    if linked_out is not None:
        keys = index.table.keys
        linked_out.extend((keys[x], keys[y], p) for (x, y), p in zip(pairs, within, strict=True))
    wrong = splits = 0.0
    for number, e in edges.items():
        pairs_wrong, links_wrong = tree_wrong(members[number], e)
        wrong += pairs_wrong
        splits += links_wrong
    outside = sum(p for (x, y), p in zip(pairs, within, strict=True) if (x << 32) | y not in known)
    expected_true = float(decided.sum()) + outside
    precision = 1.0 - wrong / linked if linked else 1.0
    recall = (linked - wrong) / expected_true if expected_true > 0 else 1.0
    # unique children: from the ids (point), a low and a high bound, under every fit
    ids = len(members)
    points, lows, highs = [], [], []
    variance = 0.0
    for ka, kb, prob in decided_by_fit:
        ia, ib, ip = id_pairs(child, ka, kb, prob)
        points.append(expected_children(ids, ia, ib, ip)[0] + splits)
        lows.append(ids + splits - float(ip.sum()))
        by_record, var = expected_children(n, ka, kb, prob)
        highs.append(by_record)
        variance = max(variance, var)
    spread = Z95 * math.sqrt(variance)
    low = min(*lows, *points) - spread
    high = max(*highs, *points) + spread
    return Estimates(
        records=n,
        children=ids,
        linked_pairs=linked,
        precision=round(precision, 5),
        recall=round(min(recall, 1.0), 5),
        wrong_merges=round(wrong, 1),
        unique_children=round(points[0]),
        unique_children_low=math.floor(low),
        unique_children_high=math.ceil(high),
        expected_true_pairs=round(expected_true, 1),
    )
