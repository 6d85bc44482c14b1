from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from dedupe.dates import EXACT, UNKNOWN, YEAR, birth_parts, one_digit_off, parse_date
from dedupe.locations import normalise_code, shared_depth


@pytest.mark.parametrize(
    ("birth", "precision", "expected"),
    [
        (date(2014, 3, 5), "exact", (2014, 3, 5, EXACT)),
        (date(2014, 1, 1), "exact", (2014, 0, 0, YEAR)),  # 1 January = estimated
        (date(2014, 7, 1), "estimated", (2014, 0, 0, YEAR)),
        (date(2014, 7, 1), "year", (2014, 0, 0, YEAR)),
        (None, "exact", (0, 0, 0, UNKNOWN)),
        (date(1800, 7, 1), "exact", (0, 0, 0, UNKNOWN)),
        ("2014-03-05", "exact", (0, 0, 0, UNKNOWN)),
    ],
)
def test_birth_parts(birth, precision, expected) -> None:
    assert birth_parts(birth, precision) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2014-03-05", date(2014, 3, 5)),
        ("22014-03-05", None),
        ("", None),
        (None, None),
        ("2014-02-30", None),
    ],
)
def test_parse_date(text, expected) -> None:
    assert parse_date(text) == expected


def test_one_digit_off() -> None:
    got = one_digit_off(np.array([12, 8, 12, 5]), np.array([17, 18, 12, 26]))
    assert got.tolist() == [True, True, False, False]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("2050503", "02050503"),
        ("02050503", "02050503"),
        ("12", "12"),
        ("1", "01"),
        (None, ""),
        ("abc", ""),
        ("", ""),
        ("123456789", ""),
        (12140302, "12140302"),
        ("00", ""),
    ],
)
def test_normalise_code(code, expected) -> None:
    assert normalise_code(code) == expected


def test_shared_depth() -> None:
    assert shared_depth("12140302", "12140302") == 4
    assert shared_depth("12140302", "12140399") == 3
    assert shared_depth("12140302", "1214") == 2
    assert shared_depth("12140302", "17") == 0
