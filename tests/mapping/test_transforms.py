"""Table tests for each transform in the registry: (description, input, expected)."""

from __future__ import annotations

from datetime import date

import pytest

from bridge.mapping.transforms import REGISTRY
from tests.mapping.helpers import run


def test_registry_names_every_transform_once() -> None:
    assert set(REGISTRY) == {
        "text",
        "integer",
        "boolean",
        "in_set",
        "string_list",
        "date",
        "birth_date",
        "location_code",
        "person_name",
        "compose_name",
        "vocab",
    }


@pytest.mark.parametrize(
    ("description", "value", "options", "expected"),
    [
        ("trimmed", "  Dara  ", {}, "Dara"),
        ("inner spaces collapsed", "Srey   Mom", {}, "Srey Mom"),
        ("empty is null", "", {}, None),
        ("missing is null", None, {}, None),
        ("number as text", 1193, {}, "1193"),
        ("prefix stripped", "agency-mosvy", {"strip_prefix": "agency-"}, "mosvy"),
        ("lower-cased", "Mother", {"case": "lower"}, "mother"),
        ("template", "cif", {"template": "agency-{}"}, "agency-cif"),
    ],
)
def test_text(description: str, value: object, options: dict, expected: object) -> None:
    assert run("text", value, options=options)[0] == expected, description


@pytest.mark.parametrize(
    ("value", "expected", "warned"),
    [
        (12, 12, False),
        ("12", 12, False),
        (12.0, 12, False),
        ("", None, False),
        ("twelve", None, True),
        (True, None, True),
    ],
)
def test_integer(value: object, expected: object, warned: bool) -> None:
    result, issues = run("integer", value)
    assert result == expected
    assert bool(issues.warnings) is warned


@pytest.mark.parametrize(
    ("value", "options", "expected"),
    [
        (True, {}, True),
        ("false", {}, False),
        (False, {"negate": True}, True),
        ("", {}, None),
        ("maybe", {}, None),
    ],
)
def test_boolean(value: object, options: dict, expected: object) -> None:
    assert run("boolean", value, options=options)[0] == expected


def test_in_set_and_string_list() -> None:
    assert run("in_set", "year", options={"values": ["estimated", "year"]})[0] is True
    assert run("in_set", "exact", options={"values": ["estimated", "year"]})[0] is False
    assert run("string_list", ["a", " b ", ""])[0] == ["a", "b"]
    assert run("string_list", "physical")[0] == ["physical"]
    assert run("string_list", None)[0] == []


@pytest.mark.parametrize(
    ("description", "value", "expected", "code"),
    [
        ("a real day", "2014-03-09", date(2014, 3, 9), None),
        ("an ISO timestamp", "2014-03-09T00:00:00.000Z", date(2014, 3, 9), None),
        ("five-digit year", "22012-01-01", None, "corrupt_date"),
        ("all zeros", "0000-00-00", None, "corrupt_date"),
        ("impossible day", "2014-02-30", None, "corrupt_date"),
        ("future", "2099-01-01", None, "future_date"),
        ("before 1900", "1850-01-01", None, "corrupt_date"),
        ("not text", 20140309, None, "corrupt_date"),
        ("empty: missing, no warning", "", None, None),
    ],
)
def test_date(description: str, value: object, expected: object, code: str | None) -> None:
    result, issues = run("date", value)
    assert result == expected, description
    assert [w.code for w in issues.warnings] == ([code] if code else [])
    for warning in issues.warnings:
        assert str(value) not in warning.message  # no personal data in messages


def test_date_outbound_is_iso_text() -> None:
    assert run("date", "2014-03-09", direction="outbound")[0] == "2014-03-09"
    assert run("date", None, direction="outbound")[0] is None


@pytest.mark.parametrize(
    ("description", "inputs", "options", "expected", "warned"),
    [
        ("exact", {"value": "2014-03-09"}, {}, (date(2014, 3, 9), "exact"), False),
        (
            "estimated flag",
            {"value": "2014-01-01", "estimated": True},
            {},
            (date(2014, 1, 1), "estimated"),
            False,
        ),
        (
            "estimated flag, any day",
            {"value": "2014-06-01", "estimated": True},
            {},
            (date(2014, 6, 1), "estimated"),
            False,
        ),
        (
            "Jan 1 without flag: year only",
            {"value": "2014-01-01"},
            {},
            (date(2014, 1, 1), "year"),
            False,
        ),
        (
            "Jan 1 exact when told",
            {"value": "2014-01-01"},
            {"jan_first": "exact"},
            (date(2014, 1, 1), "exact"),
            False,
        ),
        (
            "missing with age: estimated",
            {"value": None, "age": 10},
            {},
            (date(2016, 1, 1), "estimated"),
            False,
        ),
        ("missing, no age: unknown", {"value": ""}, {}, (None, "unknown"), False),
        ("missing, absurd age: unknown", {"value": None, "age": 300}, {}, (None, "unknown"), False),
        (
            "corrupt, even with age: unknown",
            {"value": "22012-01-01", "age": 10},
            {},
            (None, "unknown"),
            True,
        ),
        ("future: unknown", {"value": "2030-05-05"}, {}, (None, "unknown"), True),
    ],
)
def test_birth_date(
    description: str, inputs: dict, options: dict, expected: tuple, warned: bool
) -> None:
    value = inputs.pop("value")
    result, issues = run("birth_date", value, options=options, **inputs)
    assert (result["value"], result["precision"]) == expected, description
    assert bool(issues.warnings) is warned


@pytest.mark.parametrize(
    ("description", "value", "options", "code", "province", "warned"),
    [
        ("village kept", "08030201", {}, "08030201", "08", False),
        ("lost zero restored", "8030201", {}, "08030201", "08", False),
        ("a number", 8030201, {}, "08030201", "08", False),
        ("district", "803", {}, "0803", "08", False),
        ("province only", "19", {}, "19", "19", False),
        ("commune", "190101", {}, "190101", "19", False),
        ("too long", "123456789", {}, None, None, True),
        ("not digits", "08-03", {}, None, None, True),
        ("empty", "", {}, None, None, False),
        ("unknown province", "99010101", {"provinces": "provinces"}, "99010101", None, True),
        ("known province", "19010101", {"provinces": "provinces"}, "19010101", "19", False),
        ("stripped for Primero", "08030201", {"strip_leading_zero": True}, "8030201", "08", False),
    ],
)
def test_location_code(
    description: str, value: object, options: dict, code: object, province: object, warned: bool
) -> None:
    result, issues = run("location_code", value, options=options)
    assert (result["code"], result["province"]) == (code, province), description
    assert bool(issues.warnings) is warned


@pytest.mark.parametrize(
    ("description", "value", "options", "latin", "khmer"),
    [
        ("Latin", "Sreypov", {}, "Sreypov", None),
        ("Khmer", "ស្រីពៅ", {}, None, "ស្រីពៅ"),
        ("composite", "មករា (Makra)", {}, "Makra", "មករា"),
        ("composite with spaces", "  ទេព  ( Tep ) ", {}, "Tep", "ទេព"),
        ("Latin with brackets stays Latin", "Dara (Nick)", {}, "Dara (Nick)", None),
        ("capitals folded", "NOV", {"fold_upper": True}, "Nov", None),
        ("two words folded", "SREY MOM", {"fold_upper": True}, "Srey Mom", None),
        ("mixed case untouched", "McNOV", {"fold_upper": True}, "McNOV", None),
        ("capitals kept without the option", "NOV", {}, "NOV", None),
        ("empty", "", {}, None, None),
    ],
)
def test_person_name(
    description: str, value: str, options: dict, latin: object, khmer: object
) -> None:
    result, _ = run("person_name", value, options=options)
    assert (result["latin"], result["khmer"]) == (latin, khmer), description
    assert result["any"] == (latin or khmer)


@pytest.mark.parametrize(
    ("latin", "khmer", "style", "expected"),
    [
        ("Makra", "មករា", "composite", "មករា (Makra)"),
        ("Makra", None, "composite", "Makra"),
        (None, "មករា", "composite", "មករា"),
        ("Makra", "មករា", "latin_else_khmer", "Makra"),
        (None, "មករា", "latin_else_khmer", "មករា"),
        (None, None, "composite", None),
    ],
)
def test_compose_name(latin: object, khmer: object, style: str, expected: object) -> None:
    result, _ = run("compose_name", options={"style": style}, latin=latin, khmer=khmer)
    assert result == expected


@pytest.mark.parametrize(
    ("vocab", "column", "value", "expected"),
    [
        ("sex", "oscar", "lgbt", "other"),
        ("sex", "oscar", "prefer_not_to_say", "unknown"),
        ("sex", "primero", "female", "female"),
        ("risk", "oscar", "no action", "no_action"),
        ("risk", "primero", "no_action", "no_action"),
        ("statuses.referral", "oscar", "Referred", "pending"),
        ("statuses.referral", "oscar", "Active", "accepted"),
        ("statuses.referral", "primero_service", "rejected_936484", "rejected"),
        ("statuses.referral", "primero_referral", "in_progress", "pending"),
        ("statuses.case", "oscar", "accepted", "accepted"),  # case ignored
        ("services", "oscar", "Counselling", "psychosocial_support"),
        ("services", "primero", "kinship_care", "family_based_care_kinship"),
    ],
)
def test_vocab_inbound(vocab: str, column: str, value: str, expected: str) -> None:
    result, issues = run("vocab", value, options={"vocab": vocab, "column": column})
    assert result == expected
    assert not issues.errors and not issues.misses


@pytest.mark.parametrize(
    ("vocab", "column", "value", "expected"),
    [
        ("sex", "oscar", "other", "other"),
        ("risk", "oscar", "no_action", "no action"),
        ("statuses.referral", "oscar", "accepted", "Accepted"),
        ("statuses.referral", "oscar", "rejected", "Exited"),
        ("statuses.referral", "primero_service", "accepted", "accepted_340953"),
        ("statuses.referral", "primero_referral", "pending", "in_progress"),
        ("services", "oscar", "family_based_care_kinship", "Kinship care"),
        ("services", "primero", "psychosocial_support", "psychosocial_support"),
    ],
)
def test_vocab_outbound(vocab: str, column: str, value: str, expected: str) -> None:
    result, issues = run(
        "vocab", value, direction="outbound", options={"vocab": vocab, "column": column}
    )
    assert result == expected and not issues.errors


def test_vocab_unknown_warns_or_errors_as_declared() -> None:
    result, issues = run(
        "vocab",
        "Accetped",
        options={"vocab": "statuses.case", "column": "oscar", "unknown": "warn"},
    )
    assert result is None and [w.code for w in issues.warnings] == ["vocabulary_miss"]
    assert "Accetped" in issues.warnings[0].message  # a lookup value, not personal data
    assert [(m.vocabulary, m.value) for m in issues.misses] == [("statuses.case", "Accetped")]

    result, issues = run(
        "vocab",
        "Accetped",
        options={
            "vocab": "statuses.case",
            "column": "oscar",
            "default": "active",
            "unknown": "warn",
        },
    )
    assert result == "active" and issues.warnings

    result, issues = run("vocab", "Accetped", options={"vocab": "statuses.case", "column": "oscar"})
    assert result is None and [e.code for e in issues.errors] == ["vocabulary_miss"]


def test_vocab_outbound_value_a_system_lacks() -> None:
    result, issues = run(
        "vocab", "unknown", direction="outbound", options={"vocab": "sex", "column": "primero"}
    )
    assert result is None and [e.code for e in issues.errors] == ["no_value"]
    result, issues = run(
        "vocab",
        "unknown",
        direction="outbound",
        options={"vocab": "sex", "column": "primero", "no_value": "null"},
    )
    assert result is None and not issues.errors
