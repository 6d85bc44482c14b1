"""Blocking on the other named attributes (``PersonRecord.extra``), next to the name keys.

Where records carry other attributes (FEBRL's social security number, postcode, street
number...), a pair whose names are both mistyped still meets on them: one key per attribute
value and one per two attribute values together (postcode + street number). Blocks larger than
``max_block_size`` are skipped as for the name keys. Records without attributes (the bridge)
have no keys here, so this adds nothing there.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable

import numpy as np

from dedupe.prepare import Prepared


def extra_keys(t: Prepared, row: int) -> list[str]:
    attrs = t.extra[row] if row < len(t.extra) else ()
    keys = [f"x|{name}|{value}" for name, value in attrs]
    for (n1, v1), (n2, v2) in itertools.combinations(attrs, 2):
        keys.append(f"xx|{n1}|{v1}|{n2}|{v2}")
    return keys


class ExtraBlocks:
    """Attribute key -> rows holding it."""

    def __init__(self) -> None:
        self.rows: dict[str, list[int]] = defaultdict(list)

    def add(self, t: Prepared, rows: Iterable[int]) -> None:
        for row in rows:
            for key in extra_keys(t, row):
                self.rows[key].append(row)

    def remove(self, t: Prepared, rows: Iterable[int]) -> None:
        for row in rows:
            for key in extra_keys(t, row):
                members = self.rows.get(key)
                if members and row in members:
                    members.remove(row)

    def pairs(
        self, t: Prepared, rows: Iterable[int] | None, max_block: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """Pairs sharing a block with ``rows`` (every block when None), a < b."""
        if rows is None:
            keys: Iterable[str] = sorted(self.rows)
        else:
            keys = sorted({k for row in rows for k in extra_keys(t, row)})
        a_parts, b_parts = [], []
        for key in keys:
            members = self.rows.get(key, [])
            if 2 <= len(members) <= max_block:
                arr = np.asarray(members, np.int64)
                i, j = np.triu_indices(len(arr), 1)
                a_parts.append(arr[i])
                b_parts.append(arr[j])
        if not a_parts:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        a, b = np.concatenate(a_parts), np.concatenate(b_parts)
        return np.minimum(a, b), np.maximum(a, b)


def union_pairs(
    first: tuple[np.ndarray, np.ndarray], second: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct pairs (a < b) of both sets, sorted."""
    if len(second[0]) == 0:
        return first
    a = np.concatenate([first[0], second[0]])
    b = np.concatenate([first[1], second[1]])
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    code = np.unique(lo * (1 << 32) + hi)
    return code >> 32, code & ((1 << 32) - 1)
