"""Find a child: is the child a case worker is about to register known already?

A search takes a name as typed (Khmer script, a Latin romanisation or both; family and given
name in either order), optionally a birth year and a province, and returns the children whose
records look like it, best first, each with its evidence in plain words ("given name sounds the
same", "born 2 years apart") and a score from 0 to 1.

Names are read the way the matching engine reads them (``dedupe``): Khmer script romanised by
rule, every spelling reduced to a phonetic key that folds the usual romanisation variants, keys
compared with Jaro-Winkler at the engine's thresholds. The work is split in two:

- ``FindIndex`` is built once from the store: the distinct names (a few thousand even for a
  national store), an inverted index from phonetic keys, words and spellings to those names, and
  per record numpy columns (given name, family name, full name, birth year, province, child).
- a search compares the query with the *distinct names* only (exact keys through the inverted
  index, near spellings through rapidfuzz over the key vocabulary), then scores every record
  at once with numpy by looking its names up in the per-name values. No SQL at query time
  beyond a cheap check that the store has not changed since the index was built.

``find_children`` is the audited face (a search shows personal data): one audit row per search
holding counts and which fields were given, never what was typed.
"""

from __future__ import annotations

import re
import threading
import time
import weakref
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate
from typing import Any

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import JaroWinkler
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from bridge.helpdesk.audit import record_audit
from bridge.helpdesk.service import HelpdeskError, require_actor
from bridge.helpdesk.views import province_names
from bridge.store.db import Store
from bridge.store.schema import ChildRow, DecisionRow, LinkRow, SourceRecordRow, SyncRunRow
from dedupe.comparisons import CLOSE, DIFFERENT
from dedupe.khmer import has_khmer, khmer_to_latin, normalise_khmer
from dedupe.locations import normalise_code
from dedupe.names import clean_latin
from dedupe.phonetic import consonant_skeleton, joined_key, name_keys
from dedupe.prepare import split_name

MIN_BIRTH_YEAR, MAX_BIRTH_YEAR = 1990, 2100
MAX_NAME_CHARS = 200
MAX_NAME_WORDS = 6
MAX_LIMIT = 200
# A record is a candidate when its names alone score at least this (0..1, before birth year
# and province): one name sounding the same and the other at least similar, or one name the
# same and the other not recorded. One name alone agreeing (a sibling) is not enough.
MIN_NAME_SCORE = 0.55
# A word shared by two names counts as "partly the same" only from this length: "Srey" (girl)
# and "Sok" open too many names to mean anything.
PART_LENGTH = 4
# Weights of the evidence in the score; names always count, the others when given.
GIVEN_WEIGHT, FAMILY_WEIGHT = 0.45, 0.35
YEAR_WEIGHT, PROVINCE_WEIGHT = 0.1, 0.1
# A one-word search matching a family name is weaker than one matching a given name:
# family names are shared by whole villages.
FAMILY_ONLY = 0.9


# -- what goes in and what comes out ----------------------------------------------------------
@dataclass(frozen=True)
class FindQuery:
    """What the case worker typed: a name (any script, any order), maybe a year and province."""

    name: str
    birth_year: int | None = None
    province: str | None = None  # NCDD province code, "12" (or "1" for "01")


@dataclass(frozen=True)
class Evidence:
    """One piece of evidence: a stable code (for a page to translate) and plain words."""

    code: str
    words: str
    number: int | None = None  # the years apart, for born_years_apart

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "words": self.words, "number": self.number}


@dataclass(frozen=True)
class Candidate:
    """A child that may be the one searched for; evidence is from its best record."""

    child_id: str
    score: float
    evidence: tuple[Evidence, ...]
    record_keys: tuple[str, ...]  # every record of the child, "system:record_id"
    best_record: str  # the record the score and evidence come from

    @property
    def words(self) -> list[str]:
        return [e.words for e in self.evidence]

    def as_dict(self) -> dict[str, Any]:
        return {
            "child_id": self.child_id,
            "score": self.score,
            "evidence": [e.as_dict() for e in self.evidence],
            "record_keys": list(self.record_keys),
            "best_record": self.best_record,
        }


# -- names --------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class NameForm:
    """One name (a given name, a family name, or a whole name) in the forms compared."""

    latin: str = ""  # cleaned Latin spelling without spaces ("sreyneang"), "" when none
    khmer: str = ""  # normalised Khmer script without spaces, "" when none
    keys: tuple[str, ...] = ()  # phonetic keys of the whole name (Latin spelling, Khmer reading)
    words: tuple[str, ...] = ()  # phonetic keys of its words, for "partly the same"
    # letters-only spellings for Jaro-Winkler: the Latin one and the Khmer read as Latin
    spellings: tuple[str, ...] = ()

    @property
    def blank(self) -> bool:
        return not self.keys


BLANK = NameForm()


def _squeeze(text: str) -> str:
    return text.replace(" ", "").replace("-", "")


def _letters(text: str) -> str:
    return "".join(ch for ch in clean_latin(text) if "a" <= ch <= "z")


def _spellings(latin: str, khmer: str) -> tuple[str, ...]:
    read = khmer_to_latin(khmer) if khmer else ""
    return tuple(dict.fromkeys(s for s in (_letters(latin), _letters(read)) if s))


@lru_cache(maxsize=200_000)
def name_form(latin_field: str, khmer_field: str) -> NameForm:
    """A name's forms from its Latin and Khmer fields (either may be empty)."""
    latin, khmer = split_name(latin_field.strip(), khmer_field.strip())
    keys = tuple(dict.fromkeys(k for k in (joined_key(latin), joined_key(khmer)) if k))
    if not keys:
        return BLANK
    words = tuple(dict.fromkeys((*name_keys(latin), *name_keys(khmer))))
    return NameForm(
        latin=_squeeze(clean_latin(latin)),
        khmer=_squeeze(normalise_khmer(khmer)) if khmer else "",
        keys=keys,
        words=words,
        spellings=_spellings(latin, khmer),
    )


_DOUBLED = re.compile(r"(.)\1+")


def _collapse(key: str) -> str:
    """A key written after another: a letter doubled across the join is one ("Sok Kong")."""
    return _DOUBLED.sub(r"\1", key)


@lru_cache(maxsize=200_000)
def whole_form(given: NameForm, family: NameForm) -> NameForm:
    """A record's whole name read as one word, in both orders: what a search typed without
    a space (Khmer is often written so: "សុខស្រីនាង") is compared with. Built from the two
    names' keys (cheap: a national store has one per distinct pair of names). A record with
    one name only (a Khmer full name in one word) is that name."""
    if given.blank or family.blank:
        one = family if given.blank else given
        return NameForm(khmer=one.khmer, keys=tuple(map(_collapse, one.keys)))
    keys = [_collapse(a + b) for f in family.keys for g in given.keys for a, b in ((f, g), (g, f))]
    khmer = family.khmer + given.khmer if family.khmer and given.khmer else ""
    return NameForm(khmer=khmer, keys=tuple(dict.fromkeys(keys)))


def whole_query(words: Sequence[str]) -> NameForm:
    """The searched words read as one whole name, keyed as ``whole_form`` keys a record's."""
    part = _part(words)
    return NameForm(khmer=part.khmer, keys=tuple(dict.fromkeys(map(_collapse, part.keys))))


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


@lru_cache(maxsize=200_000)
def record_names(
    given: object, family: object, given_km: object, family_km: object, full_km: object
) -> tuple[NameForm, NameForm, NameForm]:
    """(given, family, whole) name forms of a stored record's names. A Khmer full name of
    unknown order is read family name first, as Khmer names are written."""
    full = _text(full_km).split()
    g_km = _text(given_km) or " ".join(full[1:] if len(full) > 1 else full)
    f_km = _text(family_km) or (full[0] if len(full) > 1 else "")
    g = name_form(_text(given), g_km)
    f = name_form(_text(family), f_km)
    return g, f, whole_form(g, f)


# -- comparing one searched name with one recorded name ----------------------------------------
@dataclass(frozen=True, slots=True)
class Level:
    """How a searched name compares with a recorded one: a code suffix and a value 0..1."""

    code: str  # identical | sounds_same | nearly_same | similar | partly_same | different | missing
    value: float


MISSING = Level("missing", 0.3)
DIFFERENT_NAME = Level("different", 0.0)
_WORDS = {
    "identical": "{field} identical",
    "sounds_same": "{field} sounds the same",
    "nearly_same": "{field} spelt nearly the same",
    "similar": "{field} sounds similar",
    "partly_same": "{field} partly the same",
    "different": "{field} different",
    "missing": "no {field} recorded",
}


def _best_similarity(part: NameForm, name: NameForm) -> float:
    sim = max(JaroWinkler.similarity(a, b) for a in part.keys for b in name.keys)
    for a in part.spellings:
        for b in name.spellings:
            sim = max(sim, JaroWinkler.similarity(a, b))
    return sim


def _partly(part: NameForm, name: NameForm) -> bool:
    """A word of one is a word of the other, or one key holds the other ("Neang" in
    "Sreyneang"), the shared piece being long enough to mean something."""
    if any(len(w) >= PART_LENGTH for w in set(part.words) & set(name.words)):
        return True
    for a in part.keys:
        for b in name.keys:
            short, long_ = (a, b) if len(a) <= len(b) else (b, a)
            if len(short) >= PART_LENGTH and short in long_:
                return True
    return False


def compare_names(part: NameForm, name: NameForm, *, whole: bool = False) -> Level:
    """The first level that holds, like the engine's name comparison (``dedupe.comparisons``):
    identical spelling, same phonetic key, Jaro-Winkler >= CLOSE, >= DIFFERENT or the same
    consonants, sharing a word; else different. ``whole`` (whole names read as one word)
    keeps only identical and sounds the same: long strings agree loosely by chance."""
    if name.blank:
        return MISSING
    if part.blank:
        return DIFFERENT_NAME
    if (part.latin and part.latin == name.latin) or (part.khmer and part.khmer == name.khmer):
        return Level("identical", 1.0)
    if set(part.keys) & set(name.keys):
        return Level("sounds_same", 0.95)
    if whole:
        return DIFFERENT_NAME
    sim = _best_similarity(part, name)
    if sim >= CLOSE:
        return Level("nearly_same", round(0.8 + 0.1 * (sim - CLOSE) / (1 - CLOSE), 4))
    if sim >= DIFFERENT:
        return Level("similar", round(0.65 + 0.1 * (sim - DIFFERENT) / (CLOSE - DIFFERENT), 4))
    skeletons = {consonant_skeleton(k) for k in name.keys}
    if any(len(s) >= 2 and s in skeletons for s in map(consonant_skeleton, part.keys)):
        return Level("similar", 0.65)
    if _partly(part, name):
        return Level("partly_same", 0.4)
    return DIFFERENT_NAME


# -- the query, checked ---------------------------------------------------------------------
@dataclass(frozen=True)
class _Checked:
    words: tuple[str, ...]
    birth_year: int | None
    province: str | None


def check_query(query: FindQuery) -> _Checked:
    """The query's name words, birth year and province, or a HelpdeskError saying what to fix."""
    if not isinstance(query.name, str) or not query.name.strip():
        raise HelpdeskError("type the child's name (Khmer script or Latin letters) to search")
    if len(query.name) > MAX_NAME_CHARS:
        raise HelpdeskError(f"the name is too long to search (at most {MAX_NAME_CHARS} letters)")
    raw = normalise_khmer(query.name).replace(",", " ").replace("(", " ").replace(")", " ")
    words = tuple(w for w in raw.split() if joined_key(w))
    if not words:
        raise HelpdeskError("the name has no letters to search on: type it in Khmer or Latin")
    if len(words) > MAX_NAME_WORDS:
        raise HelpdeskError(f"type at most {MAX_NAME_WORDS} words of the name")
    year = query.birth_year
    if year is not None and (
        isinstance(year, bool)
        or not isinstance(year, int)
        or not MIN_BIRTH_YEAR <= year <= MAX_BIRTH_YEAR
    ):
        raise HelpdeskError(
            f"the birth year must be a year from {MIN_BIRTH_YEAR} to {MAX_BIRTH_YEAR}"
        )
    return _Checked(words, year, _check_province(query.province))


def _check_province(value: object) -> str | None:
    """The NCDD province code as two digits ("1" and 1 read "01"), None when not given."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    text = value.strip() if isinstance(value, str) else ""
    known = province_names()
    code = text.zfill(2) if text.isascii() and text.isdigit() and len(text) <= 2 else ""
    if not code or code == "00" or (known and code not in known):
        raise HelpdeskError(
            "the province must be a two-digit NCDD province code (01 to 25), e.g. 12"
        )
    return code


def _part(words: Sequence[str]) -> NameForm:
    """A searched name part (one or more words) as a NameForm, as a record's would be."""
    latin = " ".join(w for w in words if not has_khmer(w))
    khmer = " ".join(w for w in words if has_khmer(w))
    if latin and khmer:  # mixed scripts in one part: key the words in the order typed
        form = name_form(" ".join(words), "")
        return NameForm(form.latin, _squeeze(khmer), form.keys, form.words, form.spellings)
    return name_form(latin, khmer)


def _splits(n: int) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Ways of reading n words as (given words, family words), as index ranges: family name
    first (Khmer order) or last (Latin order), each name one word or more."""
    out = []
    for cut in range(1, n):
        out.append(((cut, n), (0, cut)))  # family first
        out.append(((0, cut), (cut, n)))  # family last
    return out


# -- the index ------------------------------------------------------------------------------------
def store_signature(session: Session) -> tuple[Any, ...]:
    """Cheap aggregates (indexes and small tables only, one round trip, a few ms on a national
    store) that change whenever records are added or removed, a sync, import or relink run
    starts or finishes (a remap too: it is a run), or the helpdesk decides (merge, split,
    undo): an index built under one signature is stale under another; ``forget_index`` drops
    the cached index at once."""

    def scalar(*columns: Any) -> Any:
        return select(*columns).scalar_subquery()

    def count(table: Any) -> Any:
        return select(func.count()).select_from(table).scalar_subquery()

    row = session.execute(
        select(
            count(SourceRecordRow),
            scalar(func.max(SourceRecordRow.id)),
            count(LinkRow),
            count(ChildRow),
            scalar(func.max(DecisionRow.id)),
            scalar(func.max(SyncRunRow.id)),
            scalar(func.max(SyncRunRow.finished_at)),
        )
    ).one()
    return tuple(str(v) if v is not None else None for v in row)


def forget_index(bind: Engine | Store) -> None:
    """Drop the cached index of a database: the next search builds it again."""
    engine = bind.engine if isinstance(bind, Store) else bind
    with _CACHE_LOCK:
        _CACHE.pop(engine, None)


class _Vocabulary:
    """Distinct NameForms and what leads to them: phonetic key, word key, Latin spelling."""

    def __init__(self) -> None:
        self.forms: list[NameForm] = [BLANK]
        self._ids: dict[NameForm, int] = {BLANK: 0}
        self.by_key: dict[str, list[int]] = {}
        self.by_word: dict[str, list[int]] = {}
        self.by_spelling: dict[str, list[int]] = {}
        self.by_skeleton: dict[str, list[int]] = {}
        self.key_list: list[str] = []
        self.spelling_list: list[str] = []

    def add(self, form: NameForm) -> int:
        found = self._ids.get(form)
        if found is not None:
            return found
        number = self._ids[form] = len(self.forms)
        self.forms.append(form)
        for key in form.keys:
            self.by_key.setdefault(key, []).append(number)
            self.by_skeleton.setdefault(consonant_skeleton(key), []).append(number)
        for word in form.words:
            self.by_word.setdefault(word, []).append(number)
        for spelling in form.spellings:
            self.by_spelling.setdefault(spelling, []).append(number)
        return number

    def freeze(self) -> None:
        self.key_list = list(self.by_key)
        self.spelling_list = list(self.by_spelling)
        # every key on one line of one string: str.find walks it in C
        self._all_keys = "\n" + "\n".join(self.key_list) + "\n"
        self._starts = list(accumulate((len(k) + 1 for k in self.key_list), initial=1))
        self.blank = np.array([f.blank for f in self.forms], bool)

    def _holding(self, key: str) -> set[str]:
        """Keys holding ``key`` ("nang" -> "srinang") and the keys of at least PART_LENGTH
        letters that ``key`` holds."""
        out: set[str] = set()
        text, at = self._all_keys, self._all_keys.find(key)
        while at != -1:
            line = bisect_right(self._starts, at) - 1
            out.add(self.key_list[line])
            at = text.find(key, self._starts[line + 1] if line + 1 < len(self._starts) else at + 1)
        for width in range(PART_LENGTH, len(key)):
            for start in range(len(key) - width + 1):
                piece = key[start : start + width]
                if piece in self.by_key:
                    out.add(piece)
        return out

    def near(self, parts: Sequence[NameForm], *, whole: bool = False) -> list[set[int]]:
        """Per part, ids of the names that may compare above 'different' with it: a superset,
        found through the inverted index and, for near spellings, one rapidfuzz pass over each
        vocabulary with every string of every part (batched: one C call, SIMD). Whole names
        are looked up exactly (long strings agree loosely by chance)."""
        found: list[set[int]] = [set() for _ in parts]
        for number, part in enumerate(parts):
            for key in part.keys:
                found[number].update(self.by_key.get(key, ()))
            for spelling in part.spellings:
                found[number].update(self.by_spelling.get(spelling, ()))
        if whole:
            for names in found:
                names.discard(0)
            return found
        for number, part in enumerate(parts):
            for key in part.keys:
                skeleton = consonant_skeleton(key)
                if len(skeleton) >= 2:
                    found[number].update(self.by_skeleton.get(skeleton, ()))
                if len(key) >= PART_LENGTH:
                    for other in self._holding(key):
                        found[number].update(self.by_key[other])
            for word in part.words:
                if len(word) >= PART_LENGTH:
                    found[number].update(self.by_word.get(word, ()))
        for attribute, vocabulary, postings in (
            ("keys", self.key_list, self.by_key),
            ("spellings", self.spelling_list, self.by_spelling),
        ):
            asked = [(n, text) for n, part in enumerate(parts) for text in getattr(part, attribute)]
            if not asked or not vocabulary:
                continue
            scores = process.cdist(
                [text for _, text in asked],
                vocabulary,
                scorer=JaroWinkler.similarity,
                score_cutoff=DIFFERENT,
                dtype=np.float32,
            )
            for (number, _), row in zip(asked, scores, strict=True):
                for hit in np.flatnonzero(row).tolist():
                    found[number].update(postings[vocabulary[hit]])
        for names in found:
            names.discard(0)
        return found


@dataclass
class FindIndex:
    """What a search needs from the store, built once (``build``; ``for_store`` caches it and
    builds it again when the store changed). Immutable once built; safe across threads."""

    record_keys: list[str]
    child_ids: list[str]  # distinct child ids; ``child`` indexes into it
    child: np.ndarray  # per record: its child
    given: np.ndarray  # per record: NameForm id in ``names``
    family: np.ndarray
    whole: np.ndarray  # per record: id in ``wholes``
    year: np.ndarray  # per record: birth year, 0 unknown
    province: np.ndarray  # per record: NCDD province code as an int, 0 unknown
    names: _Vocabulary
    wholes: _Vocabulary
    records_of: list[tuple[str, ...]]  # per child: its record keys, sorted
    signature: tuple[Any, ...] = ()
    build_seconds: float = 0.0

    def __len__(self) -> int:
        return len(self.record_keys)

    # -- building --------------------------------------------------------------------------
    @classmethod
    def build(cls, session: Session) -> FindIndex:
        """Read every linked record's names, birth year and province (only those fields,
        extracted by the database from the canonical JSON) and index them."""
        started = time.perf_counter()
        signature = store_signature(session)
        rows = session.execute(records_query()).all()
        return cls.from_rows(rows, signature=signature, started=started)

    @classmethod
    def from_rows(
        cls,
        rows: Iterable[Sequence[Any]],
        *,
        signature: tuple[Any, ...] = (),
        started: float | None = None,
    ) -> FindIndex:
        """Index rows of (system, record_id, child_id, given, family, given_km, family_km,
        full_km, birth date, location code, province code): pure, no store."""
        started = time.perf_counter() if started is None else started
        names, wholes = _Vocabulary(), _Vocabulary()
        keys: list[str] = []
        child_number: dict[str, int] = {}
        columns: list[tuple[int, int, int, int, int, int]] = []
        forms_of: dict[tuple[object, ...], tuple[int, int, int]] = {}
        for system, record_id, child_id, g, f, g_km, f_km, full_km, born, code, prov in rows:
            keys.append(f"{system}:{record_id}")
            number = child_number.setdefault(str(child_id), len(child_number))
            spelled = (g, f, g_km, f_km, full_km)
            ids = forms_of.get(spelled)
            if ids is None:
                given, family, whole = record_names(*spelled)
                ids = forms_of[spelled] = (names.add(given), names.add(family), wholes.add(whole))
            columns.append((number, *ids, _year(born), _province(prov, code)))
        names.freeze()
        wholes.freeze()
        table = np.array(columns, np.int32).reshape(len(columns), 6)
        child = table[:, 0].copy()
        records_of: list[list[str]] = [[] for _ in child_number]
        for key, number in zip(keys, child.tolist(), strict=True):
            records_of[number].append(key)
        return cls(
            record_keys=keys,
            child_ids=list(child_number),
            child=child,
            given=table[:, 1].copy(),
            family=table[:, 2].copy(),
            whole=table[:, 3].copy(),
            year=table[:, 4].astype(np.int16),
            province=table[:, 5].astype(np.int8),
            names=names,
            wholes=wholes,
            records_of=[tuple(sorted(r)) for r in records_of],
            signature=signature,
            build_seconds=time.perf_counter() - started,
        )

    @classmethod
    def for_session(cls, session: Session) -> FindIndex:
        """The cached index of the session's database, built again if the store changed."""
        engine = session.get_bind()
        assert isinstance(engine, Engine)
        signature = store_signature(session)
        with _CACHE_LOCK:
            cached = _CACHE.get(engine)
            if cached is not None and cached.signature == signature:
                return cached
            fresh = cls.build(session)
            _CACHE[engine] = fresh
            return fresh

    @classmethod
    def for_store(cls, store: Store) -> FindIndex:
        with store.session() as session:
            return cls.for_session(session)

    # -- searching -------------------------------------------------------------------------
    def search(self, query: FindQuery, *, limit: int = 20) -> list[Candidate]:
        """Candidate children for ``query``, best first (pure: no audit, no store)."""
        checked = check_query(query)
        if not 1 <= limit <= MAX_LIMIT:
            raise HelpdeskError(f"the number of results must be from 1 to {MAX_LIMIT}")
        if not len(self):
            return []
        plan = _Plan.of(self, checked.words)
        name_score, choice = plan.name_scores(self)
        score = name_score * _NAME_WEIGHT
        total = _NAME_WEIGHT
        if checked.birth_year is not None:
            score = score + YEAR_WEIGHT * _year_values(self.year, checked.birth_year)
            total += YEAR_WEIGHT
        if checked.province is not None:
            score = score + PROVINCE_WEIGHT * _province_values(self.province, int(checked.province))
            total += PROVINCE_WEIGHT
        score = score / total
        passing = np.flatnonzero(name_score >= MIN_NAME_SCORE)
        order = passing[np.lexsort((passing, -score[passing]))]
        out: list[Candidate] = []
        seen: set[int] = set()
        for row in order.tolist():
            number = int(self.child[row])
            if number in seen:
                continue
            seen.add(number)
            out.append(
                Candidate(
                    child_id=self.child_ids[number],
                    score=round(float(score[row]), 3),
                    evidence=plan.evidence(self, row, int(choice[row]), checked),
                    record_keys=self.records_of[number],
                    best_record=self.record_keys[row],
                )
            )
            if len(out) >= limit:
                break
        return out


_NAME_WEIGHT = GIVEN_WEIGHT + FAMILY_WEIGHT
_CACHE: weakref.WeakKeyDictionary[Engine, FindIndex] = weakref.WeakKeyDictionary()
_CACHE_LOCK = threading.Lock()


def records_query() -> Any:
    c = SourceRecordRow.canonical
    return (
        select(
            SourceRecordRow.system,
            SourceRecordRow.record_id,
            LinkRow.child_id,
            c["names"]["given"].as_string(),
            c["names"]["family"].as_string(),
            c["names"]["given_km"].as_string(),
            c["names"]["family_km"].as_string(),
            c["names"]["full_km"].as_string(),
            c["birth"]["value"].as_string(),
            c["location"]["code"].as_string(),
            c["location"]["province_code"].as_string(),
        )
        .join(LinkRow, LinkRow.record_pk == SourceRecordRow.id)
        .where(SourceRecordRow.state == "mapped", SourceRecordRow.canonical.is_not(None))
        .order_by(SourceRecordRow.id)
    )


def _year(born: object) -> int:
    text = str(born or "")[:4]
    if len(text) == 4 and text.isdigit() and 1900 <= int(text) <= 2100:
        return int(text)
    return 0


def _province(province_code: object, code: object) -> int:
    text = normalise_code(province_code)[:2] or normalise_code(code)[:2]
    return int(text) if len(text) == 2 and int(text) < 100 else 0


def _year_values(years: np.ndarray, year: int) -> np.ndarray:
    """1 same year, 0.6 one apart (ages are estimated), 0.3 two, 0 more; 0.5 unknown."""
    apart = np.abs(years.astype(np.int32) - year)
    values = np.select([apart == 0, apart == 1, apart == 2], [1.0, 0.6, 0.3], 0.0)
    return np.where(years == 0, 0.5, values)


def _province_values(provinces: np.ndarray, province: int) -> np.ndarray:
    """1 same province, 0.2 another (children move), 0.5 unknown."""
    values = np.where(provinces == province, 1.0, 0.2)
    return np.where(provinces == 0, 0.5, values)


# -- one search's plan: the parts of the name, each compared once with the distinct names ---------
@dataclass
class _Plan:
    parts: list[NameForm]
    levels: list[dict[int, Level]]  # per part: name id -> level (absent: different / missing)
    values: list[np.ndarray]  # per part: name id -> value
    splits: list[tuple[int, int]]  # (given part, family part)
    single: bool  # one word: it may be either name
    whole_levels: dict[int, Level]
    whole_values: np.ndarray

    @classmethod
    def of(cls, index: FindIndex, words: tuple[str, ...]) -> _Plan:
        ranges: dict[tuple[int, int], int] = {}
        splits: list[tuple[int, int]] = []
        for given, family in _splits(len(words)) or [((0, 1), (0, 1))]:
            numbers = [ranges.setdefault(r, len(ranges)) for r in (given, family)]
            splits.append((numbers[0], numbers[1]))
        parts = [_part(words[a:b]) for a, b in ranges]
        levels = _levels(index.names, parts)
        values = [_values(index.names, lv) for lv in levels]
        whole = whole_query(words)
        whole_levels = _levels(index.wholes, [whole], whole=True)[0]
        return cls(
            parts=parts,
            levels=levels,
            values=values,
            splits=splits,
            single=len(words) == 1,
            whole_levels=whole_levels,
            whole_values=_values(index.wholes, whole_levels),
        )

    def name_scores(self, index: FindIndex) -> tuple[np.ndarray, np.ndarray]:
        """Per record: the best name score over the readings of the query, and which reading
        won (a split number; -1 the whole name; -2/-3 a one-word search as given/family)."""
        if self.single:
            values = self.values[0]
            options = [values[index.given], FAMILY_ONLY * values[index.family]]
            codes = [-2, -3]
        else:
            options, codes = [], []
            for number, (g, f) in enumerate(self.splits):
                g_values, f_values = self.values[g], self.values[f]
                options.append(
                    (GIVEN_WEIGHT * g_values[index.given] + FAMILY_WEIGHT * f_values[index.family])
                    / _NAME_WEIGHT
                )
                codes.append(number)
        options.append(self.whole_values[index.whole])
        codes.append(-1)
        stacked = np.vstack(options)
        best = stacked.argmax(axis=0)  # first best wins: a split before the whole name
        return stacked[best, np.arange(stacked.shape[1])], np.asarray(codes)[best]

    def evidence(
        self, index: FindIndex, row: int, choice: int, checked: _Checked
    ) -> tuple[Evidence, ...]:
        given, family = int(index.given[row]), int(index.family[row])
        out: list[Evidence] = []
        if choice == -1:
            out.append(_name_evidence("full", self.whole_levels.get(int(index.whole[row]))))
        elif choice == -2:
            out.append(_name_evidence("given", self.levels[0].get(given), index.names, given))
        elif choice == -3:
            out.append(_name_evidence("family", self.levels[0].get(family), index.names, family))
        else:
            g, f = self.splits[choice]
            out.append(_name_evidence("given", self.levels[g].get(given), index.names, given))
            out.append(_name_evidence("family", self.levels[f].get(family), index.names, family))
        if checked.birth_year is not None:
            out.append(_year_evidence(int(index.year[row]), checked.birth_year))
        if checked.province is not None:
            out.append(_province_evidence(int(index.province[row]), int(checked.province)))
        return tuple(out)


def _levels(
    vocabulary: _Vocabulary, parts: Sequence[NameForm], *, whole: bool = False
) -> list[dict[int, Level]]:
    """Per part: name id -> level, for the names that compare above 'different'."""
    out = []
    for part, near in zip(parts, vocabulary.near(parts, whole=whole), strict=True):
        levels = {}
        for number in near:
            level = compare_names(part, vocabulary.forms[number], whole=whole)
            if level.value > 0:
                levels[number] = level
        out.append(levels)
    return out


def _values(vocabulary: _Vocabulary, levels: dict[int, Level]) -> np.ndarray:
    values = np.where(vocabulary.blank, MISSING.value, 0.0)
    if levels:
        values[np.fromiter(levels, np.int64, len(levels))] = [lv.value for lv in levels.values()]
    return values


_FIELDS = {"given": "given name", "family": "family name", "full": "full name"}


def _name_evidence(
    which: str, level: Level | None, names: _Vocabulary | None = None, number: int = 0
) -> Evidence:
    if level is None:
        blank = names is not None and names.forms[number].blank
        level = MISSING if blank else DIFFERENT_NAME
    return Evidence(f"{which}_{level.code}", _WORDS[level.code].format(field=_FIELDS[which]))


def _year_evidence(year: int, wanted: int) -> Evidence:
    if not year:
        return Evidence("birth_year_missing", "birth year not recorded")
    apart = abs(year - wanted)
    if apart == 0:
        return Evidence("born_same_year", "born the same year", 0)
    unit = "year" if apart == 1 else "years"
    return Evidence("born_years_apart", f"born {apart} {unit} apart", apart)


def _province_evidence(province: int, wanted: int) -> Evidence:
    if not province:
        return Evidence("province_missing", "province not recorded")
    if province == wanted:
        return Evidence("same_province", "same province")
    return Evidence("different_province", "different province")


# -- the audited service -------------------------------------------------------------------------
def find_children(
    session: Session,
    query: FindQuery,
    *,
    by: str | None,
    index: FindIndex | None = None,
    limit: int = 20,
) -> list[Candidate]:
    """Children who may be the one searched for, best first; the search is audited (who
    searched, how many candidates, which fields were given; never the name or year typed).

    Without ``index`` the store's cached index is used, rebuilt first if the store changed.
    """
    by = require_actor(by)
    check_query(query)
    if index is None:
        index = FindIndex.for_session(session)
    found = index.search(query, limit=limit)
    record_audit(
        session,
        actor=by,
        action="find_child",
        child_id=None,
        details={
            "candidates": len(found),
            "name": True,
            "birth_year": query.birth_year is not None,
            "province": bool(query.province and str(query.province).strip()),
            "limit": limit,
        },
    )
    return found
