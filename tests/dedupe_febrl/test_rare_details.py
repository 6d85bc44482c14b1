"""The "rare details" comparison: a shared rare attribute value (an identifier) as evidence."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dedupe.comparisons import RARE, RARE_DETAIL, PairView, level_matrix
from dedupe.fastpath import FastPairView
from dedupe.prepare import prepare
from dedupe.records import PersonRecord


def record(key: str, **extra: str) -> PersonRecord:
    return PersonRecord(key=key, system="a", extra=tuple(extra.items()))


def filler(n: int, **extra: str) -> list[PersonRecord]:
    """``n`` other records holding the given values (to make a value common)."""
    return [record(f"a:fill{i}", **extra) for i in range(n)]


def rare_level(left: PersonRecord, right: PersonRecord, others: list[PersonRecord] = ()) -> str:
    table = prepare([left, right, *others])
    view = PairView(table, np.array([0]), np.array([1]))
    return RARE_DETAIL.labels[int(RARE_DETAIL.level_of(view)[0])]


def test_no_attribute_on_both_is_null() -> None:
    assert rare_level(record("a:1", ssn="1824555"), record("a:2", suburb="malvern")) == "null"
    assert rare_level(record("a:1"), record("a:2")) == "null"


def test_two_rare_values_shared() -> None:
    left = record("a:1", ssn="1824555", street="hinchcliffe place")
    right = record("a:2", ssn="1824555", street="hinchcliffe place")
    assert rare_level(left, right) == "two or more rare values"


def test_one_rare_value_and_another_one_edit_apart() -> None:
    left = record("a:1", ssn="1824555", street="hinchcliffe place")
    right = record("a:2", ssn="1824565", street="hinchcliffe place")
    assert rare_level(left, right) == "one rare value, another one edit"


def test_a_transposition_is_one_edit() -> None:
    left = record("a:1", ssn="1824555", street="hinchcliffe place")
    right = record("a:2", ssn="1825455", street="hinchcliffe place")
    assert rare_level(left, right) == "one rare value, another one edit"


def test_one_rare_value() -> None:
    left = record("a:1", ssn="1824555", suburb="malvern")
    right = record("a:2", ssn="1824555", suburb="young")
    assert rare_level(left, right) == "one rare value"


def test_rare_values_one_edit_apart() -> None:
    left = record("a:1", ssn="1824555")
    right = record("a:2", ssn="1824556")
    assert rare_level(left, right) == "rare value one edit"


def test_short_values_one_edit_apart_do_not_count() -> None:
    # street numbers 14 / 4: one edit, but short values say nothing
    assert rare_level(record("a:1", number="14"), record("a:2", number="4")) == (
        "no rare value shared"
    )


def test_two_edits_apart_is_no_rare_value() -> None:
    left = record("a:1", ssn="1824555")
    right = record("a:2", ssn="1824666")
    assert rare_level(left, right) == "no rare value shared"


def test_a_common_value_shared_is_not_rare() -> None:
    # held by RARE + 1 records: a common suburb, not an identifier
    others = filler(RARE - 1, suburb="malvern")
    left, right = record("a:1", suburb="malvern"), record("a:2", suburb="malvern")
    assert rare_level(left, right, others) == "no rare value shared"
    assert rare_level(left, right, others[:-1]) == "one rare value"


def test_a_common_value_one_edit_from_a_rare_one_does_not_count() -> None:
    others = filler(RARE, ssn="1824555")
    left, right = record("a:1", ssn="1824555"), record("a:2", ssn="1824556")
    assert rare_level(left, right, others) == "no rare value shared"


def test_the_fast_view_agrees() -> None:
    records = [
        record("a:1", ssn="1824555", street="hinchcliffe place"),
        record("a:2", ssn="1824565", street="hinchcliffe place"),
        record("a:3", ssn="1824555", suburb="young"),
        record("a:4", number="14"),
    ]
    table = prepare(records)
    a, b = np.triu_indices(len(records), 1)
    assert (level_matrix(PairView(table, a, b)) == level_matrix(FastPairView(table, a, b))).all()


values = st.text(alphabet="abc12 ", min_size=0, max_size=7)
attrs = st.dictionaries(st.sampled_from(["ssn", "street", "suburb"]), values, max_size=3)


@settings(max_examples=60, deadline=None)
@given(st.lists(attrs, min_size=2, max_size=6))
def test_levels_are_symmetric_and_valid(rows: list[dict[str, str]]) -> None:
    table = prepare([record(f"a:{i}", **row) for i, row in enumerate(rows)])
    a, b = np.triu_indices(len(rows), 1)
    forward = RARE_DETAIL.level_of(PairView(table, a, b))
    backward = RARE_DETAIL.level_of(PairView(table, b, a))
    assert (forward == backward).all()
    assert ((forward >= 0) & (forward < len(RARE_DETAIL.levels))).all()


def test_records_without_attributes_have_no_rare_evidence() -> None:
    """The bridge's records carry no extra attributes: the comparison is always null."""
    table = prepare([PersonRecord(key=f"a:{i}", system="a", given="Dara") for i in range(4)])
    a, b = np.triu_indices(4, 1)
    assert (RARE_DETAIL.level_of(PairView(table, a, b)) == 0).all()


@pytest.mark.parametrize("n", [0, 1])
def test_empty_and_single_pair_batches(n: int) -> None:
    table = prepare([record("a:1", ssn="1824555"), record("a:2", ssn="1824555")])
    view = PairView(table, np.zeros(n, np.int64), np.ones(n, np.int64))
    assert len(RARE_DETAIL.level_of(view)) == n
