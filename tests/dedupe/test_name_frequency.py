"""Whole-name frequency: a namesake is likelier for a common name, and the pair's own two
records are not evidence of one."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from dedupe.comparisons import COMPARISONS, GIVEN_NAME
from dedupe.engine import _freq
from dedupe.fastpath import FastPairView
from dedupe.prepare import prepare
from dedupe.scoring import score
from dedupe.weights import ModelParams
from tests.dedupe.helpers import person

_GIVEN = COMPARISONS.index(GIVEN_NAME)


def _given_weight(params: ModelParams, others: int) -> float:
    """Given-name bits of an exact pair whose whole name ``others`` other records also carry."""
    pair = [
        person("p:1", "primero", given="Sovannarith", family="Chhim", birth_date="2014-03-05"),
        person("o:1", "oscar", given="Sovannarith", family="Chhim", birth_date="2014-03-05"),
    ]
    namesakes = [
        person(f"o:{n}", "oscar", given="Sovannarith", family="Chhim") for n in range(2, 2 + others)
    ]
    filler = [person(f"f:{n}", "f", given=f"Name{n}", family=f"Fam{n}") for n in range(200)]
    table = prepare(pair + namesakes + filler)
    freq: dict[str, Counter[str]] = _freq(table)
    scored = score(FastPairView(table, np.array([0]), np.array([1])), params, freq, tf_bound=30.0)
    return float(scored.weights[0, _GIVEN])


def test_a_name_only_the_pair_carries_counts_as_rare_as_one_other_record(
    fitted_params: ModelParams,
) -> None:
    # (one more record in the table: the share moves in the third decimal only)
    assert _given_weight(fitted_params, 0) == pytest.approx(
        _given_weight(fitted_params, 1), abs=0.01
    )


def test_more_namesakes_less_evidence(fitted_params: ModelParams) -> None:
    weights = [_given_weight(fitted_params, n) for n in (1, 3, 9)]
    assert weights[0] > weights[1] > weights[2]
