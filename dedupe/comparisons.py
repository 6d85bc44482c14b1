"""Declared comparisons: each is an ordered list of levels, the first level that holds wins.

A pair of records is compared field by field; a level is a small named test over a
``PairView`` (vectorised over many pairs at once). Read the docstrings to see the rules; the
weights of every level are estimated from the data (``weights.py``), not written here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler
from rapidfuzz.process import cpdist

from dedupe.dates import EXACT, YEAR, one_digit_off, swapped_day_month
from dedupe.prepare import Prepared

# Names this close (best Jaro-Winkler over the spellings) are "the same name, typed differently".
CLOSE = 0.92
# Below this, and not contained in each other, two given names "clearly disagree" (siblings).
DIFFERENT = 0.85
# Below this two names have little in common (Phearum / Rithy).
FAR = 0.6
# From here two names are weakly alike (Meas / Mao: one family name romanised two ways).
WEAK = 0.70
# An attribute value held by at most this many records is rare: an identifier (a social
# security number), a rare street; agreeing on it is far stronger evidence than on a suburb.
# It must exceed the records one person may have in one list (FEBRL3: up to 6 share a social
# security number): FEBRL3 all-fields F1 0.9982 at 5, 1.0 at 10 and 20, 0.9997 at 50.
RARE = 10
# A rare value mistyped by one edit still identifies only when this long (1824555 / 1824565;
# not 14 / 4).
RARE_TYPO_LENGTH = 5


def _sim_ids(words: list[str], left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Jaro-Winkler similarity of word-id pairs, computed once per distinct pair; -1 if empty."""
    if len(left) == 0:
        return np.zeros(0)
    code = left * len(words) + right
    distinct, inverse = np.unique(code, return_inverse=True)
    la, lb = distinct // len(words), distinct % len(words)
    sims = np.asarray(
        cpdist(
            [words[i] for i in la],
            [words[i] for i in lb],
            scorer=JaroWinkler.normalized_similarity,
            workers=-1,
        ),
        dtype=np.float64,
    )
    sims[(la == 0) | (lb == 0)] = -1.0
    return sims[inverse.reshape(-1)]


def _best(words: list[str], ids_a: np.ndarray, ids_b: np.ndarray) -> np.ndarray:
    """Best similarity over the (Latin, Khmer-derived) spellings of two names."""
    best = _sim_ids(words, ids_a[:, 0], ids_b[:, 0])
    for x, y in ((0, 1), (1, 0), (1, 1)):
        best = np.maximum(best, _sim_ids(words, ids_a[:, x], ids_b[:, y]))
    return best


class PairView:
    """Features of candidate pairs (rows ``a[i]``, ``b[i]`` of a prepared table), lazily."""

    def __init__(self, table: Prepared, a: np.ndarray, b: np.ndarray) -> None:
        self.t, self.a, self.b = table, np.asarray(a, np.int64), np.asarray(b, np.int64)

    def _name_sim(self, left: str, right: str) -> np.ndarray:
        """Best of phonetic-key and cleaned-Latin similarity between two name fields."""
        out = None
        for kind in ("key", "clean"):
            ids_left = self.t.name_ids(f"{left}_{kind}")[self.a]
            ids_right = self.t.name_ids(f"{right}_{kind}")[self.b]
            sims = _best(self.t.words, ids_left, ids_right)
            out = sims if out is None else np.maximum(out, sims)
        return out

    @cached_property
    def swapped(self) -> np.ndarray:
        """Given and family names recorded the other way round on one side."""
        straight = np.clip(self._gg, 0, None) + np.clip(self._ff, 0, None)
        crossed = np.clip(self._gf, 0, None) + np.clip(self._fg, 0, None)
        return crossed > straight + 0.15

    @cached_property
    def _gf(self) -> np.ndarray:
        return self._name_sim("given", "family")

    @cached_property
    def _fg(self) -> np.ndarray:
        return self._name_sim("family", "given")

    @cached_property
    def _gg(self) -> np.ndarray:
        return self._name_sim("given", "given")

    @cached_property
    def _ff(self) -> np.ndarray:
        return self._name_sim("family", "family")

    @cached_property
    def given_sim(self) -> np.ndarray:
        """Given-name similarity; for swapped names the better of the two crossed pairs (so
        that the score does not depend on which record is on which side)."""
        return np.where(self.swapped, np.maximum(self._gf, self._fg), self._gg)

    @cached_property
    def family_sim(self) -> np.ndarray:
        return np.where(self.swapped, np.minimum(self._gf, self._fg), self._ff)

    @cached_property
    def given_contained(self) -> np.ndarray:
        """One given name's key inside the other's (Neang / Sreyneang), or nickname = name."""
        words = self.t.words
        given = self.t.name_ids("given_key")[:, 0]
        family = self.t.name_ids("family_key")[:, 0]
        nick = self.t.name_ids("nick_key")[:, 0]
        out = np.zeros(len(self.a), bool)
        pairs = (
            (given[self.a], given[self.b]),
            (given[self.a], family[self.b]),
            (family[self.a], given[self.b]),
        )
        for n, (left, right) in enumerate(pairs):
            code = left * len(words) + right
            distinct, inverse = np.unique(code, return_inverse=True)
            found = np.fromiter(
                (_contains(words[c // len(words)], words[c % len(words)]) for c in distinct),
                bool,
                len(distinct),
            )
            hit = found[inverse.reshape(-1)]
            out |= hit if n == 0 else (hit & self.swapped)
        na, nb = nick[self.a], nick[self.b]
        ga, gb = given[self.a], given[self.b]
        return out | ((na > 0) & ((na == gb) | (na == nb))) | ((nb > 0) & (nb == ga))

    def _same_skeleton(self, left: str, right: str) -> np.ndarray:
        """Same consonants in some spelling of both names (Yeum / Yim), vowels being unstable."""
        ids_a = self.t.name_ids(f"{left}_key")[self.a]
        ids_b = self.t.name_ids(f"{right}_key")[self.b]
        skeleton = self.t.skeleton_ids()
        sa, sb = skeleton[ids_a], skeleton[ids_b]
        out = np.zeros(len(self.a), bool)
        for x in (0, 1):
            for y in (0, 1):
                out |= (sa[:, x] > 0) & (sa[:, x] == sb[:, y])
        return out

    @cached_property
    def given_skeleton(self) -> np.ndarray:
        crossed = self._same_skeleton("given", "family") | self._same_skeleton("family", "given")
        return np.where(self.swapped, crossed, self._same_skeleton("given", "given"))

    @cached_property
    def family_skeleton(self) -> np.ndarray:
        crossed = self._same_skeleton("given", "family") & self._same_skeleton("family", "given")
        return np.where(self.swapped, crossed, self._same_skeleton("family", "family"))

    @cached_property
    def has_home(self) -> np.ndarray:
        """Either record has a location or a caregiver."""
        known = self.t.home_known()
        return known[self.a] | known[self.b]

    def key_ids(self, column: str) -> tuple[np.ndarray, np.ndarray]:
        """Word ids of the primary key of a name column on both sides (term frequencies)."""
        ids = self.t.name_ids(f"{column}_key")[:, 0]
        return ids[self.a], ids[self.b]

    @cached_property
    def location_depth(self) -> np.ndarray:
        """Shared levels: 4 village, 3 commune, 2 district, 1 province, 0 none, -1 unknown."""
        levels = self.t.location_levels()
        la, lb = levels[self.a], levels[self.b]
        agree = (la == lb) & (la > 0)
        depth = np.cumprod(agree, axis=1).sum(axis=1).astype(np.int8)
        depth[(la[:, 0] == 0) | (lb[:, 0] == 0)] = -1
        return depth

    @cached_property
    def caregiver_sim(self) -> np.ndarray:
        """Best Jaro-Winkler between the caregivers of two records; -1 when either has none."""
        ca, cb = self.t.caregiver_keys, self.t.caregiver_keys
        out = np.full(len(self.a), -1.0)
        has = np.fromiter((bool(c) for c in ca), bool, len(ca))
        for i in np.flatnonzero(has[self.a] & has[self.b]):
            x, y = ca[self.a[i]], cb[self.b[i]]
            out[i] = max(JaroWinkler.normalized_similarity(p, q) for p in x for q in y)
        return out

    @cached_property
    def extra_counts(self) -> tuple[np.ndarray, np.ndarray]:
        """(attributes agreeing, attributes held by both) of the other named attributes.

        An attribute agrees when its values are equal or Jaro-Winkler >= ``CLOSE``
        ("hoseason street" / "hoseasonstreet").
        """
        n = len(self.a)
        agree, shared = np.zeros(n, np.int16), np.zeros(n, np.int16)
        for name in _extra_names(self.t):
            ids, words = _extra_ids(self.t, name)
            la, lb = ids[self.a], ids[self.b]
            both = (la > 0) & (lb > 0)
            sims = _sim_ids(words, la, lb)
            shared += both
            agree += both & (sims >= CLOSE)
        return agree, shared

    @cached_property
    def extra_rare(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(attributes with the same rare value, attributes with rare values one edit apart,
        attributes held by both) of the other named attributes.

        A value is rare when at most ``RARE`` records of the table hold it (the value's own
        frequency, as a term-frequency adjustment: no attribute is named an identifier).
        """
        n = len(self.a)
        same, near, shared = np.zeros(n, np.int16), np.zeros(n, np.int16), np.zeros(n, np.int16)
        for name in _extra_names(self.t):
            ids, words = _extra_ids(self.t, name)
            held = _extra_value_counts(self.t, name)
            la, lb = ids[self.a], ids[self.b]
            both = (la > 0) & (lb > 0)
            rare_a, rare_b = held[la] <= RARE, held[lb] <= RARE
            close = both & (la != lb) & rare_a & rare_b
            close[close] = _one_edit(words, la[close], lb[close])
            same += both & (la == lb) & rare_a
            near += close
            shared += both
        return same, near, shared

    def dates(self) -> tuple[np.ndarray, ...]:
        t, a, b = self.t, self.a, self.b
        return (
            t.year[a].astype(np.int32),
            t.month[a].astype(np.int32),
            t.day[a].astype(np.int32),
            t.precision[a],
            t.year[b].astype(np.int32),
            t.month[b].astype(np.int32),
            t.day[b].astype(np.int32),
            t.precision[b],
        )


def _extra_names(t: Prepared) -> list[str]:
    """The attribute names of the table's extra fields, cached until the table grows (clustering
    scores small batches many times: a full scan each time was most of the 1M-record link)."""
    cache: dict = t.__dict__.setdefault("_extra_cache", {})
    found = cache.get(("names",))
    if found is None or found[0] != len(t.extra):
        found = (len(t.extra), sorted({name for row in t.extra for name, _ in row}))
        cache[("names",)] = found
    return found[1]


BLANK_CODE = 0  # the code of "" (and of a missing value) in ``_column_codes``


def _column_codes(t: Prepared, column: str) -> np.ndarray:
    """Integer codes of a string column of the table, cached and grown with the table."""
    cache: dict = t.__dict__.setdefault("_column_codes", {})
    values = getattr(t, column)
    codes, seen = cache.get(column, (np.zeros(0, np.int64), {"": BLANK_CODE}))
    if len(codes) < len(values):
        fresh = np.fromiter(
            (seen.setdefault(v or "", len(seen)) for v in values[len(codes) :]),
            np.int64,
            len(values) - len(codes),
        )
        codes = np.concatenate([codes, fresh])
        cache[column] = (codes, seen)
    return codes


def _extra_ids(t: Prepared, name: str) -> tuple[np.ndarray, list[str]]:
    """Per row: an id of the value of attribute ``name`` (0 when absent), and the values."""
    cache: dict = t.__dict__.setdefault("_extra_cache", {})
    found = cache.get(name)
    if found is not None and len(found[0]) == len(t.extra):
        return found
    words = [""]
    seen: dict[str, int] = {"": 0}
    ids = np.zeros(len(t.extra), np.int64)
    for row, attrs in enumerate(t.extra):
        value = dict(attrs).get(name, "")
        ids[row] = seen.setdefault(value, len(words))
        if ids[row] == len(words):
            words.append(value)
    cache[name] = (ids, words)
    return ids, words


def _extra_value_counts(t: Prepared, name: str) -> np.ndarray:
    """Per value id of attribute ``name``: how many records of the table hold that value."""
    cache: dict = t.__dict__.setdefault("_extra_cache", {})
    ids, words = _extra_ids(t, name)
    found = cache.get(("held", name))
    if found is None or found[0] != len(ids):
        held = np.bincount(ids, minlength=len(words)).astype(np.int64)
        held[0] = 0
        found = (len(ids), held)
        cache[("held", name)] = found
    return found[1]


def _one_edit(words: list[str], left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Values one insertion, deletion, substitution or transposition apart, both at least
    ``RARE_TYPO_LENGTH`` long; computed once per distinct pair."""
    if len(left) == 0:
        return np.zeros(0, bool)
    code = left * len(words) + right
    distinct, inverse = np.unique(code, return_inverse=True)
    la, lb = distinct // len(words), distinct % len(words)
    found = np.fromiter(
        (
            min(len(words[x]), len(words[y])) >= RARE_TYPO_LENGTH
            for x, y in zip(la, lb, strict=True)
        ),
        bool,
        len(la),
    )
    long_ = np.flatnonzero(found)
    if len(long_):
        dist = cpdist(
            [words[i] for i in la[long_]],
            [words[i] for i in lb[long_]],
            scorer=DamerauLevenshtein.distance,
            workers=-1,
        )
        found[long_] = np.asarray(dist) <= 1
    return found[inverse.reshape(-1)]


def _contains(x: str, y: str) -> bool:
    if not x or not y or x == y:
        return False
    short, long_ = (x, y) if len(x) <= len(y) else (y, x)
    return len(short) >= 3 and short in long_


@dataclass(frozen=True)
class Level:
    """One level of a comparison: a label and a vectorised test."""

    label: str
    test: Callable[[PairView], np.ndarray]
    tf: str | None = None  # term-frequency column ("given"/"family") for an exact level


@dataclass(frozen=True)
class Comparison:
    """An ordered list of levels; level 0 is always 'null' (no evidence, weight 0)."""

    name: str
    levels: tuple[Level, ...]
    description: str = ""

    def level_of(self, view: PairView) -> np.ndarray:
        n = len(view.a)
        out = np.full(n, len(self.levels) - 1, np.int8)
        todo = np.ones(n, bool)
        for number, level in enumerate(self.levels[:-1]):
            hit = todo & np.asarray(level.test(view), bool)
            out[hit] = number
            todo &= ~hit
        return out

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(level.label for level in self.levels)


def _always(view: PairView) -> np.ndarray:
    return np.ones(len(view.a), bool)


def _name_levels(attr: str, tf: str, contained: bool) -> tuple[Level, ...]:
    def sim(view: PairView) -> np.ndarray:
        return getattr(view, f"{attr}_sim")

    def skeleton(view: PairView) -> np.ndarray:
        return getattr(view, f"{attr}_skeleton")

    levels = [
        Level("null", lambda v: sim(v) < 0),
        Level("exact", lambda v: sim(v) >= 1.0, tf=tf),
        Level("close", lambda v: sim(v) >= CLOSE),
        Level("similar", lambda v: sim(v) >= DIFFERENT),
        Level("same consonants", skeleton),
    ]
    if contained:
        levels.append(Level("contained or nickname", lambda v: v.given_contained))
    levels += [Level("weak", lambda v: sim(v) >= WEAK), Level("different", _always)]
    return tuple(levels)


GIVEN_NAME = Comparison(
    "given name",
    _name_levels("given", "given", contained=True),
    """Best Jaro-Winkler over spellings (Latin, romanised Khmer; phonetic key or cleaned).
    null: either missing | exact: same phonetic key ("Sreymom" / "Srey Mom"), weight adjusted by
    the key's frequency | close >= 0.92 ("Vichet" / "Vicheth") | similar >= 0.85
    ("Chamroeun" / "Cehomroeun") | same consonants ("Yeum" / "Yim") | contained or nickname
    ("Neang" / "Sreyneang") | weak >= 0.70 | different ("Dara" / "Sophea").""",
)

FAMILY_NAME = Comparison(
    "family name",
    _name_levels("family", "family", contained=False),
    """Like the given name, after undoing a given/family swap: null | exact ("Khieu" /
    "Khiew") | close >= 0.92 | similar >= 0.85 | same consonants | weak >= 0.70 | different.""",
)


def _dob_exact(v: PairView) -> np.ndarray:
    y1, m1, d1, p1, y2, m2, d2, p2 = v.dates()
    return (p1 == EXACT) & (p2 == EXACT) & (y1 == y2) & (m1 == m2) & (d1 == d2)


def _dob_typo(v: PairView) -> np.ndarray:
    y1, m1, d1, p1, y2, m2, d2, p2 = v.dates()
    both = (p1 == EXACT) & (p2 == EXACT)
    swap = (y1 == y2) & swapped_day_month(m1, d1, m2, d2)
    year_off = (np.abs(y1 - y2) == 1) & (m1 == m2) & (d1 == d2)
    digit = (y1 == y2) & (
        ((m1 == m2) & one_digit_off(d1, d2)) | ((d1 == d2) & one_digit_off(m1, m2))
    )
    return both & (swap | year_off | digit)


def _dob_year_estimated(v: PairView) -> np.ndarray:
    y1, _, _, p1, y2, _, _, p2 = v.dates()
    return ((p1 == YEAR) | (p2 == YEAR)) & (y1 == y2)


def _dob_same_year(v: PairView) -> np.ndarray:
    y1, _, _, _, y2, _, _, _ = v.dates()
    return y1 == y2


def _dob_year_apart(v: PairView) -> np.ndarray:
    y1, _, _, _, y2, _, _, _ = v.dates()
    return np.abs(y1 - y2) <= 1


def _dob_null(v: PairView) -> np.ndarray:
    _, _, _, p1, _, _, _, p2 = v.dates()
    return (p1 == 0) | (p2 == 0)


BIRTH_DATE = Comparison(
    "date of birth",
    (
        Level("null", _dob_null),
        Level("exact", _dob_exact),
        Level("typo", _dob_typo),
        Level("same year, one estimated", _dob_year_estimated),
        Level("same year", _dob_same_year),
        Level("one year apart", _dob_year_apart),
        Level("different", _always),
    ),
    """null: either unknown or corrupt | exact: both exact and equal | typo: day/month swapped
    (2014-03-05 / 2014-05-03), year off by one (2010-10-01 / 2011-10-01) or one digit of day or
    month (2013-08-15 / 2013-08-18) | same year, one estimated (2022-01-01 / 2022-06-15) |
    same year (2020-02-03 / 2020-09-14) | one year apart | different.""",
)

LOCATION = Comparison(
    "location",
    (
        Level("null", lambda v: v.location_depth < 0),
        Level("same village", lambda v: v.location_depth >= 4),
        Level("same commune", lambda v: v.location_depth == 3),
        Level("same district", lambda v: v.location_depth == 2),
        Level("same province", lambda v: v.location_depth == 1),
        Level("different", _always),
    ),
    """NCDD codes (leading zero restored): null | same village (12140302 / 12140302) |
    same commune (121403xx) | same district (1214xxxx) | same province (12xxxxxx) | different.""",
)


def _sex_null(v: PairView) -> np.ndarray:
    return (v.t.sex[v.a] == 0) | (v.t.sex[v.b] == 0)


SEX = Comparison(
    "sex",
    (
        Level("null", _sex_null),
        Level("same", lambda v: v.t.sex[v.a] == v.t.sex[v.b]),
        Level("different", _always),
    ),
    """null: missing/unknown on either side | same (female / female) | different.""",
)

CAREGIVER = Comparison(
    "caregiver",
    (
        Level("null", lambda v: v.caregiver_sim < 0),
        Level("same caregiver", lambda v: v.caregiver_sim >= CLOSE),
        Level("similar caregiver", lambda v: v.caregiver_sim >= 0.80),
        Level("different", _always),
    ),
    """Best Jaro-Winkler of caregiver phonetic keys: null: none recorded on either side |
    same caregiver ("Kong Sokhom" / "Kong Sokhum") | similar (>= 0.80) | different.""",
)


def _agree_differ(v: PairView, agree: int, differ: int) -> np.ndarray:
    """At least ``agree`` attributes agree and at most ``differ`` disagree."""
    same, shared = v.extra_counts
    return (same >= agree) & (shared - same <= differ)


OTHER = Comparison(
    "other details",
    (
        Level("null", lambda v: v.extra_counts[1] == 0),
        Level("six or more agree", lambda v: _agree_differ(v, 6, 1)),
        Level("four or more agree", lambda v: _agree_differ(v, 4, 0)),
        Level("four or more agree, one differs", lambda v: _agree_differ(v, 4, 1)),
        Level("three or more agree", lambda v: _agree_differ(v, 3, 99)),
        Level("two agree", lambda v: _agree_differ(v, 2, 99)),
        Level("one agrees", lambda v: _agree_differ(v, 1, 99)),
        Level("none agree", _always),
    ),
    """Other named attributes held by both records (FEBRL's address, suburb, postcode,
    social security number...; none in the bridge), each agreeing when equal or
    Jaro-Winkler >= 0.92. Counting, not sharing, decides: agreeing on six attributes says
    more than agreeing on the only one both hold. null: no attribute on both | six or more
    agree, at most one differs | four or more
    agree, none differs | four or more agree, one differs | three or more agree | two agree |
    one agrees | none agree.""",
)


def _rare(v: PairView, same: int, near: int) -> np.ndarray:
    """At least ``same`` rare values shared and ``near`` rare values one edit apart."""
    rare_same, rare_near, _ = v.extra_rare
    return (rare_same >= same) & (rare_near >= near)


RARE_DETAIL = Comparison(
    "rare details",
    (
        Level("null", lambda v: v.extra_rare[2] == 0),
        Level("two or more rare values", lambda v: _rare(v, 2, 0)),
        Level("one rare value, another one edit", lambda v: _rare(v, 1, 1)),
        Level("one rare value", lambda v: _rare(v, 1, 0)),
        Level("rare value one edit", lambda v: _rare(v, 0, 1)),
        Level("no rare value shared", _always),
    ),
    """The other named attributes again, by how rare the shared value is (at most 10 records
    hold it: an identifier such as a social security number, a rare street): a rare value
    shared says more than any count of common ones. null: no attribute on both | two or more
    rare values the same | one the same, another one edit apart ("1824555" / "1824565", five
    characters or more) | one rare value the same | rare values one edit apart | no rare value
    shared.""",
)


def _same_system(v: PairView) -> np.ndarray:
    systems = _column_codes(v.t, "systems")
    return systems[v.a] == systems[v.b]


def _same_organisation(v: PairView) -> np.ndarray:
    orgs = _column_codes(v.t, "organisation")
    oa, ob = orgs[v.a], orgs[v.b]
    return _same_system(v) & (oa == ob) & (oa != BLANK_CODE)


SYSTEMS = Comparison(
    "systems",
    (
        Level("null", lambda v: np.zeros(len(v.a), bool)),
        Level("different systems", lambda v: ~_same_system(v)),
        Level("same system, other organisation", lambda v: ~_same_organisation(v)),
        Level("same organisation", _always),
    ),
    """Where the two records come from: a child is registered once per system far more often
    than twice in one, and twice by one organisation least often; the weights say by how much
    (estimated like the rest). different systems (Primero / OSCaR) | same system, other or
    unknown organisation | same system and organisation.""",
)

COMPARISONS: tuple[Comparison, ...] = (
    GIVEN_NAME,
    FAMILY_NAME,
    BIRTH_DATE,
    LOCATION,
    SEX,
    CAREGIVER,
    OTHER,
    RARE_DETAIL,
    SYSTEMS,
)


def _one_agrees_other_differs(
    same: np.ndarray, other: np.ndarray, agree: float = DIFFERENT
) -> np.ndarray:
    """One name agrees (``same`` >= ``agree``), the other clearly differs."""
    return (same >= agree) & (other >= 0) & (other < DIFFERENT)


def sibling_pattern(view: PairView) -> np.ndarray:
    """Two different children of one family: never linked automatically, never chained.

    The family name agrees (similar, close or exact), the given names clearly disagree (below
    0.85, not contained, no nickname bridge) and something of the household agrees: same
    caregiver, same village, or the same exact birth date (twins). With names written the other
    way round on one side, "one name agrees, the other clearly differs" counts the same.
    Twins (the same exact birth date in the same village or with the same caregiver) need the
    family name only weakly alike (>= 0.70: Meas / Mao, one family romanised two ways).
    Also a sibling: given names only close (not the same key) where the household agrees but
    the birth date is not the same exact date (siblings often get similar names: Chanthou /
    Chantha, and a year-off birth date is as likely a sibling as a typing error), unless the
    given names are one name spelled two ways (>= 0.92) and the birth year agrees with one side
    an estimate (a sibling would have to be born the same year).
    """
    # Same birth date (twins) counts only where something of where the child lives is known:
    # with no location and no caregiver on either side (FEBRL-like lists), a replaced given
    # name cannot be told from a twin and the estimated weights decide alone.
    somewhere = (view.location_depth >= 0) | (view.caregiver_sim >= 0) | view.has_home
    twins = _dob_exact(view) & somewhere
    household = (view.caregiver_sim >= CLOSE) | (view.location_depth >= 4) | twins
    straight = _one_agrees_other_differs(view._ff, view._gg) & ~view.given_contained
    # both records with the family name in the given field: the "given" agrees exactly and
    # the "family" (really the given names) is far apart
    reversed_ = (view._gg >= 0.99) & (view._ff >= 0) & (view._ff < FAR) & ~view.given_contained
    crossed = view.swapped & (
        _one_agrees_other_differs(view._gf, view._fg)
        | _one_agrees_other_differs(view._fg, view._gf)
    )
    # a family name romanised two ways by two workers (Meas / Mao, only weakly alike) with
    # given names that clearly disagree (Rotha / Phanit), born the same day in the same home:
    # twins all the same (unless the names read the other way round agree: Rith Ratha /
    # Rathaa Rit)
    weak_family = (
        _one_agrees_other_differs(view._ff, view._gg, agree=WEAK)
        & ~view.given_contained
        & ~view.swapped
    )
    near_home = (view.caregiver_sim >= CLOSE) | (view.location_depth >= 4)
    differs = ((straight | reversed_ | crossed) & household) | (weak_family & twins & near_home)
    close_only = (view.family_sim >= CLOSE) & (view.given_sim >= 0) & (view.given_sim < 1.0)
    # a given name spelled another way (>= CLOSE) with a birth year that agrees where one side
    # is only an estimate is one child written twice: a sibling would need the same year
    spelled_twice = (view.given_sim >= CLOSE) & _dob_year_estimated(view)
    return differs | (
        close_only & near_home & ~_dob_exact(view) & ~view.given_contained & ~spelled_twice
    )


def level_matrix(view: PairView) -> np.ndarray:
    """(pairs x comparisons) matrix of level numbers."""
    if len(view.a) == 0:
        return np.zeros((0, len(COMPARISONS)), np.int8)
    return np.stack([c.level_of(view) for c in COMPARISONS], axis=1)
