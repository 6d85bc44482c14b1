"""Scoring candidate pairs with fitted weights: levels -> total weight -> posterior."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from dedupe.arrays import unique_inverse
from dedupe.comparisons import (
    CAREGIVER,
    COMPARISONS,
    FAMILY_NAME,
    GIVEN_NAME,
    LOCATION,
    PairView,
    level_matrix,
    sibling_pattern,
)
from dedupe.weights import ModelParams, tf_adjustment

_GIVEN = COMPARISONS.index(GIVEN_NAME)
_FAMILY = COMPARISONS.index(FAMILY_NAME)
_HOUSEHOLD = tuple(COMPARISONS.index(c) for c in (FAMILY_NAME, LOCATION, CAREGIVER))
_EXACT = {c: COMPARISONS[c].labels.index("exact") for c in (_GIVEN, _FAMILY)}


@dataclass
class Scored:
    """Scores of a batch of pairs (all arrays aligned with ``view.a`` / ``view.b``)."""

    levels: np.ndarray  # (pairs, comparisons) level numbers
    weights: np.ndarray  # (pairs, comparisons) bits, term-frequency adjusted
    prob: np.ndarray  # posterior match probability
    sibling: np.ndarray  # sibling / twin pattern (never linked automatically)


def _full_share(
    words: list[str], given: np.ndarray, family: np.ndarray, full: Counter[str], total: int
) -> np.ndarray:
    """Relative frequency of each (given, family) whole name among the records *other* than
    the pair's own two: they are not evidence of a namesake, so a name seen only in the pair is
    as rare as one can tell. Looked up once per distinct name (a full link has millions of
    exact-name pairs, few distinct names)."""
    width = len(words)
    distinct, inverse = unique_inverse(given.astype(np.int64) * width + family)
    names = ("|".join(sorted((words[c // width], words[c % width]))) for c in distinct.tolist())
    others = (max(full.get(k, 2) - 2, 1) for k in names)
    found = np.fromiter((n / total for n in others), np.float64, len(distinct))
    return found[inverse]


def score(
    view: PairView,
    params: ModelParams,
    freq: dict[str, Counter[str]],
    tf_bound: float,
    levels: np.ndarray | None = None,
    sibling: np.ndarray | None = None,
) -> Scored:
    """``levels`` and ``sibling`` (``sibling_pattern``), when given, are those of ``view``'s
    pairs computed beforehand (``pair_chunks.compare``)."""
    if levels is None:
        levels = level_matrix(view)
    n = len(view.a)
    table = params.level_weights()
    weights = np.zeros((n, len(COMPARISONS)))
    for c, w in enumerate(table):
        weights[:, c] = w[levels[:, c]] if n else 0.0
    exact = {c: levels[:, c] == _EXACT[c] for c in (_GIVEN, _FAMILY)}
    both = exact[_GIVEN] & exact[_FAMILY]
    words = view.t.words
    for c, name in ((_GIVEN, "given"), (_FAMILY, "family")):
        hit = np.flatnonzero(exact[c] & ~both)
        if len(hit) and freq.get(name):
            ids_a, ids_b = view.key_ids(name)
            u_exact = params.u[c][_EXACT[c]]
            # the commoner of the two spellings decides (and keeps the score symmetric)
            weights[hit, c] += np.minimum(
                tf_adjustment(words, ids_a[hit], freq[name], u_exact, tf_bound),
                tf_adjustment(words, ids_b[hit], freq[name], u_exact, tf_bound),
            )
    # Both names agree: the frequency of the whole name (a namesake is likelier for a
    # common combination) replaces the two separate adjustments.
    hit = np.flatnonzero(both)
    if len(hit) and freq.get("full"):
        u_both = params.u[_GIVEN][_EXACT[_GIVEN]] * params.u[_FAMILY][_EXACT[_FAMILY]]
        (ga, gb), (fa, fb) = view.key_ids("given"), view.key_ids("family")
        total = max(sum(freq["full"].values()), 1)
        shares = [
            _full_share(words, g, f, freq["full"], total)
            for g, f in ((ga[hit], fa[hit]), (gb[hit], fb[hit]))
        ]
        share = np.maximum(shares[0], shares[1])
        weights[hit, _GIVEN] += np.clip(np.log2(u_both / share), -tf_bound, tf_bound)
    if sibling is None:
        sibling = sibling_pattern(view) if n else np.zeros(0, bool)
    # For a sibling pattern the household agreement (family name, village, caregiver) is
    # explained by the family, not by identity: it no longer counts in favour of the pair.
    for c in _HOUSEHOLD:
        weights[sibling, c] = np.minimum(weights[sibling, c], 0.0)
    prior = math.log2(params.prior / (1 - params.prior))
    total = prior + weights.sum(axis=1)
    prob = 1.0 / (1.0 + np.exp2(-np.clip(total, -60, 60)))
    return Scored(levels, weights, prob, sibling)
