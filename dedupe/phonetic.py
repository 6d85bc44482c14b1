"""Phonetic keys for romanised Khmer names.

A key folds the spelling variants that hand romanisation produces for one Khmer name
(KHMER-ROMANISATION.md §7): aspirates (chh/ch, kh/k, th/t, ph/p), j/ch, b/p, v/w, d/t, nh/gn/n,
the vowel spellings, doubled letters, the silent or unstable finals (h, r, s after a vowel) and
padding consonants piled after a final (Chand, Vongs, Angk). Vowel spellings that stand for
one Khmer vowel sign read by either consonant series are folded: a/ea/ia (ា), e/i (ិ) with
ei/ey/ay/ai/y/ee/ae (ី ៃ េ ែ), o/u/ou/uo/ao/au/ow/ov/or (ុ ូ ោ ៅ ួ), eu/oe/oeu/ue/eur (ឹ ឺ ើ ឿ).
Vowel *quality* classes stay apart (Sok/Sao/Sen, Dara/Dary, Keo/Khieu differ) so keys work
both for exact blocking and for Jaro-Winkler comparison. Khmer script is romanised first.

Key alphabet: vowel classes a i o, "ie" "eu" "eo" "io" "oa" "oi"; consonants k c (ch/j) t p s
h l r m n ng v y (y only word-initially).
"""

from __future__ import annotations

import re
from functools import lru_cache

from dedupe.khmer import has_khmer, khmer_to_latin
from dedupe.names import clean_latin

# Consonant spellings, longest first; capitals are internal placeholders.
_CONSONANT_RULES: tuple[tuple[str, str], ...] = (
    ("tch", "C"),
    ("chh", "C"),
    ("ch", "C"),
    ("sh", "s"),
    ("kh", "k"),
    ("gh", "k"),
    ("ck", "k"),
    ("ng", "N"),
    ("gn", "n"),
    ("nh", "n"),
    ("th", "t"),
    ("dh", "t"),
    ("ph", "p"),
    ("bh", "p"),
    ("j", "C"),
    ("c", "C"),  # a lone c is a clipped ch (Pic, Ucnh); ck was taken above
    ("g", "k"),
    ("q", "k"),
    ("x", "s"),
    ("z", "s"),
    ("d", "t"),
    ("b", "p"),
    ("f", "p"),
    ("w", "v"),
)
_CONSONANT_RE = re.compile("|".join(re.escape(a) for a, _ in _CONSONANT_RULES))
_CONSONANT_MAP = dict(_CONSONANT_RULES)

_VOWEL_LETTERS = "aeiouy"
# vowel spelling -> class; looked up before and after doubled letters are collapsed
_VOWEL_CLASSES: dict[str, str] = {
    # ា is "a" after first-series and "ea" after second-series letters; people mix the two
    "a": "a",
    "ea": "a",
    "ia": "a",
    "eaa": "a",
    # ិ is "e" or "i" by series; េ, ែ, ី, ៃ are spelt e, ae, ei, ey, ay, ai, i, y, ee
    "e": "i",
    "ae": "i",
    "eae": "i",
    "eai": "i",
    "ee": "i",
    "i": "i",
    "ei": "i",
    "ey": "i",
    "ay": "i",
    "ai": "i",
    "y": "i",
    "eyi": "i",
    "aei": "i",
    "aey": "i",
    # ុ ូ ោ ៅ ួ: o, u, ou, uo, ao, au (ow and ov arrive here as "o")
    "o": "o",
    "u": "o",
    "ou": "o",
    "uo": "o",
    "ao": "o",
    "au": "o",
    "aou": "o",
    "uou": "o",
    # ៀ
    "ie": "ie",
    "iea": "ie",
    "eia": "ie",
    "iae": "ie",
    # ួា / short o-series a after bantoc
    "oua": "oa",
    "ua": "oa",
    "oa": "oa",
    "uoa": "oa",
    # ឹ ឺ ើ ឿ
    "eu": "eu",
    "oe": "eu",
    "oeu": "eu",
    "ue": "eu",
    "eou": "eu",
    "euo": "eu",
    "oeo": "eu",
    "uea": "eu",
    "oea": "eu",
    "aeu": "eu",
    # ែវ, ៀវ
    "eo": "eo",
    "aeo": "eo",
    "eao": "eo",
    "ieo": "io",
    "iao": "io",
    "iou": "io",
    "ieu": "io",
    "eio": "io",
    "eiu": "io",
    "io": "io",
    "iu": "io",
    # ោយ, ួយ
    "oi": "oi",
    "oy": "oi",
    "ui": "oi",
    "uy": "oi",
    "oai": "oi",
    "uai": "oi",
    "ouy": "oi",
    "oui": "oi",
}
_DOUBLE = re.compile(r"(.)\1+")
_TOKEN_SPLIT = re.compile(r"[\s\-_.,/]+")
_VOWEL_RUN = re.compile("[aeiouy]+")
_AING = re.compile("(?<![aeiouy])aiN")
_EUM = re.compile("eum$")
# Khmer syllables end in one consonant: letters piled after it are spelling padding
# (Chand, Vongs, Angk, Vichetr, Meas -> s is the breath final) and go.
_FINAL_CLUSTER = re.compile("(?<=[aeiouy])([^aeiouy])[^aeiouy]+$")
_FINAL_S = re.compile("(?<=[aeiouy])s$")


def _vowel_class(run: str) -> str:
    found = _VOWEL_CLASSES.get(run)
    if found is None:
        found = _VOWEL_CLASSES.get(_DOUBLE.sub(r"\1", run))
    if found is not None:
        return found
    # Unlisted runs (typos, rare spellings): pick the class of the dominant pattern.
    run = _DOUBLE.sub(r"\1", run.replace("y", "i"))
    if ("e" in run and "u" in run) or run.startswith("oe"):
        return "eu"
    if "ie" in run:
        return "ie"
    if "ea" in run or "ia" in run:
        return "a"
    if set(run) <= {"o", "u", "a"}:
        return "o" if ("o" in run or "u" in run) else "a"
    return _VOWEL_CLASSES.get(run[:2], _VOWEL_CLASSES.get(run[0], "a"))


def _is_vowel(ch: str) -> bool:
    return ch in _VOWEL_LETTERS


@lru_cache(maxsize=500_000)
def _latin_token_key(token: str) -> str:
    key = _key_pass(token)
    for _ in range(3):  # a key is itself a spelling: re-key until stable (rare: "jq" -> "ck")
        again = _key_pass(key)
        if again == key:
            break
        key = again
    return key


def _key_pass(token: str) -> str:
    s = "".join(ch for ch in token.lower() if "a" <= ch <= "z")
    if not s:
        return ""
    s = _CONSONANT_RE.sub(lambda m: _CONSONANT_MAP[m.group(0)], s)
    out: list[str] = []
    n = len(s)
    for i, ch in enumerate(s):
        prev_v = i > 0 and _is_vowel(s[i - 1])
        next_v = i + 1 < n and _is_vowel(s[i + 1])
        if ch == "y" and i == 0 and next_v:
            out.append("Y")  # consonant y (Yi, Yan)
        elif ch == "h" and i > 0 and not (prev_v and next_v):
            continue  # breath h: Darah, Chhuhn, Preah
        elif ch == "r" and prev_v and not next_v:
            continue  # silent final r (Chorn, Cheurn, Norng)
        elif ch == "v" and prev_v and not next_v:
            out.append("o")  # final v is a vowel glide (Pov, Kaev, Khiev)
        else:
            out.append(ch)
    s = _FINAL_CLUSTER.sub(r"\1", _DOUBLE.sub(r"\1", "".join(out)))
    s = _FINAL_S.sub("", s)
    s = _AING.sub("aN", s)  # Taing, Samnaing: ai before ng is the a of ាំង/ាង
    s = _VOWEL_RUN.sub(lambda m: _vowel_class(m.group(0)), s)
    s = _EUM.sub("im", s)  # ឹម is spelt im, em, eum, oem (Kim, Lim, Yim / Loem, Yeum)
    s = _DOUBLE.sub(r"\1", s)
    s = s.replace("C", "c")
    return s.replace("N", "ng").replace("Y", "y")


@lru_cache(maxsize=500_000)
def phonetic_key(name: str) -> str:
    """Lossy phonetic key of ONE name token (Latin or Khmer script).

    Khmer script is romanised with ``khmer_to_latin`` first. Several words are keyed as one
    joined token. Never raises; "" for input with no letters.
    >>> phonetic_key("Chhay") == phonetic_key("Chay") == phonetic_key("Chai")
    True
    """
    if not isinstance(name, str) or not name:
        return ""
    if has_khmer(name):
        name = khmer_to_latin(name)
    return _latin_token_key(clean_latin(name).replace(" ", "").replace("-", ""))


def _tokens(name: str) -> list[str]:
    if has_khmer(name):
        name = khmer_to_latin(name)
    return [t for t in _TOKEN_SPLIT.split(clean_latin(name)) if t]


@lru_cache(maxsize=500_000)
def name_keys(name: str | None) -> tuple[str, ...]:
    """Keys of every word of a name, in order, then the joined key when there are several.

    "Srey Mom" -> ("sri", "mom", "srimom"); "Sreymom" -> ("srimom",); so a compound given
    name written split and joined share a key. Empty keys are left out; duplicates removed
    (first occurrence kept). Order-insensitive comparison is left to the caller (compare sets).
    """
    if not name or not isinstance(name, str):
        return ()
    keys = [k for k in (_latin_token_key(t) for t in _tokens(name)) if k]
    if len(keys) > 1:
        keys.append("".join(keys))
    return tuple(dict.fromkeys(keys))


@lru_cache(maxsize=500_000)
def joined_key(name: str | None) -> str:
    """Key of the whole name with spaces and hyphens removed: "Srey Mom" == "Sreymom"."""
    if not name or not isinstance(name, str):
        return ""
    return _latin_token_key("".join(_tokens(name)))


def consonant_skeleton(key: str) -> str:
    """Coarser blocking key: the consonants of a key, vowels dropped ("sok" -> "sk").

    A key made only of vowels ("o" for Ou) is returned unchanged so it still blocks.
    """
    if not key:
        return ""
    skeleton = "".join(ch for ch in key if ch not in "aeiou")
    return skeleton or key
