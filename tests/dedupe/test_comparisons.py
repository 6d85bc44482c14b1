"""One row per level: (description, comparison, left fields, right fields, expected level)."""

from __future__ import annotations

from datetime import date

import pytest

from dedupe.comparisons import (
    BIRTH_DATE,
    CAREGIVER,
    FAMILY_NAME,
    GIVEN_NAME,
    LOCATION,
    SEX,
    PairView,
    sibling_pattern,
)
from dedupe.prepare import prepare
from tests.dedupe.helpers import level, person

CASES = [
    ("given missing", GIVEN_NAME, {"given": None}, {"given": "Dara"}, "null"),
    (
        "spaces inside a given name",
        GIVEN_NAME,
        {"given": "Srey Mom"},
        {"given": "Sreymom"},
        "exact",
    ),
    ("romanisation variant", GIVEN_NAME, {"given": "Srei Mom"}, {"given": "Sreymom"}, "exact"),
    ("final th / t", GIVEN_NAME, {"given": "Vicheth"}, {"given": "Vichet"}, "exact"),
    ("typing error", GIVEN_NAME, {"given": "Samantha"}, {"given": "Samnatha"}, "close"),
    (
        "nickname contained",
        GIVEN_NAME,
        {"given": "Neang"},
        {"given": "Sreyneang"},
        "contained or nickname",
    ),
    (
        "nickname field",
        GIVEN_NAME,
        {"given": "Bopha", "nickname": "Toch"},
        {"given": "Toch"},
        "contained or nickname",
    ),
    ("different names", GIVEN_NAME, {"given": "Dara"}, {"given": "Sophea"}, "different"),
    ("Khmer script vs Latin", GIVEN_NAME, {"given_km": "សុខា"}, {"given": "Sokha"}, "exact"),
    ("composite Primero name", GIVEN_NAME, {"given": "សុខា (Sokha)"}, {"given": "Sokha"}, "exact"),
    ("capitals", FAMILY_NAME, {"family": "KHIEU"}, {"family": "Khieu"}, "exact"),
    ("family names differ", FAMILY_NAME, {"family": "Meas"}, {"family": "Vong"}, "different"),
    (
        "family swapped into given",
        FAMILY_NAME,
        {"given": "Kong", "family": "Vichet"},
        {"given": "Vichet", "family": "Kong"},
        "exact",
    ),
    ("dob unknown", BIRTH_DATE, {"birth_date": None}, {"birth_date": "2014-03-05"}, "null"),
    ("dob exact", BIRTH_DATE, {"birth_date": "2014-03-05"}, {"birth_date": "2014-03-05"}, "exact"),
    (
        "day and month swapped",
        BIRTH_DATE,
        {"birth_date": "2014-03-05"},
        {"birth_date": "2014-05-03"},
        "typo",
    ),
    (
        "year off by one",
        BIRTH_DATE,
        {"birth_date": "2010-10-02"},
        {"birth_date": "2011-10-02"},
        "typo",
    ),
    (
        "estimated 1 January",
        BIRTH_DATE,
        {"birth_date": "2022-01-01"},
        {"birth_date": "2022-06-15"},
        "same year, one estimated",
    ),
    (
        "flagged estimate",
        BIRTH_DATE,
        {"birth_date": "2022-07-01", "birth_precision": "estimated"},
        {"birth_date": "2022-06-15"},
        "same year, one estimated",
    ),
    (
        "same year only",
        BIRTH_DATE,
        {"birth_date": "2020-02-03"},
        {"birth_date": "2020-09-14"},
        "same year",
    ),
    (
        "a year apart",
        BIRTH_DATE,
        {"birth_date": "2020-02-03"},
        {"birth_date": "2021-09-14"},
        "one year apart",
    ),
    (
        "dob different",
        BIRTH_DATE,
        {"birth_date": "2012-02-03"},
        {"birth_date": "2016-09-14"},
        "different",
    ),
    ("no location", LOCATION, {"location_code": None}, {"location_code": "12140302"}, "null"),
    (
        "same village, zero lost",
        LOCATION,
        {"location_code": "2050503"},
        {"location_code": "02050503"},
        "same village",
    ),
    (
        "same commune",
        LOCATION,
        {"location_code": "12140302"},
        {"location_code": "12140399"},
        "same commune",
    ),
    (
        "same district",
        LOCATION,
        {"location_code": "12140302"},
        {"location_code": "1214"},
        "same district",
    ),
    (
        "same province",
        LOCATION,
        {"location_code": "12140302"},
        {"location_code": "12990101"},
        "same province",
    ),
    (
        "other province",
        LOCATION,
        {"location_code": "12140302"},
        {"location_code": "17140302"},
        "different",
    ),
    ("sex unknown", SEX, {"sex": "unknown"}, {"sex": "male"}, "null"),
    ("sex same", SEX, {"sex": "female"}, {"sex": "female"}, "same"),
    ("sex differs", SEX, {"sex": "female"}, {"sex": "male"}, "different"),
    ("no caregiver", CAREGIVER, {"caregivers": ()}, {"caregivers": ("Kong Sokhom",)}, "null"),
    (
        "same caregiver",
        CAREGIVER,
        {"family": "Kong", "caregivers": ("Kong Sokhom",)},
        {"family": "Kong", "caregivers": ("Sokhom Kong",)},
        "same caregiver",
    ),
    (
        "caregivers differ",
        CAREGIVER,
        {"family": "Kong", "caregivers": ("Kong Sokhom",)},
        {"family": "Kong", "caregivers": ("Kong Dalin",)},
        "different",
    ),
]


@pytest.mark.parametrize(
    ("description", "comparison", "left", "right", "expected"), CASES, ids=[c[0] for c in CASES]
)
def test_level(description, comparison, left, right, expected) -> None:
    assert level(comparison, person("a:1", **left), person("b:1", **right)) == expected
    # symmetric
    assert level(comparison, person("b:1", **right), person("a:1", **left)) == expected


def _sibling(left: dict, right: dict) -> bool:
    view = PairView(prepare([person("a:1", **left), person("b:1", **right)]), [0], [1])
    return bool(sibling_pattern(view)[0])


HOME = {"family": "Pich", "location_code": "18060504", "caregivers": ("Pich Sokunthea",)}


def test_siblings_same_household_different_given_names() -> None:
    assert _sibling(
        {**HOME, "given": "Dalin", "birth_date": "2015-02-01"},
        {**HOME, "given": "Vuthy", "birth_date": "2018-07-09"},
    )


def test_twins_same_birth_date() -> None:
    """Twins registered in two places (one moved): the birth date is the household link."""
    assert _sibling(
        {
            "family": "Pich",
            "given": "Dalin",
            "birth_date": "2015-02-01",
            "location_code": "18060504",
        },
        {
            "family": "Pich",
            "given": "Vuthy",
            "birth_date": "2015-02-01",
            "location_code": "02010307",
        },
    )


def test_twins_with_the_family_name_romanised_two_ways_are_siblings() -> None:
    """Meas / Mao (one family, two workers' spellings, only weakly alike), the same birth date
    in the same village, given names that clearly disagree: twins, not one child."""
    home = {"location_code": "18060504", "birth_date": "2016-04-12"}
    assert _sibling(
        {**home, "given": "Rotha", "family": "Meas"}, {**home, "given": "Phanit", "family": "Mao"}
    )
    # a weakly alike family name alone, without the same birth date, is not the twin pattern
    assert not _sibling(
        {**home, "given": "Rotha", "family": "Meas"},
        {**home, "given": "Phanit", "family": "Mao", "birth_date": "2018-09-03"},
    )


def test_names_written_the_other_way_round_are_not_weak_family_twins() -> None:
    """Rith Ratha / Rathaa Rit: straight, the family names are weakly alike and the given names
    differ; read crosswise both agree. One child, not twins."""
    home = {"location_code": "18060504", "birth_date": "2016-04-12"}
    assert not _sibling(
        {**home, "given": "Rith", "family": "Ratha"}, {**home, "given": "Rathaa", "family": "Rit"}
    )


def test_no_twin_rule_without_any_home_information() -> None:
    """A plain name + birth date list (FEBRL) cannot tell a twin from a replaced given name."""
    assert not _sibling(
        {"family": "Pich", "given": "Dalin", "birth_date": "2015-02-01"},
        {"family": "Pich", "given": "Vuthy", "birth_date": "2015-02-01"},
    )


def test_swapped_sibling_still_a_sibling() -> None:
    assert _sibling(
        {**HOME, "given": "Pich", "family": "Dalin"}, {**HOME, "given": "Vuthy", "family": "Pich"}
    )


def test_same_child_is_not_a_sibling() -> None:
    assert not _sibling(
        {**HOME, "given": "Sreymom", "birth_date": "2015-02-01"},
        {**HOME, "given": "Srey Mom", "birth_date": "2015-02-01"},
    )


def test_both_records_with_the_family_name_in_the_given_field_still_siblings() -> None:
    """Two brothers typed family-first on both forms: the shared 'given' is the family name."""
    home = {"location_code": "18060504", "caregivers": ("Pich Sokunthea",)}
    assert _sibling(
        {**home, "given": "Pich", "family": "Dalin", "birth_date": "2015-02-01"},
        {**home, "given": "Pich", "family": "Vuthy", "birth_date": "2017-05-09"},
    )


def test_a_typo_in_the_other_name_is_not_the_reversed_sibling_pattern() -> None:
    home = {"location_code": "18060504", "caregivers": ("Pich Sokunthea",)}
    assert not _sibling(
        {**home, "given": "Pich", "family": "Sreymom", "birth_date": "2015-02-01"},
        {**home, "given": "Pich", "family": "Sreymon", "birth_date": "2015-02-01"},
    )


def test_similar_given_names_a_year_apart_in_one_household_are_siblings() -> None:
    """Chanthou / Chantha born a year apart: siblings often get similar names."""
    assert _sibling(
        {**HOME, "given": "Chanthou", "birth_date": "2015-02-01"},
        {**HOME, "given": "Chantha", "birth_date": "2016-06-09"},
    )


def test_a_given_name_spelled_another_way_with_an_agreeing_estimated_year_is_one_child() -> None:
    """Vuthy / Veuthy, 2022 (estimated) / 2022-05-03: a sibling would need the same year."""
    estimated = {"birth_date": date(2022, 1, 1), "birth_precision": "estimated"}
    assert not _sibling(
        {**HOME, "given": "Veuthy", **estimated},
        {**HOME, "given": "Vuthy", "birth_date": "2022-05-03"},
    )
    # the same spellings a year apart stay a sibling pattern
    assert _sibling(
        {**HOME, "given": "Veuthy", "birth_date": "2021-02-01"},
        {**HOME, "given": "Vuthy", "birth_date": "2022-05-03"},
    )
