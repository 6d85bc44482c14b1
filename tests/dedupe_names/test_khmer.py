"""Khmer normalisation and rule-based reading: one table row per rule or sign."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dedupe.khmer import has_khmer, khmer_to_latin, khmer_tokens, normalise_khmer

# description, input, expected normalised text
NORMALISATION = [
    ("zero-width space removed", "សុ\u200bខ", "សុខ"),
    ("zero-width non-joiner and joiner removed", "ស\u200cុ\u200dខ", "សុខ"),
    ("byte order mark removed", "\ufeffសុខ", "សុខ"),
    ("inherent-vowel sign AQ U+17B4 removed", "ក\u17b4ា", "កា"),
    ("inherent-vowel sign AA U+17B5 removed", "ក\u17b5ា", "កា"),
    ("subscript da folded into subscript ta", "កណ\u17d2\u178aាល", "កណ\u17d2\u178fាល"),
    ("e + aa typed for o", "ស\u17c1\u17b6ម", "សោម"),
    ("e + ii typed for oe", "ច\u17c1\u17b8ន", "ចើន"),
    ("nikahit typed before u", "ម\u17c6\u17bb", "មុំ"),
    ("nikahit typed before aa", "ស\u17c6\u17b6ង", "សាំង"),
    ("register sign typed after the vowel", "ប\u17bb\u17caន", "ប៊ុន"),
    ("lek too repeats the word", "សុខៗ", "សុខ សុខ"),
    ("lek too after a space", "ល្អ ៗ", "ល្អ ល្អ"),
    ("khmer digits to ascii", "០១២៣៤៥៦៧៨៩", "0123456789"),
    ("whitespace collapsed and stripped", "  សុខ \t ដារា ", "សុខ ដារា"),
    ("deprecated independent vowel QAQ to qa", "\u17a3", "អ"),
    ("deprecated independent vowel QAA to qa + aa", "\u17a4", "អា"),
    ("latin left alone", "Sok Dara", "Sok Dara"),
]


@pytest.mark.parametrize(("description", "text", "expected"), NORMALISATION)
def test_normalise_khmer(description: str, text: str, expected: str) -> None:
    assert normalise_khmer(text) == expected, description


# description, Khmer, expected reading
READING = [
    ("a-series consonant, inherent vowel before final", "ឆន", "chhan"),
    ("o-series consonant, inherent vowel before a nasal", "គង", "kong"),
    ("aa after a-series is a", "តា", "ta"),
    ("aa after o-series is ea", "ជា", "chea"),
    ("ii after a-series is ei", "ស្រី", "srei"),
    ("ii after o-series is i", "លី", "li"),
    ("ai after a-series is ai", "ឆៃ", "chhai"),
    ("ai after o-series is ey", "ព្រៃ", "prey"),
    ("o after a-series is ao", "សោម", "saom"),
    ("o after o-series is o", "ថោង", "thaong"),
    ("au after o-series is ov", "ពៅ", "pov"),
    ("ua is uo", "នួន", "nuon"),
    ("oea", "ជឿន", "choeun"),
    ("ie", "សៀមរាប", "siemreap"),
    ("subscript sonorant keeps the base series", "ស្រី", "srei"),
    ("subscript obstruent gives its series", "ស្គាល់", "skoal"),
    ("subscript starts the next syllable", "បន្ទាយ", "banteay"),
    ("word-final subscript is silent", "ចន្ទ", "chan"),
    ("doubled subscript: one final, one onset", "មេត្តា", "metta"),
    ("pali ending i after a long vowel is silent", "ជាតិ", "cheat"),
    ("pali ending under a subscript is silent", "សិទ្ធិ", "set"),
    ("final i after an inherent vowel is read", "អភិ", "aphi"),
    ("presyllable keeps its vowel", "រតនា", "ratanea"),
    ("letter pairs after a vowel: onset then final", "ព្រៃនប់", "preynop"),
    ("nasal + ng reads ang / eang", "ឆ្នាំង", "chhnang"),
    ("ii + m reads im", "គឹម", "kim"),
    ("independent vowel", "ឧត្តរ", "ottar"),
    ("mixed script keeps the latin word", "សុខ Dara", "sok dara"),
    ("space separated words", "សុខ ដារា", "sok darea"),
]


@pytest.mark.parametrize(("description", "khmer", "expected"), READING)
def test_khmer_to_latin(description: str, khmer: str, expected: str) -> None:
    assert khmer_to_latin(khmer) == expected, description


# one row per sign: description, Khmer, expected reading
SIGNS = [
    ("muusikatoan moves an o-series letter to the a-series", "ម៉ៅ", "mau"),
    ("without muusikatoan the letter stays o-series", "មៅ", "mov"),
    ("muusikatoan on ba reads p", "ប៉ៃលិន", "pailin"),
    ("triisap moves an a-series letter to the o-series", "ស៊ុំ", "sum"),
    ("triisap on qa", "អ៊ូច", "uch"),
    ("bantoc shortens aa (a-series)", "ចាន់", "chan"),
    ("bantoc shortens aa (o-series)", "គាត់", "koat"),
    ("bantoc on the inherent vowel", "គង់", "kong"),
    ("toandakhiat silences its letter and vowel", "ពោធិ៍សាត់", "posat"),
    ("toandakhiat at the end of a place name", "កំពង់រោទិ៍", "kampongro"),
    ("samyok sannya before yo reads ey", "ជ័យ", "chey"),
    ("samyok sannya before a final reads a", "ស័ក្តិ", "sak"),
    ("yuukaleapintu adds a short final", "វណ្ណៈ", "veannak"),
    ("reahmuk adds h, o-series a", "ព្រះ", "preah"),
    ("reahmuk after o", "កោះ", "kaoh"),
    ("nikahit on the inherent vowel (a-series)", "សំ", "sam"),
    ("nikahit after u", "ស៊ុំ", "sum"),
    ("robat is not read as a letter of its own", "ធម៌", "thom"),
    ("kakabat ignored", "ណ៎ះ", "nah"),
    ("ahsda ignored", "ក៏", "ka"),
    ("viriam ignored", "ក៑", "ka"),
    ("lek too expanded", "សុខៗ", "sok sok"),
    ("coeng with nothing after it is dropped", "ស្", "sa"),
]


@pytest.mark.parametrize(("description", "khmer", "expected"), SIGNS)
def test_sign_effects(description: str, khmer: str, expected: str) -> None:
    assert khmer_to_latin(khmer) == expected, description


@pytest.mark.parametrize(
    ("text", "expected"),
    [("សុខ", True), ("Sok", False), ("", False), (None, False), ("Sok (សុខ)", True), ("ៗ", True)],
)
def test_has_khmer(text: str | None, expected: bool) -> None:
    assert has_khmer(text) is expected


def test_khmer_tokens_split_on_spaces_and_normalise() -> None:
    assert khmer_tokens(" សុ\u200bខ  ស្រីមុំ ") == ["សុខ", "ស្រីមុំ"]
    assert khmer_tokens("") == []


def test_identical_glyph_spellings_read_alike() -> None:
    assert khmer_to_latin("កណ្ដាល") == khmer_to_latin("កណ្តាល")
    assert khmer_to_latin("ស\u17c1\u17b6ម") == khmer_to_latin("សោម")


@given(st.text())
def test_never_raises_and_reads_ascii(text: str) -> None:
    latin = khmer_to_latin(text)
    assert latin == latin.strip()
    assert all(ch.isascii() and (ch.isalnum() or ch == " ") for ch in latin)


KHMER_TEXT = st.text(
    alphabet=st.characters(min_codepoint=0x1780, max_codepoint=0x17FF) | st.sampled_from(" \u200b")
)


@given(KHMER_TEXT)
def test_normalisation_is_idempotent(text: str) -> None:
    once = normalise_khmer(text)
    assert normalise_khmer(once) == once


@given(KHMER_TEXT)
def test_reading_is_deterministic(text: str) -> None:
    assert khmer_to_latin(text) == khmer_to_latin(text)
    assert khmer_to_latin(normalise_khmer(text)) == khmer_to_latin(text)
