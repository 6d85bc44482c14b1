"""Prepared tables: the cached name columns equal the uncached computation, and the
incrementally grown caches equal those of a table built in one go."""

from __future__ import annotations

import numpy as np

import dedupe.prepare as prep
from dedupe.prepare import Prepared, prepare
from dedupe.records import PersonRecord


def test_name_columns_as_without_cache(dev_records: list[PersonRecord], dev_table: Prepared):
    for row, record in enumerate(dev_records):
        full_given, full_family = prep._khmer_order(record.full_km)
        given = prep._name_forms(
            *prep.split_name(prep._text(record.given), prep._text(record.given_km) or full_given)
        )
        family = prep._name_forms(
            *prep.split_name(prep._text(record.family), prep._text(record.family_km) or full_family)
        )
        assert (dev_table.given_clean[row], dev_table.given_key[row]) == given
        assert (dev_table.family_clean[row], dev_table.family_key[row]) == family
        carers = prep._caregiver_keys(record.caregivers, set(family[1]))
        assert dev_table.caregiver_keys[row] == carers


def _caches(t: Prepared) -> list[np.ndarray]:
    sig_given, table_given = t.name_signatures("given")
    sig_family, table_family = t.name_signatures("family")
    groups, lists = t.caregiver_groups()
    words = np.array(t.words, dtype=object)  # word ids depend on the order words came in
    assert np.array_equal(t.word_lengths(), [len(w) for w in t.words])
    return [
        t.location_levels(),
        t.home_known(),
        words[table_given[sig_given]],
        words[table_family[sig_family]],
        np.array([lists[g] for g in groups], dtype=object),
    ]


def test_grown_caches_equal_fresh(dev_records: list[PersonRecord]) -> None:
    grown = prepare(dev_records[:4000])
    _caches(grown)  # built on the first part, then extended
    grown.extend(prepare(dev_records[4000:]))
    fresh = prepare(dev_records)
    for x, y in zip(_caches(grown), _caches(fresh), strict=True):
        assert np.array_equal(x, y)


def _reference_name_ids(t: Prepared, columns: list[str]) -> tuple[list[str], list[np.ndarray]]:
    """Word ids as the row-by-row loop assigned them (first appearance, Latin then Khmer)."""
    words, word_id, out = [""], {"": 0}, []
    for column in columns:
        ids = np.zeros((len(t), 2), np.int64)
        for n, pair in enumerate(getattr(t, column)):
            pair = (pair, "") if isinstance(pair, str) else pair
            for side in (0, 1):
                ids[n, side] = word_id.setdefault(pair[side], len(words))
                if ids[n, side] == len(words):
                    words.append(pair[side])
        out.append(ids)
    return words, out


def test_name_ids_as_row_by_row(dev_records: list[PersonRecord]) -> None:
    columns = ["given_key", "family_clean", "nick_key", "family_key", "given_clean"]
    table = prepare(dev_records[:5000])
    table.name_ids("given_key")
    table.extend(prepare(dev_records[5000:]))  # the cache then grows
    got = [table.name_ids(c) for c in columns]
    words, expected = _reference_name_ids(table, columns)
    assert table.words == words
    for x, y in zip(got, expected, strict=True):
        assert np.array_equal(x, y)
