"""Dates of birth with their precision, and the comparisons a date level needs.

Precision codes (small ints, columns stay numeric): 0 unknown, 1 year only (estimated from an
age, or the 1 January placeholder), 2 exact. A 1 January date is treated as year-only even when
not flagged: systems write an estimated date of birth as YYYY-01-01.
"""

from __future__ import annotations

from datetime import date

import numpy as np

UNKNOWN, YEAR, EXACT = 0, 1, 2
_PRECISION = {"exact": EXACT, "year": YEAR, "estimated": YEAR, "unknown": UNKNOWN}
_MIN_YEAR, _MAX_YEAR = 1900, 2100


def birth_parts(birth: object, precision: str | None) -> tuple[int, int, int, int]:
    """(year, month, day, precision code) of a birth date; zeros when unknown or implausible."""
    if not isinstance(birth, date):
        return 0, 0, 0, UNKNOWN
    code = _PRECISION.get(precision or "unknown", UNKNOWN)
    if code == UNKNOWN:
        code = EXACT  # a date with no stated precision is taken as written
    if not _MIN_YEAR <= birth.year <= _MAX_YEAR:
        return 0, 0, 0, UNKNOWN
    if birth.month == 1 and birth.day == 1:
        code = YEAR
    if code == YEAR:
        return birth.year, 0, 0, YEAR
    return birth.year, birth.month, birth.day, EXACT


def parse_date(text: str | None) -> date | None:
    """ISO date or None (corrupt values such as '22014-03-05' are unknown, never raise)."""
    if not text:
        return None
    try:
        return date.fromisoformat(text.strip()[:10])
    except (ValueError, TypeError):
        return None


def swapped_day_month(m1: np.ndarray, d1: np.ndarray, m2: np.ndarray, d2: np.ndarray) -> np.ndarray:
    """Day and month swapped by the typist (05-03 vs 03-05), the two not being equal."""
    return (m1 == d2) & (d1 == m2) & (m1 != d1)


def one_digit_off(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Two-digit numbers that differ in exactly one digit (12 vs 17, 08 vs 18)."""
    return (a != b) & ((a // 10 == b // 10) | (a % 10 == b % 10))
