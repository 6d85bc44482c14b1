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

from collections import defaultdict
from collections.abc import Iterable

import numpy as np

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
    """Block key -> rows holding it (rows are small ints into a prepared table)."""

    def __init__(self) -> None:
        self.rows: dict[str, list[int]] = defaultdict(list)

    def add(self, t: Prepared, rows: Iterable[int]) -> None:
        for row in rows:
            for key in block_keys(t, row):
                self.rows[key].append(row)

    def remove(self, t: Prepared, rows: Iterable[int]) -> None:
        for row in rows:
            for key in block_keys(t, row):
                members = self.rows.get(key)
                if members and row in members:
                    members.remove(row)

    def all_pairs(self, max_block: int) -> tuple[np.ndarray, np.ndarray]:
        """Every pair (a < b) sharing a block of acceptable size."""
        chunks = []
        for members in self.rows.values():
            k = len(members)
            if 2 <= k <= max_block:
                arr = np.asarray(members, np.int64)
                i, j = _triu(k)
                chunks.append((arr[i], arr[j]))
        return _unique(chunks)

    def pairs_with(
        self, t: Prepared, new_rows: Iterable[int], max_block: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Pairs between ``new_rows`` (already added) and any row sharing a block with them."""
        chunks = []
        seen_keys: set[str] = set()
        for row in new_rows:
            for key in block_keys(t, row):
                if key in seen_keys:
                    continue
                seen_keys.add(key)
                members = self.rows.get(key, [])
                k = len(members)
                if 2 <= k <= max_block:
                    arr = np.asarray(members, np.int64)
                    i, j = _triu(k)
                    chunks.append((arr[i], arr[j]))
        return _unique(chunks)


_TRIU: dict[int, tuple[np.ndarray, np.ndarray]] = {}


def _triu(k: int) -> tuple[np.ndarray, np.ndarray]:
    """Index pairs (i < j) of a block of k rows, cached (blocks are small)."""
    found = _TRIU.get(k)
    if found is None:
        found = _TRIU[k] = np.triu_indices(k, 1)
    return found


def _unique(chunks: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    if not chunks:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    a = np.concatenate([c[0] for c in chunks])
    b = np.concatenate([c[1] for c in chunks])
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    code = np.unique(lo * (1 << 32) + hi)
    return code >> 32, code & ((1 << 32) - 1)


def candidate_pairs(t: Prepared, max_block: int) -> tuple[np.ndarray, np.ndarray]:
    index = BlockIndex()
    index.add(t, range(len(t)))
    return index.all_pairs(max_block)


def _rule_key(t: Prepared, row: int, rule: str) -> list[str]:
    if rule == "names":  # given and family phonetic keys agree (either order)
        return [
            "|".join(sorted((g, f)))
            for g in {x for x in t.given_key[row] if x}
            for f in {x for x in t.family_key[row] if x}
        ]
    if rule == "birth":  # exact date of birth and province agree
        if int(t.precision[row]) != EXACT:
            return []
        return [f"{t.year[row]}-{t.month[row]}-{t.day[row]}|{t.location[row][:2]}"]
    raise ValueError(f"unknown training rule {rule}")


def rule_pairs(
    t: Prepared, rows: Iterable[int], rule: str, max_block: int
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs agreeing on one training rule (used to estimate m of the other comparisons)."""
    groups: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        for key in _rule_key(t, int(row), rule):
            groups[key].append(int(row))
    chunks = []
    for members in groups.values():
        k = len(members)
        if 2 <= k <= max_block:
            arr = np.asarray(members, np.int64)
            i, j = _triu(k)
            chunks.append((arr[i], arr[j]))
    return _unique(chunks)
