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
    """Adjustment of each pair (a[k], b[k]); ``group[row]`` is "system|organisation"."""
    n = len(a)
    bits = np.zeros(n)
    state = [NONE] * n
    if n == 0 or not settings.competition:
        return Competition(bits, state)
    lo = log_odds(prob)
    take = np.flatnonzero(prob >= settings.competition_floor)
    # (row, group of the other record) -> [(log-odds, other row)], in pair order (deterministic)
    offers: dict[tuple[int, str], list[tuple[float, int]]] = {}
    # Pairs inside one system/organisation neither compete nor are rivals: the premise is
    # about which record of *another* system is the child's (one-source deduplication, as in
    # FEBRL, has many records per person).
    same_child: set[tuple[int, int]] = set()
    for k in np.flatnonzero(prob >= settings.upper).tolist():
        i, j = int(a[k]), int(b[k])
        same_child.add((min(i, j), max(i, j)))
    take = take[[group[int(a[k])] != group[int(b[k])] for k in take.tolist()]]
    for k in take.tolist():
        i, j, w = int(a[k]), int(b[k]), float(lo[k])
        offers.setdefault((i, group[j]), []).append((w, j))
        offers.setdefault((j, group[i]), []).append((w, i))

    def rival(i: int, j: int) -> float:
        """Best log-odds of ``i`` with another child than ``j`` in ``j``'s system/organisation."""
        best = -np.inf
        for w, other in offers.get((i, group[j]), ()):
            if other == j or w <= best:
                continue
            if label[j] is not None and label[other] == label[j]:
                continue
            if (min(j, other), max(j, other)) in same_child:
                continue
            best = w
        return best

    margin_up, margin_down = settings.competition_margin, settings.competition_dominated
    for k in take.tolist():
        i, j = int(a[k]), int(b[k])
        margin = float(lo[k]) - max(rival(i, j), rival(j, i))
        if margin >= margin_up:
            state[k], bits[k] = UNCONTESTED, settings.competition_bonus
        elif margin < -margin_down:
            state[k], bits[k] = DOMINATED, -settings.competition_penalty
        else:
            state[k] = CONTESTED
    return Competition(bits, state)


def group_of(system: str, organisation: str | None) -> str:
    # interned: the index keeps one per record, and there are only a few distinct groups
    return sys.intern(f"{system}|{organisation or ''}")
