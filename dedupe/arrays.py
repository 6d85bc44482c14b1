"""Sort-based ``unique`` for large int64 arrays.

``np.unique`` without ``return_inverse`` goes through a hash table in NumPy 2.x, which is
many times slower than a sort on millions of pair codes; these give the same results.
"""

from __future__ import annotations

import numpy as np


def _firsts(ordered: np.ndarray) -> np.ndarray:
    flag = np.empty(len(ordered), bool)
    if len(ordered):
        flag[0] = True
        np.not_equal(ordered[1:], ordered[:-1], out=flag[1:])
    return flag


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """Same as ``np.unique(values)`` for a 1-d array."""
    ordered = np.sort(values)
    return ordered[_firsts(ordered)]


def sorted_unique_inplace(values: np.ndarray) -> np.ndarray:
    """``sorted_unique`` that sorts ``values`` itself (no sorted copy of a large array)."""
    values.sort()
    return values[_firsts(values)]


def unique_inverse(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Same as ``np.unique(values, return_inverse=True)`` for a 1-d array (flat inverse)."""
    order = np.argsort(values)
    ordered = values[order]
    flag = _firsts(ordered)
    inverse = np.empty(len(values), np.int64)
    inverse[order] = np.cumsum(flag) - 1
    return ordered[flag], inverse
