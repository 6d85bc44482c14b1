"""The integer-coded blocking gives exactly the pairs of the string-keyed reference."""

from __future__ import annotations

from datetime import date

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from dedupe.blocking import BlockIndex, candidate_pairs, rule_pairs
from dedupe.prepare import Prepared, prepare
from dedupe.records import PersonRecord
from tests.dedupe_perf import reference


def _same(x: tuple[np.ndarray, np.ndarray], y: tuple[np.ndarray, np.ndarray]) -> bool:
    return all(np.array_equal(p, q) for p, q in zip(x, y, strict=True))


def test_all_pairs_match_reference(dev_table: Prepared) -> None:
    ref = reference.ReferenceBlocks()
    ref.add(dev_table, range(len(dev_table)))
    for max_block in (30, 4):
        assert _same(candidate_pairs(dev_table, max_block), ref.all_pairs(max_block))


def test_incremental_add_and_remove_match_reference(dev_table: Prepared) -> None:
    fast, ref = BlockIndex(), reference.ReferenceBlocks()
    first = len(dev_table) - 700
    for index in (fast, ref):
        index.add(dev_table, range(first))
        index.add(dev_table, range(first, len(dev_table)))
    new_rows = range(first, len(dev_table))
    assert _same(fast.pairs_with(dev_table, new_rows, 30), ref.pairs_with(dev_table, new_rows, 30))
    for index in (fast, ref):
        index.remove(dev_table, [3, first + 1, 500])
    for max_block in (30, 3):
        assert _same(fast.all_pairs(max_block), ref.all_pairs(max_block))
        assert _same(
            fast.pairs_with(dev_table, new_rows, max_block),
            ref.pairs_with(dev_table, new_rows, max_block),
        )


def test_rule_pairs_match_reference(dev_table: Prepared) -> None:
    rows = np.arange(0, len(dev_table), 2)
    for rule in ("names", "birth"):
        assert _same(
            rule_pairs(dev_table, rows, rule, 30),
            reference.rule_pairs(dev_table, rows, rule, 30),
        )


_NAMES = ["Sok", "Sokha", "Dara", "Srey Mom", "Sreymom", "Chan", "Chann", "A", "Y", "Kong", ""]
_KHMER = ["សុខ", "ដារា", "ចាន់", ""]
_records = st.builds(
    PersonRecord,
    key=st.uuids().map(str),
    system=st.sampled_from(["primero", "oscar"]),
    given=st.sampled_from(_NAMES) | st.text(max_size=6),
    family=st.sampled_from(_NAMES),
    given_km=st.sampled_from(_KHMER),
    full_km=st.sampled_from(["", "សុខ ដារា", "ចាន់"]),
    sex=st.sampled_from(["female", "male", None]),
    birth_date=st.none() | st.dates(date(2008, 1, 1), date(2010, 12, 31)),
    birth_precision=st.sampled_from(["exact", "year", "unknown"]),
    location_code=st.sampled_from([None, "12", "1214", "121403", "12140302", "2050503", "x"]),
    caregivers=st.lists(
        st.sampled_from(["Kong Sokhom", "Sok Dara", "ចាន់ ដារា", ""]), max_size=2
    ).map(tuple),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(_records, min_size=2, max_size=25), st.integers(2, 6))
def test_any_records_block_like_reference(records: list[PersonRecord], max_block: int) -> None:
    table = prepare(records)
    ref = reference.ReferenceBlocks()
    ref.add(table, range(len(table)))
    assert _same(candidate_pairs(table, max_block), ref.all_pairs(max_block))
    rows = np.arange(len(table))
    for rule in ("names", "birth"):
        assert _same(
            rule_pairs(table, rows, rule, max_block),
            reference.rule_pairs(table, rows, rule, max_block),
        )
