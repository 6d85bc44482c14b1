"""Khmer script: normalisation and a rule-based reading in Latin letters.

The reading follows the GD/UNGEGN tables (series-dependent vowels, subscripts, signs) but leans
towards popular spelling where the two differ and the difference would survive the phonetic key
(silent word-final subscripts and Pali endings are dropped, as people write "Chan", not "Chant").
It is meant to be fed to ``dedupe.phonetic.phonetic_key``, not shown to users.
Reference: shared/design/KHMER-ROMANISATION.md (section numbers below point there).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

COENG = "\u17d2"
MUUSIKATOAN = "\u17c9"  # o-series letter read as a-series (§5)
TRIISAP = "\u17ca"  # a-series letter read as o-series (§5)
BANTOC = "\u17cb"
ROBAT = "\u17cc"
TOANDAKHIAT = "\u17cd"
SAMYOK_SANNYA = "\u17d0"
NIKAHIT = "\u17c6"
REAHMUK = "\u17c7"
YUUKALEAPINTU = "\u17c8"
LEK_TOO = "\u17d7"

# letter -> (initial, series, final) ; series "a" (first) or "o" (second)  (§1)
_CONSONANTS: dict[str, tuple[str, str, str]] = {
    "ក": ("k", "a", "k"),
    "ខ": ("kh", "a", "k"),
    "គ": ("k", "o", "k"),
    "ឃ": ("kh", "o", "k"),
    "ង": ("ng", "o", "ng"),
    "ច": ("ch", "a", "ch"),
    "ឆ": ("chh", "a", "ch"),
    "ជ": ("ch", "o", "ch"),
    "ឈ": ("chh", "o", "ch"),
    "ញ": ("nh", "o", "nh"),
    "ដ": ("d", "a", "t"),
    "ឋ": ("th", "a", "t"),
    "ឌ": ("d", "o", "t"),
    "ឍ": ("th", "o", "t"),
    "ណ": ("n", "a", "n"),
    "ត": ("t", "a", "t"),
    "ថ": ("th", "a", "t"),
    "ទ": ("t", "o", "t"),
    "ធ": ("th", "o", "t"),
    "ន": ("n", "o", "n"),
    "ប": ("b", "a", "p"),
    "ផ": ("ph", "a", "p"),
    "ព": ("p", "o", "p"),
    "ភ": ("ph", "o", "p"),
    "ម": ("m", "o", "m"),
    "យ": ("y", "o", "y"),
    "រ": ("r", "o", "r"),
    "ល": ("l", "o", "l"),
    "វ": ("v", "o", "v"),
    "ឝ": ("s", "a", "s"),
    "ឞ": ("s", "a", "s"),
    "ស": ("s", "a", "s"),
    "ហ": ("h", "a", "h"),
    "ឡ": ("l", "a", "l"),
    "អ": ("", "a", ""),
}
# A subscript sonorant leaves the series of the base in place (§2).
_SONORANTS = frozenset("ងញនមយរលវ")

# dependent vowel -> (a-series, o-series) reading, GD leaning popular (§3)
_VOWELS: dict[str, tuple[str, str]] = {
    "": ("a", "o"),  # inherent vowel
    "ា": ("a", "ea"),
    "ិ": ("e", "i"),
    "ី": ("ei", "i"),
    "ឹ": ("oe", "ue"),
    "ឺ": ("eu", "eu"),
    "ុ": ("o", "u"),
    "ូ": ("o", "u"),
    "ួ": ("uo", "uo"),
    "ើ": ("aeu", "eu"),
    "ឿ": ("oeu", "oeu"),
    "ៀ": ("ie", "ie"),
    "េ": ("e", "e"),
    "ែ": ("ae", "ae"),
    "ៃ": ("ai", "ey"),
    "ោ": ("ao", "o"),
    "ៅ": ("au", "ov"),
}
# vowel + nikahit (final nasal) (§3)
_NASAL: dict[str, tuple[str, str]] = {
    "": ("am", "um"),
    "ា": ("am", "eam"),
    "ុ": ("om", "um"),
    "ិ": ("em", "im"),
    "ោ": ("aom", "om"),
    "េ": ("em", "em"),
}
# vowel shortened by bantoc before its final consonant (§5)
_SHORT: dict[str, tuple[str, str]] = {"": ("a", "o"), "ា": ("a", "oa")}
# independent vowels (§4): reading, and the deprecated ones mapped to their replacements
_INDEPENDENT: dict[str, str] = {
    "ឣ": "a",
    "ឤ": "a",
    "ឥ": "e",
    "ឦ": "ei",
    "ឧ": "o",
    "ឨ": "ouk",
    "ឩ": "u",
    "ឪ": "ov",
    "ឫ": "rue",
    "ឬ": "rue",
    "ឭ": "lue",
    "ឮ": "lue",
    "ឯ": "ae",
    "ឰ": "ai",
    "ឱ": "ao",
    "ឲ": "aoy",
    "ឳ": "au",
}
_DEPENDENT = frozenset(_VOWELS) - {""}
_SIGNS = frozenset((NIKAHIT, REAHMUK, YUUKALEAPINTU, BANTOC, ROBAT, TOANDAKHIAT, SAMYOK_SANNYA))
# signs with no effect on a name's sound (kakabat, ahsda, viriam, bathamasat, atthacan)
_IGNORED = frozenset("\u17ce\u17cf\u17d1\u17d3\u17dd")

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\ufeff\u17b4\u17b5"), None)
_DIGITS = {0x17E0 + i: str(i) for i in range(10)}
# Same visible text, different code points (§6): split vowels typed as two signs.
_VOWEL_FIXES = (
    ("\u17c1\u17b6", "\u17c4"),  # េ + ា -> ោ
    ("\u17c1\u17b8", "\u17be"),  # េ + ី -> ើ
    ("\u17c6\u17bb", "\u17bb\u17c6"),  # ំ + ុ -> ុ + ំ
    ("\u17c6\u17b6", "\u17b6\u17c6"),  # ំ + ា -> ា + ំ
    ("\u17d2\u178a", "\u17d2\u178f"),  # ្ដ -> ្ត (identical glyphs, §2)
    ("\u17a3", "\u17a2"),  # deprecated ឣ -> អ
    ("\u17a4", "\u17a2\u17b6"),  # deprecated ឤ -> អា
)
_REGISTER_FIRST = re.compile("([\u17b6-\u17c5])([\u17c9\u17ca])")  # register typed after vowel
_SPACES = re.compile(r"\s+")
_LEK_TOO = re.compile(r"(\S+?)\s*\u17d7")


def has_khmer(text: str | None) -> bool:
    """True when ``text`` holds at least one letter of the Khmer block (U+1780-U+17FF)."""
    return bool(text) and any("\u1780" <= ch <= "\u17ff" for ch in text)  # type: ignore[union-attr]


def normalise_khmer(text: str) -> str:
    """Canonical form of Khmer text, so that visually equal names compare equal.

    NFC; zero-width characters and the invisible inherent-vowel signs removed; ្ដ folded to ្ត;
    split vowels and register signs typed in the wrong order put right; ៗ expanded into the
    repeated word; Khmer digits to ASCII; whitespace collapsed. Idempotent.
    """
    if not isinstance(text, str):
        return ""
    text = unicodedata.normalize("NFC", text).translate(_ZERO_WIDTH).translate(_DIGITS)
    if LEK_TOO in text:
        text = _LEK_TOO.sub(lambda m: f"{m.group(1)} {m.group(1)}", text).replace(LEK_TOO, "")
    for _ in range(4):  # one fix can expose another (េ៉ា -> ៉េា -> ៉ោ); stop when stable
        before = text
        text = _REGISTER_FIRST.sub(r"\2\1", text)
        for wrong, right in _VOWEL_FIXES:
            text = text.replace(wrong, right)
        if text == before:
            break
    return _SPACES.sub(" ", text).strip()


def khmer_tokens(text: str) -> list[str]:
    """Name words of a Khmer full name: normalised, split on whitespace."""
    return normalise_khmer(text).split()


@lru_cache(maxsize=200_000)
def khmer_to_latin(text: str) -> str:
    """Rule-based Latin reading of Khmer text: lower-case ASCII words separated by spaces.

    Characters outside the Khmer block are kept when they are ASCII letters or digits (mixed
    input such as "សុខ Dara" reads "sok dara"), dropped otherwise.
    """
    return " ".join(w for w in (_word_to_latin(t) for t in khmer_tokens(text)) if w)


@dataclass(slots=True)
class _Cluster:
    """One orthographic cluster: base letter, subscripts, register, vowel and signs."""

    base: str
    subs: list[str] = field(default_factory=list)
    register: str = ""
    vowel: str = ""
    signs: str = ""


@dataclass(slots=True)
class _Syllable:
    onset: str
    series: str
    vowel: str  # dependent vowel sign, "" for the inherent vowel
    signs: str = ""
    independent: str | None = None
    coda: str = ""  # Latin final consonant
    geminate: bool = False  # the final is doubled into the next syllable (Pali: ក្ខ, ត្ត)
    first: bool = False  # first syllable of the word
    simple: bool = True  # onset is one letter


def _clusters(word: str) -> list[_Cluster | str]:
    """Split a word into Khmer clusters; other characters stay as plain strings."""
    out: list[_Cluster | str] = []
    i, n = 0, len(word)
    while i < n:
        ch = word[i]
        if ch in _CONSONANTS or ch in _INDEPENDENT:
            cl = _Cluster(ch)
            i += 1
            while i < n:
                c = word[i]
                if c == COENG and i + 1 < n and word[i + 1] in _CONSONANTS:
                    cl.subs.append(word[i + 1])
                    i += 2
                elif c in (MUUSIKATOAN, TRIISAP):
                    cl.register = c
                    i += 1
                elif c in _DEPENDENT and not cl.vowel:
                    cl.vowel = c
                    i += 1
                elif c in _SIGNS:
                    cl.signs += c
                    i += 1
                elif c in _IGNORED or c == COENG or c in _DEPENDENT:
                    i += 1  # stray or doubled marks: drop rather than fail
                else:
                    break
            out.append(cl)
        else:
            if ch.isascii() and ch.isalnum():
                out.append(ch.lower())
            i += 1
    return out


def _series(cl: _Cluster, letters: list[str]) -> str:
    """Series of an onset: base series, register shift, then the last subscript obstruent."""
    series = _CONSONANTS[letters[0]][1]
    if letters[0] == cl.base:
        if cl.register == MUUSIKATOAN:
            series = "a"
        elif cl.register == TRIISAP:
            series = "o"
    for sub in letters[1:]:
        if sub not in _SONORANTS:
            series = _CONSONANTS[sub][1]
    return series


def _onset_latin(cl: _Cluster, letters: list[str]) -> str:
    if letters[0] == "ប" and cl.register == MUUSIKATOAN and letters[0] == cl.base:
        head = "p"
    else:
        head = _CONSONANTS[letters[0]][0]
    return head + "".join(_CONSONANTS[s][0] for s in letters[1:])


_NASALS = frozenset("ងញណនម")
_STOPS = frozenset("កខគឃចឆជឈដឋឌឍតថទធបផពភ")
# Letter pairs read as one doubled (geminate) consonant across a syllable break (Pali spelling).
_PAIRS = ("កខ", "គឃ", "ចឆ", "ជឈ", "ដឋ", "ឌឍ", "តថ", "ទធ", "បផ", "ពភ", "ដត", "ឋថ")


def _geminate(base: str, sub: str) -> bool:
    return base == sub or any(base in p and sub in p for p in _PAIRS)


@lru_cache(maxsize=200_000)
def _word_to_latin(word: str) -> str:
    items = _clusters(word)
    # a cluster under toandakhiat is silent, with its vowel (§5)
    items = [c for c in items if not (isinstance(c, _Cluster) and TOANDAKHIAT in c.signs)]
    khmer_at = [i for i, c in enumerate(items) if isinstance(c, _Cluster)]
    last = khmer_at[-1] if khmer_at else -1
    sylls: list[_Syllable | str] = []
    for idx, cl in enumerate(items):
        if isinstance(cl, str):
            sylls.append(cl)
            continue
        prev = sylls[-1] if sylls and isinstance(sylls[-1], _Syllable) else None
        if cl.base in _INDEPENDENT:
            sylls.append(_Syllable("", "a", "", cl.signs, independent=_INDEPENDENT[cl.base]))
            continue
        nxt = items[idx + 1] if idx < last else None
        if _closes(prev, cl, nxt, idx == last, _bare_run(items, idx, last)):
            assert prev is not None
            has_vowel = _has_vowel(cl)
            prev.coda = _CONSONANTS[cl.base][2]
            prev.geminate = bool(cl.subs) and (_geminate(cl.base, cl.subs[0]) or cl.base in _STOPS)
            if not has_vowel:
                prev.signs += cl.signs  # bantoc on the final shortens the vowel before it
            if not cl.subs or (idx == last and (not has_vowel or _pali_ending(prev, cl))):
                continue  # silent word-final subscripts and Pali endings (Chan, Sith, Vichet)
            if not has_vowel and not isinstance(nxt, _Cluster):
                continue
            letters = cl.subs
        else:
            letters = [cl.base, *cl.subs]
        syl = _Syllable(_onset_latin(cl, letters), _series(cl, letters), cl.vowel, cl.signs)
        syl.first = prev is None
        syl.simple = len(letters) == 1
        sylls.append(syl)
    return "".join(
        s if isinstance(s, str) else _syllable_latin(s, i == len(sylls) - 1)
        for i, s in enumerate(sylls)
    )


def _bare_run(items: list[_Cluster | str], start: int, last: int) -> int:
    """Number of consecutive vowel-less consonant clusters from ``start`` (a cluster with
    subscripts ends the run: its base is a final, its subscript an onset)."""
    n = 0
    for idx in range(start, last + 1):
        cl = items[idx]
        if not isinstance(cl, _Cluster) or cl.base not in _CONSONANTS or _has_vowel(cl):
            break
        if cl.subs:
            return n + 1 if _final_before_subscript(cl) or cl.subs[0] not in _SONORANTS else n
        n += 1
    return n


def _final_before_subscript(cl: _Cluster) -> bool:
    """A nasal or doubled letter over a subscript ends a syllable: ន្ទ, ម្ប, ត្ត, ក្ខ."""
    return cl.base in _NASALS or _geminate(cl.base, cl.subs[0])


def _has_vowel(cl: _Cluster) -> bool:
    return bool(cl.vowel) or bool(set(cl.signs) & {NIKAHIT, REAHMUK, SAMYOK_SANNYA, YUUKALEAPINTU})


def _pali_ending(prev: _Syllable, cl: _Cluster) -> bool:
    """Word-final ិ/ុ after a cluster or a long vowel is silent: សិទ្ធិ Sith, ជាតិ Cheat."""
    return (
        cl.vowel in ("ិ", "ុ")
        and not cl.signs
        and (bool(cl.subs) or bool(prev.vowel) or prev.independent is not None)
    )


def _closes(
    prev: _Syllable | None, cl: _Cluster, nxt: _Cluster | str | None, last: bool, run: int
) -> bool:
    """Does the base letter of ``cl`` end the open syllable ``prev`` (rather than start one)?

    ``run`` counts the vowel-less clusters from ``cl`` on: such letters pair up from the end
    as onset + final (ព្រៃ|នប់, វាល|វង់), so an even run means ``cl`` starts a syllable.
    """
    if prev is None or prev.coda:
        return False
    if set(prev.signs) & {NIKAHIT, REAHMUK, YUUKALEAPINTU}:
        return cl.base == "ង" and NIKAHIT in prev.signs and not _has_vowel(cl) and not cl.subs
    inherent = not prev.vowel and prev.independent is None
    if cl.subs:
        if last and (not _has_vowel(cl) or _pali_ending(prev, cl)):
            return True
        # ន្ទា in បន្ទាយ, ត្តា in មេត្តា; but ក្រ in ដីក្រហម starts a syllable
        return _final_before_subscript(cl) or (inherent and cl.subs[0] not in _SONORANTS)
    if _has_vowel(cl):
        return last and _pali_ending(prev, cl)
    if BANTOC in cl.signs or not isinstance(nxt, _Cluster) or nxt.base not in _CONSONANTS:
        return True
    if run >= 2:
        return run % 2 == 1
    # a stop between a presyllable and a sonorant-initial syllable starts a syllable:
    # រតនា Ratana, មករា Makara, រចនា Rachana
    return not (
        inherent
        and prev.first
        and prev.simple
        and cl.base in _STOPS
        and _has_vowel(nxt)
        and not nxt.subs
        and nxt.base in _SONORANTS
    )


def _syllable_latin(s: _Syllable, final: bool) -> str:
    col = 0 if s.series == "a" else 1
    signs = s.signs
    coda = s.coda
    if s.independent is not None:
        nucleus = s.independent
    elif NIKAHIT in signs and s.vowel in _NASAL:
        nucleus = _NASAL[s.vowel][col]
        if coda == "ng" and nucleus.endswith("m"):
            nucleus = nucleus[:-1]  # ាំង reads ang / eang
    elif SAMYOK_SANNYA in signs:
        if coda == "y":
            return s.onset + ("ai", "ey")[col]  # ជ័យ chey
        nucleus = ("a", "oa")[col]
    elif BANTOC in signs and s.vowel in _SHORT:
        nucleus = _SHORT[s.vowel][col]
    elif not s.vowel:
        nucleus = _inherent(col, coda, final, s.geminate)
        if REAHMUK in signs:
            nucleus = ("a", "ea")[col]  # ព្រះ preah
    elif s.vowel == "ឹ" and coda == "m":
        nucleus = "i"  # ឹម reads im: គឹម Kim, លឹម Lim
    else:
        nucleus = _VOWELS[s.vowel][col]
        if NIKAHIT in signs:
            nucleus += "m"
    if REAHMUK in signs:
        coda += "h"
    if YUUKALEAPINTU in signs and not coda:
        coda = "k" if not s.vowel else "h"
    return s.onset + nucleus + coda


def _inherent(col: int, coda: str, final: bool, geminate: bool) -> str:
    """The inherent vowel: "a" in open presyllables (Makara, Ratana) and after a-series
    letters; o-series "o" (Kong, Tonle, Chol), but "ea" before a doubled or stacked Pali
    final (ភក្តី Pheakdey, លក្ខ Leak, វណ្ណ Veann ~ Vann)."""
    if col == 0 or (not coda and not final):
        return "a"
    if geminate:
        return "ea"
    return "o"
