"""Competition between candidates: a child is rarely registered twice in the same system.

One Primero case per child, one client per OSCaR organisation: so when record ``i`` has two
candidates ``j`` and ``k`` in the same system and organisation, at most one of them is usually
``i``'s child. The posterior of a pair is therefore adjusted by how it fares against the other
candidates of its two records (in log-odds bits, before any decision, so that automatic links
and the review ranking both use it):

* dominated: ``i`` (or ``j``) has another candidate in the other's system/organisation that
  scores clearly better: the pair is most likely a namesake of the true pair; it loses bits.
* uncontested: neither record has another candidate there within a margin: the pair gains bits.
* contested: a competitor of similar score: unchanged (the evidence cannot tell them apart).

A competitor that is the same child as the candidate (same existing label, or linked to it at
or above the upper threshold) does not compete: duplicates inside one system do happen.
Only pairs at or above ``settings.competition_floor`` take part (weaker candidates are noise).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from dedupe.settings import MatchSettings

UNCONTESTED, CONTESTED, DOMINATED, NONE = "uncontested", "contested", "dominated", "none"


@dataclass(frozen=True)
class Competition:
    """Per-pair adjustment, aligned with the scored pairs."""

    bits: np.ndarray  # log-odds bits added to the pair's total weight
    state: list[str]  # UNCONTESTED / CONTESTED / DOMINATED / NONE (below the floor)

    def adjusted(self, prob: np.ndarray) -> np.ndarray:
        return adjust_prob(prob, self.bits)


def log_odds(prob: np.ndarray) -> np.ndarray:
    p = np.clip(prob, 1e-15, 1 - 1e-15)
    return np.log2(p / (1 - p))


def adjust_prob(prob: np.ndarray, bits: np.ndarray) -> np.ndarray:
    total = np.clip(log_odds(prob) + bits, -60, 60)
    return 1.0 / (1.0 + np.exp2(-total))


def compete(
    a: np.ndarray,
    b: np.ndarray,
    prob: np.ndarray,
    group: Sequence[str],
    label: Sequence[str | None],
    settings: MatchSettings,
) -> Competition:
    """Adjustment of each pair (a[k], b[k]); ``group[row]`` is "system|organisation".

    The candidates ("offers") of each record in each other system/organisation are held as
    sorted arrays rather than Python containers: a full link of 1M records has about a million
    of them (a dict of lists of tuples took ~300 MB there)."""
    n = len(a)
    bits = np.zeros(n)
    state = [NONE] * n
    if n == 0 or not settings.competition:
        return Competition(bits, state)
    lo = log_odds(prob)
    take = np.flatnonzero(prob >= settings.competition_floor)
    # Pairs inside one system/organisation neither compete nor are rivals: the premise is
    # about which record of *another* system is the child's (one-source deduplication, as in
    # FEBRL, has many records per person).
    codes: dict[str, int] = {}
    ga, gb = (
        np.fromiter((codes.setdefault(group[r], len(codes)) for r in rows), np.int64, len(take))
        for rows in (a[take].tolist(), b[take].tolist())
    )
    cross = ga != gb
    take, ga, gb = take[cross], ga[cross], gb[cross]
    ta, tb, tw = a[take].astype(np.int64), b[take].astype(np.int64), lo[take]
    # offers: (record, group of the other record) -> (log-odds, other record), sorted by key
    width = max(len(codes), 1)
    key_i, key_j = ta * width + gb, tb * width + ga
    offer_key = np.concatenate([key_i, key_j])
    order = np.argsort(offer_key, kind="stable")
    offer_key = offer_key[order]
    offer_other = np.concatenate([tb, ta])[order]
    offer_w = np.concatenate([tw, tw])[order]
    del order
    spans = [
        (np.searchsorted(offer_key, key, "left"), np.searchsorted(offer_key, key, "right"))
        for key in (key_i, key_j)
    ]
    # pairs linked at or above the upper threshold: the same child, not rivals
    strong = np.flatnonzero(prob >= settings.upper)
    sa, sb = a[strong].astype(np.int64), b[strong].astype(np.int64)
    same_child = set((np.minimum(sa, sb) << 32 | np.maximum(sa, sb)).tolist())
    del sa, sb, strong

    def rival(first: int, stop: int, j: int) -> float:
        """Best log-odds among the offers [first, stop) with another child than ``j``."""
        best = -np.inf
        own = label[j]
        for w, other in zip(
            offer_w[first:stop].tolist(), offer_other[first:stop].tolist(), strict=True
        ):
            if other == j or w <= best:
                continue
            if own is not None and label[other] == own:
                continue
            if (min(j, other) << 32 | max(j, other)) in same_child:
                continue
            best = w
        return best

    # an offer span of one is the pair itself: no rival on that side
    best_rival = np.full(len(take), -np.inf)
    (first_i, stop_i), (first_j, stop_j) = spans
    contested = np.flatnonzero((stop_i - first_i > 1) | (stop_j - first_j > 1))
    for k in contested.tolist():
        i, j = int(ta[k]), int(tb[k])
        best_rival[k] = max(
            rival(int(first_i[k]), int(stop_i[k]), j), rival(int(first_j[k]), int(stop_j[k]), i)
        )
    margin = tw - best_rival
    up = margin >= settings.competition_margin
    down = ~up & (margin < -settings.competition_dominated)
    bits[take[up]] = settings.competition_bonus
    bits[take[down]] = -settings.competition_penalty
    for k, is_up, is_down in zip(take.tolist(), up.tolist(), down.tolist(), strict=True):
        state[k] = UNCONTESTED if is_up else DOMINATED if is_down else CONTESTED
    return Competition(bits, state)


def group_of(system: str, organisation: str | None) -> str:
    # interned: the index keeps one per record, and there are only a few distinct groups
    return sys.intern(f"{system}|{organisation or ''}")
