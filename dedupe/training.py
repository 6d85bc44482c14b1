"""Fitting a model to the records being linked (no labels needed)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from dedupe.blocking import rule_pairs
from dedupe.comparisons import (
    BIRTH_DATE,
    CAREGIVER,
    COMPARISONS,
    FAMILY_NAME,
    GIVEN_NAME,
    LOCATION,
    OTHER,
    RARE_DETAIL,
    SEX,
    SYSTEMS,
)
from dedupe.pair_chunks import levels_of
from dedupe.prepare import Prepared
from dedupe.settings import MatchSettings
from dedupe.weights import ModelParams, em_m, estimate_prior, histogram, posterior, random_u

_IDX = {c.name: n for n, c in enumerate(COMPARISONS)}
# rule -> the comparisons whose m it estimates (those it does not block on)
_RULES: tuple[tuple[str, tuple[int, ...]], ...] = (
    # sex goes with the given name and caregivers' names with the family name, so their m is
    # estimated where names are free to differ
    ("names", tuple(_IDX[c.name] for c in (BIRTH_DATE, LOCATION, OTHER, RARE_DETAIL, SYSTEMS))),
    ("birth", tuple(_IDX[c.name] for c in (GIVEN_NAME, FAMILY_NAME, SEX, CAREGIVER))),
)


def _sample(rng: np.random.Generator, a: np.ndarray, b: np.ndarray, cap: int):
    if len(a) <= cap:
        return a, b
    pick = rng.choice(len(a), cap, replace=False)
    return a[pick], b[pick]


def random_pairs(rng: np.random.Generator, rows: np.ndarray, n: int) -> tuple[np.ndarray, ...]:
    a = rng.choice(rows, n)
    b = rng.choice(rows, n)
    keep = a != b
    return a[keep], b[keep]


def fit_params(
    table: Prepared,
    rows: np.ndarray,
    candidates: tuple[np.ndarray, np.ndarray] | np.ndarray,
    settings: MatchSettings,
    *,
    labelled: np.ndarray | None = None,
    labels: Sequence[bool] = (),
    freq: dict[str, Counter[str]] | None = None,
) -> ModelParams:
    """u from random pairs, m by EM per rule, prior over all pairs of ``rows``.

    ``candidates`` are the blocked pairs (a, b) or, already computed, their level matrix.
    """
    rng = np.random.default_rng(settings.seed)
    n = len(rows)
    total_pairs = n * (n - 1) / 2
    ra, rb = random_pairs(rng, rows, min(settings.u_pairs, max(int(total_pairs), 1)))
    random_levels = levels_of(table, ra, rb)
    u = random_u(random_levels)
    rule_levels = []
    for rule, free in _RULES:
        a, b = rule_pairs(table, rows, rule, settings.max_block_size)
        a, b = _sample(rng, a, b, settings.em_max_pairs)
        rule_levels.append((levels_of(table, a, b), free))
    if isinstance(candidates, np.ndarray):
        cand_levels, scale = candidates, 1.0
    else:
        ca, cb = candidates
        scale = max(len(ca) / settings.em_max_pairs, 1.0)
        ca, cb = _sample(rng, ca, cb, settings.em_max_pairs)
        cand_levels = levels_of(table, ca, cb)
    # the candidates' level patterns, counted once for both rounds (millions of pairs)
    cand_histogram = histogram(cand_levels)
    iterations = 0
    m: list[np.ndarray] = []
    prior = 0.0
    # Two rounds: the second estimates u again without the random pairs the first model
    # takes for the same child (see ``random_u``), then m and the prior with that u.
    for round_ in range(2):
        if round_:
            u = random_u(random_levels, weights=1.0 - posterior(random_levels, m, u, prior))
        m = [np.zeros(len(c.levels)) for c in COMPARISONS]
        for levels, free in rule_levels:
            found, done = em_m(
                levels,
                u,
                free,
                labelled=labelled,
                labels=labels,
                iterations=settings.em_iterations,
            )
            iterations += done
            for c, values in found.items():
                m[c] = values
        prior = estimate_prior(cand_histogram, m, u, total_pairs / scale)
    summary = {
        name: {"distinct": len(c), "records": sum(c.values())} for name, c in (freq or {}).items()
    }
    return ModelParams(
        m=[x.tolist() for x in m],
        u=[x.tolist() for x in u],
        prior=prior,
        tf_summary=summary,
        pairs_used=int(len(ra) + len(cand_levels)),
        iterations=iterations,
    )
