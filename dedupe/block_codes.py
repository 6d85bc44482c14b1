"""Blocking keys as 64-bit integer codes, computed with numpy over many records at once.

Each string key of ``blocking.block_keys`` ("gy|sokha|2014") has one integer code here:
the key kind in the top bits, then two small integers (word ids of the prepared table's
vocabulary, skeleton ids, years, location codes). Two records share a code exactly when they
share the string key, so blocks are the same; a few bytes per key instead of a Python string
and a dict entry (1M records hold about 25M keys).
"""

from __future__ import annotations

import sys

import numpy as np

from dedupe.dates import EXACT
from dedupe.phonetic import consonant_skeleton
from dedupe.prepare import Prepared

_FIELD = 29  # bits of each of the two numbers in a code
_LIMIT = 1 << _FIELD
(GY, GP, GD, GF, GI, FI, FY, FD, SK, SY, FV, CG, VY, DOB, RULE_NAMES, RULE_BIRTH) = range(16)


class KeyVocabulary:
    """Per-word features that keys need (initial letter, consonant skeleton id) and the
    caregiver-key vocabulary; grows with the prepared table's vocabulary."""

    def __init__(self) -> None:
        self.initial = np.zeros(1, np.int64)  # word id -> code of its first letter
        self.skeleton = np.zeros(1, np.int64)  # word id -> id of its consonant skeleton
        self._skeleton_id: dict[str, int] = {}
        self._carer_id: dict[str, int] = {}

    def update(self, words: list[str]) -> None:
        start = len(self.initial)
        if start >= len(words):
            return
        fresh = words[start:]
        initial = np.fromiter((ord(w[0]) if w else 0 for w in fresh), np.int64, len(fresh))
        seen = self._skeleton_id
        # every skeleton (even an empty one) is a key part in block_keys: ids start at 1
        skeleton = np.fromiter(
            (seen.setdefault(consonant_skeleton(w), len(seen) + 1) if w else 0 for w in fresh),
            np.int64,
            len(fresh),
        )
        self.initial = np.concatenate([self.initial, initial])
        self.skeleton = np.concatenate([self.skeleton, skeleton])

    def carer(self, key: str) -> int:
        return self._carer_id.setdefault(sys.intern(key), len(self._carer_id) + 1)


def _code(kind: int, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    if len(x) and (int(x.max()) >= _LIMIT or int(y.max()) >= _LIMIT or int(y.min()) < 0):
        raise OverflowError("blocking key part out of range")
    return (np.int64(kind) << np.int64(2 * _FIELD)) | (x << _FIELD) | y


class _Sink:
    """Collects (code, row) entries kind by kind, each kind sorted and without duplicates;
    kinds are emitted in increasing order, so the concatenation is sorted too."""

    def __init__(self) -> None:
        self.codes: list[np.ndarray] = []
        self.rows: list[np.ndarray] = []
        self._kind: list[tuple[np.ndarray, np.ndarray]] = []

    def put(
        self, kind: int, x: np.ndarray, y: np.ndarray, rows: np.ndarray, mask: np.ndarray
    ) -> None:
        self._kind.append((_code(kind, x[mask], y[mask]), rows[mask]))

    def close_kind(self, distinct: bool = True) -> None:
        if not self._kind:
            return
        codes = np.concatenate([c for c, _ in self._kind])
        rows = np.concatenate([r for _, r in self._kind]).astype(np.int32)
        self._kind = []
        order = np.lexsort((rows, codes))
        codes, rows = codes[order], rows[order]
        keep = np.ones(len(codes), bool)
        if distinct:
            keep[1:] = (codes[1:] != codes[:-1]) | (rows[1:] != rows[:-1])
        self.codes.append(codes[keep])
        self.rows.append(rows[keep])

    def result(self) -> tuple[np.ndarray, np.ndarray]:
        self.close_kind()
        if not self.codes:
            return np.zeros(0, np.int64), np.zeros(0, np.int32)
        return np.concatenate(self.codes), np.concatenate(self.rows)


def entries(t: Prepared, rows: np.ndarray, vocab: KeyVocabulary) -> tuple[np.ndarray, np.ndarray]:
    """Sorted (code, row) entries: every blocking key of every row in ``rows``, once."""
    rows = np.asarray(rows, np.int64)
    given, family = t.name_ids("given_key"), t.name_ids("family_key")
    vocab.update(t.words)
    g = [given[rows, s] for s in (0, 1)]
    f = [family[rows, s] for s in (0, 1)]
    year = t.year[rows].astype(np.int64)
    has_year = year != 0
    month_day = t.month[rows].astype(np.int64) * 32 + t.day[rows].astype(np.int64)
    exact = t.precision[rows] == EXACT
    loc = t.location_levels()[rows]
    p2, p4, p8 = loc[:, 0], loc[:, 1], loc[:, 3]
    out = _Sink()
    # names with the birth year: given names and (swapped) family names share the kind
    for name in (*g, *f):
        out.put(GY, name, year, rows, (name > 0) & has_year)
    out.close_kind()
    for kind, part, known in ((GP, p2, p2 > 0), (GD, month_day, exact)):
        for name in g:
            out.put(kind, name, part, rows, (name > 0) & known)
        out.close_kind()
    for kind in (GF, GI, FI):
        for gn in g:
            for fn in f:
                both = (gn > 0) & (fn > 0)
                if kind == GF:
                    out.put(kind, np.minimum(gn, fn), np.maximum(gn, fn), rows, both)
                elif kind == GI:
                    out.put(kind, gn, vocab.initial[fn], rows, both)
                else:
                    out.put(kind, fn, vocab.initial[gn], rows, both)
        out.close_kind()
    for kind, part, known in ((FY, year, has_year), (FD, p4, p4 > 0)):
        for name in f:
            out.put(kind, name, part, rows, (name > 0) & known)
        out.close_kind()
    gs = [vocab.skeleton[x] for x in g]
    fs = [vocab.skeleton[x] for x in f]
    for gk in gs:
        for fk in fs:
            out.put(SK, np.minimum(gk, fk), np.maximum(gk, fk), rows, (gk > 0) & (fk > 0))
    out.close_kind()
    for gk in gs:
        out.put(SY, gk, year, rows, (gk > 0) & has_year)
        out.put(SY, gk, year - 1, rows, (gk > 0) & has_year)
    out.close_kind()
    for fk in fs:
        out.put(FV, fk, p8, rows, (fk > 0) & (p8 > 0))
    out.close_kind()
    carer_rows, carer_ids = [], []
    for row in rows.tolist():
        for key in t.caregiver_keys[row]:
            carer_rows.append(row)
            carer_ids.append(vocab.carer(key))
    if carer_rows:
        ids = np.asarray(carer_ids, np.int64)
        out.put(CG, ids, np.zeros(len(ids), np.int64), np.asarray(carer_rows, np.int64), ids > 0)
    out.close_kind()
    village_year = (p8 > 0) & has_year
    out.put(VY, p8, year, rows, village_year)
    out.put(VY, p8, year - 1, rows, village_year)
    out.close_kind()
    out.put(DOB, year, month_day, rows, exact)
    return out.result()


def rule_entries(t: Prepared, rows: np.ndarray, rule: str) -> tuple[np.ndarray, np.ndarray]:
    """Sorted (code, row) entries of one training rule (see ``blocking.rule_pairs``)."""
    rows = np.asarray(rows, np.int64)
    out = _Sink()
    if rule == "names":
        given, family = t.name_ids("given_key"), t.name_ids("family_key")
        g0, g1, f0, f1 = given[rows, 0], given[rows, 1], family[rows, 0], family[rows, 1]
        # every (given, family) combination of the distinct spellings; as in the string
        # version, two combinations giving one key (names swapped between the spellings)
        # both count, so a row may meet itself in a block
        for gn, g_ok in ((g0, g0 > 0), (g1, (g1 > 0) & (g1 != g0))):
            for fn, f_ok in ((f0, f0 > 0), (f1, (f1 > 0) & (f1 != f0))):
                out.put(RULE_NAMES, np.minimum(gn, fn), np.maximum(gn, fn), rows, g_ok & f_ok)
        out.close_kind(distinct=False)
    elif rule == "birth":
        date = (
            t.year[rows].astype(np.int64) * 512
            + t.month[rows].astype(np.int64) * 32
            + t.day[rows].astype(np.int64)
        )
        province = t.location_levels()[rows, 0]
        out.put(RULE_BIRTH, date, province, rows, t.precision[rows] == EXACT)
    else:
        raise ValueError(f"unknown training rule {rule}")
    return out.result()
