"""Latin clean-up and composite name splitting."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dedupe.names import clean_latin, split_composite

# description, input, expected
CLEANING = [
    ("strip and collapse spaces", "  Sok   Dara ", "sok dara"),
    ("upper-case surname folded", "SOK", "sok"),
    ("diacritics stripped", "Takéo Kratié", "takeo kratie"),
    ("ligatures and special letters", "Cœur Øst", "coeur ost"),
    ("apostrophe removed inside a word", "Ro'ang", "roang"),
    ("punctuation becomes a space", "Sok,Dara.", "sok dara"),
    ("hyphen kept, spaces around it removed", "Srey - Mom", "srey-mom"),
    ("leading and trailing hyphens dropped", "-Sok-", "sok"),
    ("digits kept", "Phum 2", "phum 2"),
    ("khmer letters kept", "សុខ Dara", "សុខ dara"),
    ("none", None, ""),
    ("empty", "", ""),
]


@pytest.mark.parametrize(("description", "text", "expected"), CLEANING)
def test_clean_latin(description: str, text: str | None, expected: str) -> None:
    assert clean_latin(text) == expected, description


# description, input, expected (khmer, latin)
COMPOSITES = [
    ("khmer then latin in brackets", "សុខ ដារា (Sok Dara)", ("សុខ ដារា", "Sok Dara")),
    ("latin then khmer in brackets", "Sok Dara (សុខ ដារា)", ("សុខ ដារា", "Sok Dara")),
    ("extra spaces", "  សុខ  ( Sok ) ", ("សុខ", "Sok")),
    ("khmer only", "សុខ ដារា", ("សុខ ដារា", None)),
    ("latin only", "Sok Dara", (None, "Sok Dara")),
    ("empty brackets", "សុខ ()", ("សុខ", None)),
    ("latin with a latin aside", "Sok (Dara)", (None, "Sok")),
    ("blank", "   ", (None, None)),
    ("empty", "", (None, None)),
]


@pytest.mark.parametrize(("description", "text", "expected"), COMPOSITES)
def test_split_composite(
    description: str, text: str, expected: tuple[str | None, str | None]
) -> None:
    assert split_composite(text) == expected, description


@given(st.text())
def test_clean_latin_never_raises_and_is_idempotent(text: str) -> None:
    once = clean_latin(text)
    assert clean_latin(once) == once
    assert once == once.strip()


@given(st.text())
def test_split_composite_never_raises(text: str) -> None:
    khmer, latin = split_composite(text)
    assert khmer is None or isinstance(khmer, str)
    assert latin is None or isinstance(latin, str)
