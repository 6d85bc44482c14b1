"""The string-keyed blocking the integer codes replaced: a dict of key -> rows, kept here as
the reference the fast blocking is checked against."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import numpy as np

from dedupe.blocking import block_keys
from dedupe.dates import EXACT
from dedupe.prepare import Prepared


def _pairs(groups: Iterable[list[int]], max_block: int) -> tuple[np.ndarray, np.ndarray]:
    codes: set[int] = set()
    for members in groups:
        if 2 <= len(members) <= max_block:
            for i, x in enumerate(members):
                for y in members[i + 1 :]:
                    codes.add(min(x, y) << 32 | max(x, y))
    code = np.array(sorted(codes), np.int64)
    return code >> 32, code & ((1 << 32) - 1)


class ReferenceBlocks:
    def __init__(self) -> None:
        self.rows: dict[str, list[int]] = defaultdict(list)

    def add(self, t: Prepared, rows: Iterable[int]) -> None:
        for row in rows:
            for key in block_keys(t, row):
                self.rows[key].append(row)

    def remove(self, t: Prepared, rows: Iterable[int]) -> None:
        for row in rows:
            for key in block_keys(t, row):
                if row in self.rows.get(key, []):
                    self.rows[key].remove(row)

    def all_pairs(self, max_block: int) -> tuple[np.ndarray, np.ndarray]:
        return _pairs(self.rows.values(), max_block)

    def pairs_with(
        self, t: Prepared, new_rows: Iterable[int], max_block: int
    ) -> tuple[np.ndarray, np.ndarray]:
        keys = {key for row in new_rows for key in block_keys(t, row)}
        return _pairs((self.rows.get(key, []) for key in keys), max_block)


def rule_key(t: Prepared, row: int, rule: str) -> list[str]:
    if rule == "names":
        return [
            "|".join(sorted((g, f)))
            for g in {x for x in t.given_key[row] if x}
            for f in {x for x in t.family_key[row] if x}
        ]
    if int(t.precision[row]) != EXACT:
        return []
    return [f"{t.year[row]}-{t.month[row]}-{t.day[row]}|{t.location[row][:2]}"]


def rule_pairs(
    t: Prepared, rows: Iterable[int], rule: str, max_block: int
) -> tuple[np.ndarray, np.ndarray]:
    groups: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        for key in rule_key(t, int(row), rule):
            groups[key].append(int(row))
    return _pairs(groups.values(), max_block)
