"""Blocking: cheap keys so that a true pair shares at least one, and few other pairs do.

Keys per record (each name key for both its Latin and its Khmer-derived spelling):
phonetic given + birth year; phonetic family + birth year; given and family together (order
free, so swaps meet); given + province; family + district; caregiver; village + birth year;
exact date of birth; given + day and month (year typos); each name + the other's initial;
consonant skeletons (vowel typos) of
given + family, of given + birth year (or the year before), of family + village. A block larger than
``max_block_size`` is skipped for that key (a common surname in a common year says little);
the other keys still bring a true pair together.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from dedupe.arrays import sorted_unique, sorted_unique_inplace
from dedupe.block_codes import KeyVocabulary, entries, rule_entries
from dedupe.dates import EXACT
from dedupe.phonetic import consonant_skeleton
from dedupe.prepare import Prepared


def block_keys(t: Prepared, row: int) -> set[str]:
    """The blocking keys of one prepared record."""
    keys: set[str] = set()
    year = int(t.year[row])
    loc = t.location[row]
    givens = [g for g in t.given_key[row] if g]
    families = [f for f in t.family_key[row] if f]
    exact = int(t.precision[row]) == EXACT
    for g in givens:
        if year:
            keys.add(f"gy|{g}|{year}")
        if len(loc) >= 2:
            keys.add(f"gp|{g}|{loc[:2]}")
        if exact:
            keys.add(f"gd|{g}|{t.month[row]}-{t.day[row]}")
        for f in families:
            keys.add("gf|" + "|".join(sorted((g, f))))
            # one name right, the other mistyped beyond its key: name + initial of the other
            keys.add(f"gi|{g}|{f[0]}")
            keys.add(f"fi|{f}|{g[0]}")
    for f in families:
        if year:
            keys.add(f"fy|{f}|{year}")
            # swapped names: the family name may sit in the given field of the other record
            keys.add(f"gy|{f}|{year}")
        if len(loc) >= 4:
            keys.add(f"fd|{f}|{loc[:4]}")
    skeletons = {consonant_skeleton(g) for g in givens}
    family_skeletons = {consonant_skeleton(f) for f in families}
    for g in skeletons:
        for f in family_skeletons:
            keys.add("sk|" + "|".join(sorted((g, f))))
        if year:
            # a year and the one before, so birth years one apart still meet
            keys.add(f"sy|{g}|{year}")
            keys.add(f"sy|{g}|{year - 1}")
    if len(loc) >= 8:
        for f in family_skeletons:
            keys.add(f"fv|{f}|{loc}")
    for c in t.caregiver_keys[row]:
        keys.add(f"cg|{c}")
    if len(loc) >= 8 and year:
        keys.add(f"vy|{loc}|{year}")
        keys.add(f"vy|{loc}|{year - 1}")
    if exact:
        keys.add(f"dob|{year}-{t.month[row]}-{t.day[row]}")
    return keys


class BlockIndex:
    """Blocking keys of a prepared table's rows, as sorted integer codes (``block_codes``).

    Removed rows are only marked: their keys stop counting, and a row number is never reused.
    """

    def __init__(self) -> None:
        self.codes = np.zeros(0, np.int64)  # sorted
        self.rows = np.zeros(0, np.int32)  # row of each code
        self.vocab = KeyVocabulary()
        self._dead = np.zeros(0, bool)
        self._n_dead = 0

    def add(self, t: Prepared, rows: Iterable[int]) -> None:
        codes, owners = entries(t, _as_rows(rows), self.vocab)
        if len(self.codes) == 0:
            self.codes, self.rows = codes, owners
            return
        at = np.searchsorted(self.codes, codes, side="right")
        self.codes = np.insert(self.codes, at, codes)
        self.rows = np.insert(self.rows, at, owners)

    def remove(self, t: Prepared, rows: Iterable[int]) -> None:
        rows = _as_rows(rows)
        if len(rows) == 0:
            return
        top = int(rows.max()) + 1
        if top > len(self._dead):
            self._dead = np.concatenate([self._dead, np.zeros(top - len(self._dead), bool)])
        self._dead[rows] = True
        self._n_dead = int(self._dead.sum())

    def _live(self, codes: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self._n_dead == 0:
            return codes, rows
        dead = np.zeros(len(rows), bool)
        inside = rows < len(self._dead)
        dead[inside] = self._dead[rows[inside]]
        return codes[~dead], rows[~dead]

    def all_pairs(self, max_block: int) -> tuple[np.ndarray, np.ndarray]:
        """Every pair (a < b) sharing a block of acceptable size."""
        return _unique(_group_pairs(*self._live(self.codes, self.rows), max_block))

    def pairs_with(
        self, t: Prepared, new_rows: Iterable[int], max_block: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Pairs between ``new_rows`` (already added) and any row sharing a block with them."""
        wanted = np.unique(entries(t, _as_rows(new_rows), self.vocab)[0])
        lo = np.searchsorted(self.codes, wanted, side="left")
        hi = np.searchsorted(self.codes, wanted, side="right")
        size = hi - lo
        # a block only shrinks below its stored size when rows were removed
        keep = (size >= 2) & ((size <= max_block) | (self._n_dead > 0))
        lo, size = lo[keep], size[keep]
        idx = np.repeat(lo - np.cumsum(size) + size, size) + np.arange(int(size.sum()))
        return _unique(_group_pairs(*self._live(self.codes[idx], self.rows[idx]), max_block))


def _as_rows(rows: Iterable[int]) -> np.ndarray:
    if isinstance(rows, range):
        return np.arange(rows.start, rows.stop, rows.step, dtype=np.int64)
    return np.fromiter((int(r) for r in rows), np.int64)


def _group_pairs(codes: np.ndarray, rows: np.ndarray, max_block: int) -> list[np.ndarray]:
    """Pairs of rows within each run of equal codes (a block) of 2..max_block rows."""
    if len(codes) < 2:
        return []
    starts = np.flatnonzero(np.concatenate([[True], codes[1:] != codes[:-1]]))
    sizes = np.diff(np.append(starts, len(codes)))
    chunks = []
    for k in np.unique(sizes[(sizes >= 2) & (sizes <= max_block)]).tolist():
        first = starts[sizes == k]
        members = rows[first[:, None] + np.arange(k)].astype(np.int64)
        i, j = _triu(k)
        chunks.append(_pair_codes(members[:, i].ravel(), members[:, j].ravel()))
    return chunks


_TRIU: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def _triu(k: int) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i < j) of a block of k rows, cached (blocks are small)."""
    found = _TRIU.get(k)
    if found is None:
        found = _TRIU[k] = np.triu_indices(k, 1)
    return found


def _unique(chunks: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Distinct pairs (a < b), sorted, from chunks of pair codes (``_pair_codes``); the chunks
    are consumed (at 1M records they hold ~20M codes: they are freed before the sort)."""
    if not chunks:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    code = chunks[0] if len(chunks) == 1 else np.concatenate(chunks)
    single = len(chunks) == 1  # one chunk is sorted and distinct already
    chunks.clear()
    if not single:
        code = sorted_unique_inplace(code)
    high = code >> 32
    code &= (1 << 32) - 1  # the low rows, in place
    return high, code


def _pair_codes(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distinct codes (low row << 32 | high row) of pairs, sorted."""
    return sorted_unique(np.minimum(a, b) * (1 << 32) + np.maximum(a, b))


def candidate_pairs(t: Prepared, max_block: int) -> tuple[np.ndarray, np.ndarray]:
    index = BlockIndex()
    index.add(t, range(len(t)))
    return index.all_pairs(max_block)


def rule_pairs(
    t: Prepared, rows: Iterable[int], rule: str, max_block: int
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs agreeing on one training rule (used to estimate m of the other comparisons):
    "names" (given and family phonetic keys agree, either order) or "birth" (exact date of
    birth and province agree)."""
    return _unique(_group_pairs(*rule_entries(t, _as_rows(rows), rule), max_block))
