"""Fellegi–Sunter weights: m/u per comparison level, estimated without labels.

``u`` = P(level | different children): from random record pairs (almost all are different
children). ``m`` = P(level | same child): EM with u held fixed, on the pairs of a blocking rule,
for the comparisons that rule does not block on (names agree -> m of birth date, location, sex,
caregiver; birth date agrees -> m of the names). ``prior`` = share of ALL record pairs that are
the same child, a fixed point over the candidate pairs. EM works on the histogram of level
patterns, so its cost does not grow with the number of pairs. Null levels weigh 0.

Labelled pairs (helpdesk decisions) enter every EM session with a fixed posterior (1 same
child, 0 different), weighing ``labelled_weight`` ordinary pairs each: they are never
re-estimated and pull m towards what humans decided.

Term frequency: see ``tf_adjustment``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from dedupe.comparisons import COMPARISONS

VERSION = 2  # 2: "other details" comparison added
_EPS = 1e-6


@dataclass
class ModelParams:
    """Fitted model: m/u per comparison level, prior, term-frequency summary."""

    m: list[list[float]]
    u: list[list[float]]
    prior: float
    comparisons: list[str] = field(default_factory=lambda: [c.name for c in COMPARISONS])
    levels: list[list[str]] = field(default_factory=lambda: [list(c.labels) for c in COMPARISONS])
    tf_summary: dict[str, object] = field(default_factory=dict)
    pairs_used: int = 0
    iterations: int = 0
    version: int = VERSION

    def to_dict(self) -> dict[str, object]:
        return {
            "version": self.version,
            "comparisons": self.comparisons,
            "levels": self.levels,
            "m": self.m,
            "u": self.u,
            "prior": self.prior,
            "tf_summary": self.tf_summary,
            "pairs_used": self.pairs_used,
            "iterations": self.iterations,
        }

    @classmethod
    def from_dict(cls, data: dict) -> ModelParams:
        if data.get("version") != VERSION:
            raise ValueError("model params: unsupported version")
        if data.get("levels") != [list(c.labels) for c in COMPARISONS]:
            raise ValueError("model params: comparisons differ from this engine's")
        return cls(
            m=[list(map(float, x)) for x in data["m"]],
            u=[list(map(float, x)) for x in data["u"]],
            prior=float(data["prior"]),
            comparisons=list(data["comparisons"]),
            levels=[list(x) for x in data["levels"]],
            tf_summary=dict(data.get("tf_summary", {})),
            pairs_used=int(data.get("pairs_used", 0)),
            iterations=int(data.get("iterations", 0)),
        )

    def level_weights(self) -> list[np.ndarray]:
        """log2(m/u) per level, 0 for the null level."""
        out = []
        for m, u in zip(self.m, self.u, strict=False):
            w = np.log2(np.maximum(m, _EPS) / np.maximum(u, _EPS))
            w[0] = 0.0
            out.append(w)
        return out


def random_u(
    levels: np.ndarray, smoothing: float = 1.0, weights: np.ndarray | None = None
) -> list[np.ndarray]:
    """u per level from the level matrix of random record pairs (almost all different children).

    Levels unseen among the random pairs get a pseudo-count, so no weight is infinite.
    ``weights`` (P(different children) per pair, from a first fit) take out the few true pairs
    a random sample holds: in a small list with many duplicates they are what makes "every
    detail agrees" look common among different people.
    """
    out = []
    for c, comparison in enumerate(COMPARISONS):
        counts = np.bincount(
            levels[:, c], weights=weights, minlength=len(comparison.levels)
        ).astype(np.float64)
        counts[1:] += smoothing
        counts[0] = 0.0
        out.append(counts / max(counts.sum(), _EPS))
    return out


def em_m(
    levels: np.ndarray,
    u: list[np.ndarray],
    free: Sequence[int],
    *,
    labelled: np.ndarray | None = None,
    labels: Sequence[bool] = (),
    labelled_weight: float = 10.0,
    iterations: int = 60,
    start_m: list[np.ndarray] | None = None,
) -> tuple[dict[int, np.ndarray], int]:
    """EM for m of the ``free`` comparisons on the pairs of one blocking rule, u held fixed.

    The comparisons the rule blocks on are left out: within the rule they agree by
    construction, so they say nothing about m. Returns (m per free comparison, iterations).
    """
    patterns, counts = histogram(levels[:, list(free)])
    fixed = np.zeros(0)
    if labelled is not None and len(labelled):
        patterns = np.concatenate([patterns, labelled[:, list(free)].astype(np.int64)])
        fixed = np.asarray(labels, np.float64)
        counts = np.concatenate([counts, np.full(len(fixed), labelled_weight)])
    n_free = len(counts) - len(fixed)
    sizes = [len(COMPARISONS[c].levels) for c in free]
    us = [u[c] for c in free]
    if start_m is not None:
        ms = [np.asarray(start_m[c], np.float64) for c in free]
    else:
        ms = [_initial(s) for s in sizes]
    prior, done = 0.5, 0
    for step in range(1, iterations + 1):
        done = step
        logit = np.full(len(patterns), math.log(prior / (1 - prior)))
        for j in range(len(free)):
            col = patterns[:, j]
            ratio = np.log(np.maximum(ms[j][col], _EPS)) - np.log(np.maximum(us[j][col], _EPS))
            logit += np.where(col > 0, ratio, 0.0)
        resp = 1.0 / (1.0 + np.exp(-np.clip(logit, -60, 60)))
        resp[n_free:] = fixed
        wm = counts * resp
        prior = float(np.clip(wm[:n_free].sum() / max(counts[:n_free].sum(), _EPS), 1e-4, 0.999))
        new = []
        for j, s in enumerate(sizes):
            mm = np.bincount(patterns[:, j], weights=wm, minlength=s).astype(np.float64) + 0.1
            mm[0] = 0.0
            new.append(mm / mm.sum())
        shift = max(
            (float(np.abs(a - b).max()) for a, b in zip(new, ms, strict=False)), default=0.0
        )
        ms = new
        if shift < 1e-5:
            break
    return dict(zip(free, ms, strict=False)), done


def estimate_prior(
    levels: np.ndarray | tuple[np.ndarray, np.ndarray],
    m: list[np.ndarray],
    u: list[np.ndarray],
    total_pairs: float,
    iterations: int = 50,
) -> float:
    """Share of all record pairs that are the same child.

    Pairs outside the candidates are taken as different children (blocking misses few), so the
    prior is the fixed point of: prior = expected matches among candidates / all pairs.
    ``levels``: the candidates' level matrix, or its ``histogram``.
    """
    patterns, counts = levels if isinstance(levels, tuple) else histogram(levels)
    ratio = np.zeros(len(patterns))
    for c in range(len(COMPARISONS)):
        col = patterns[:, c]
        w = np.log(np.maximum(m[c][col], _EPS)) - np.log(np.maximum(u[c][col], _EPS))
        ratio += np.where(col > 0, w, 0.0)
    prior = max(float(counts.sum()) / max(total_pairs, 1.0) * 0.1, 1e-9)
    for _ in range(iterations):
        logit = math.log(prior / (1 - prior)) + ratio
        expected = float((counts / (1.0 + np.exp(-np.clip(logit, -60, 60)))).sum())
        new = min(max(expected / max(total_pairs, 1.0), 1e-9), 0.5)
        if abs(new - prior) < prior * 1e-4:
            prior = new
            break
        prior = new
    return prior


def posterior(levels: np.ndarray, m: list[np.ndarray], u: list[np.ndarray], prior: float):
    """P(same child | levels) for each row of a level matrix (no term frequencies)."""
    logit = np.full(len(levels), math.log(prior / (1 - prior)))
    for c in range(len(COMPARISONS)):
        col = levels[:, c].astype(np.int64)
        w = np.log(np.maximum(m[c][col], _EPS)) - np.log(np.maximum(u[c][col], _EPS))
        logit += np.where(col > 0, w, 0.0)
    return 1.0 / (1.0 + np.exp(-np.clip(logit, -60, 60)))


def _initial(level_count: int) -> np.ndarray:
    """Starting m: most mass on the first (agreeing) levels."""
    n = level_count - 1
    p = 0.5 ** np.arange(n, dtype=np.float64)
    return np.concatenate([[0.0], p / p.sum()])


def histogram(levels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct level patterns and their counts (rows packed into one int: fast at scale),
    patterns in increasing order."""
    if len(levels) == 0:
        return np.zeros((0, levels.shape[1] if levels.ndim == 2 else 0), np.int64), np.zeros(0)
    width = levels.shape[1]
    # levels under 8 on a large matrix: 3 bits a column, at most 30 bits a pattern (ten
    # comparisons); the codes are then int32 and sorted in place (an int64 copy of the levels
    # of 18M pairs would take 1.1 GB, and int64 codes with np.unique 0.2 GB more at the peak)
    small = 3 * width <= 30 and len(levels) > 1 << 16 and int(levels.max()) < 8
    base = 8 if small else 16
    code = np.zeros(len(levels), np.int32 if small else np.int64)
    for c in range(width):
        code *= base
        code += levels[:, c]
    if small:
        code.sort()
        first = np.flatnonzero(np.concatenate([[True], code[1:] != code[:-1]]))
        counts = np.diff(np.append(first, len(code)))
        distinct = code[first].astype(np.int64)
        del code
    else:
        distinct, counts = np.unique(code, return_counts=True)
    patterns = np.zeros((len(distinct), width), np.int64)
    for c in range(width - 1, -1, -1):
        patterns[:, c] = distinct % base
        distinct = distinct // base
    return patterns, counts.astype(np.float64)


def tf_adjustment(
    words: Sequence[str], ids: np.ndarray, freq: Counter[str], u_exact: float, bound: float
) -> np.ndarray:
    """Bits to add to an exact name agreement on each key (rare > 0, common < 0).

    As in Splink: the u of agreeing on key v is its relative frequency f(v) instead of the
    level's average u; the shift log2(u_exact / f(v)) is bounded to +-``bound`` bits.
    """
    total = max(sum(freq.values()), 1)
    distinct, inverse = np.unique(ids, return_inverse=True)
    f = np.fromiter((freq.get(words[i], 1) / total for i in distinct), np.float64, len(distinct))
    shift = np.clip(np.log2(u_exact / np.maximum(f, _EPS)), -bound, bound)
    return shift[inverse.reshape(-1)]
