"""PersonRecord -> prepared features, computed once per record and stored column-wise.

A ``Prepared`` table keeps plain Python lists of interned strings and numpy arrays (no pydantic,
no per-record objects), so blocking and scoring index them with small ints.

Names: every record has up to two spellings of each name, a Latin one (as typed, or the Latin
half of a composite "<khmer> (<latin>)") and one romanised by rule from the Khmer script. Each
is reduced to a phonetic key ("Srey Mom" and "Sreymom" give one key) and a cleaned Latin form
(lower-case ASCII without spaces, for Jaro-Winkler on non-Khmer names such as FEBRL's).
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from dedupe.dates import birth_parts
from dedupe.khmer import has_khmer, khmer_to_latin
from dedupe.locations import normalise_code
from dedupe.names import clean_latin, split_composite
from dedupe.phonetic import consonant_skeleton, joined_key
from dedupe.records import PersonRecord

_SEX = {"female": 1, "f": 1, "male": 2, "m": 2}


@lru_cache(maxsize=200_000)
def _latin_forms(text: str) -> tuple[str, str]:
    """(cleaned Latin without spaces, phonetic key) of a Latin name; never raises."""
    try:
        cleaned = "".join(ch for ch in clean_latin(text) if "a" <= ch <= "z")
        key = joined_key(text) if cleaned else ""
    except Exception:  # noqa: BLE001 - a malformed name must not stop a sync run
        return "", ""
    return sys.intern(cleaned), sys.intern(key or cleaned)


@lru_cache(maxsize=200_000)
def _romanised(text: str) -> str:
    try:
        return khmer_to_latin(text)
    except Exception:  # noqa: BLE001
        return ""


def split_name(latin_field: str | None, khmer_field: str | None) -> tuple[str, str]:
    """(Latin text, Khmer text) of one name from its Latin and Khmer fields: a Latin field may
    hold Khmer script, or a composite "<khmer> (<latin>)"."""
    latin, khmer = "", khmer_field or ""
    text = (latin_field or "").strip()
    if text:
        if has_khmer(text):
            km_part, latin_part = split_composite(text)
            latin = latin_part if latin_part and not has_khmer(latin_part) else ""
            khmer = khmer or (km_part if km_part and has_khmer(km_part) else text)
        else:
            latin = text
    return latin, khmer


@dataclass
class Prepared:
    """Column-wise features of a list of records (row i = records[i])."""

    keys: list[str] = field(default_factory=list)
    systems: list[str] = field(default_factory=list)
    # name spellings: [0] Latin-derived, [1] Khmer-derived; '' when absent
    given_clean: list[tuple[str, str]] = field(default_factory=list)
    given_key: list[tuple[str, str]] = field(default_factory=list)
    family_clean: list[tuple[str, str]] = field(default_factory=list)
    family_key: list[tuple[str, str]] = field(default_factory=list)
    nick_key: list[str] = field(default_factory=list)
    location: list[str] = field(default_factory=list)
    caregiver_keys: list[tuple[str, ...]] = field(default_factory=list)
    exact_ids: list[tuple[str, ...]] = field(default_factory=list)
    # other attributes: sorted (name, normalised value) pairs, values lower-case and non-empty
    extra: list[tuple[tuple[str, str], ...]] = field(default_factory=list)
    organisation: list[str] = field(default_factory=list)  # '' when unknown
    year: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int16))
    month: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    day: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    precision: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    sex: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    # string vocabulary shared by the name columns: id 0 is the empty string
    words: list[str] = field(default_factory=lambda: [""])
    _word_id: dict[str, int] = field(default_factory=lambda: {"": 0})
    _ids: dict[str, np.ndarray] = field(default_factory=dict)
    _skeleton_id: dict[str, int] = field(default_factory=lambda: {"": 0})
    _signature_of: dict[str, dict[tuple[int, ...], int]] = field(default_factory=dict)
    _carers_of: dict[tuple[str, ...], int] = field(default_factory=lambda: {(): 0})
    _carer_lists: list[tuple[str, ...]] = field(default_factory=lambda: [()])

    def __len__(self) -> int:
        return len(self.keys)

    def _grown(self, name: str, total: int, fresh: Callable[[int], np.ndarray]) -> np.ndarray:
        """The array cached under `name`, one entry per row (or word), grown by `fresh(start)`
        with the entries added since it was last built."""
        cached = self._ids.get(name)
        start = 0 if cached is None else len(cached)
        if cached is not None and start == total:
            return cached
        full = fresh(start) if cached is None else np.concatenate([cached, fresh(start)])
        self._ids[name] = full
        return full

    def location_levels(self) -> np.ndarray:
        """(rows, 4) int codes of province, district, commune, village prefixes (0 unknown)."""

        def levels(start: int) -> np.ndarray:
            out = np.zeros((len(self.location) - start, 4), np.int64)
            # the same code string gives the same row: parse each distinct code once
            parsed: dict[str, tuple[int, ...]] = {}
            for row, code in enumerate(self.location[start:]):
                found = parsed.get(code)
                if found is None:
                    found = parsed[code] = tuple(
                        int(code[:width]) + 1 if len(code) >= width else 0 for width in (2, 4, 6, 8)
                    )
                out[row] = found
            return out

        return self._grown("location", len(self.location), levels)

    def skeleton_ids(self) -> np.ndarray:
        """Per word id: an id of its consonant skeleton (0 when shorter than 2 letters)."""

        def skeletons(start: int) -> np.ndarray:
            seen = self._skeleton_id
            out = np.zeros(len(self.words) - start, np.int64)
            for n, word in enumerate(self.words[start:]):
                skeleton = consonant_skeleton(word) if word else ""
                if len(skeleton) >= 2:
                    out[n] = seen.setdefault(skeleton, len(seen))
            return out

        return self._grown("skeleton", len(self.words), skeletons)

    def home_known(self) -> np.ndarray:
        """Rows with a location or a caregiver (cached)."""

        def known(start: int) -> np.ndarray:
            pairs = zip(self.location[start:], self.caregiver_keys[start:], strict=False)
            return np.fromiter(
                (bool(loc) or bool(care) for loc, care in pairs), bool, len(self.location) - start
            )

        return self._grown("home", len(self.location), known)

    def word_lengths(self) -> np.ndarray:
        """Per word id: its length (cached, grows with the vocabulary)."""
        return self._grown(
            "word_len",
            len(self.words),
            lambda start: np.fromiter(
                map(len, self.words[start:]), np.int64, len(self.words) - start
            ),
        )

    def name_signatures(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(per row: id of the name's four spellings, id -> its (key Latin, key Khmer,
        clean Latin, clean Khmer) word ids) of "given" or "family"; same name, same id."""
        key, clean = self.name_ids(f"{name}_key"), self.name_ids(f"{name}_clean")
        cached = self._ids.get(f"{name}_sig")
        table = self._ids.get(f"{name}_sig_table", np.zeros((0, 4), np.int64))
        start = 0 if cached is None else len(cached)
        if start < len(key):
            index = self._signature_of.setdefault(name, {})
            spellings = np.concatenate([key[start:], clean[start:]], axis=1)
            distinct, inverse = np.unique(spellings, axis=0, return_inverse=True)
            ids = np.fromiter(
                (index.setdefault(tuple(s), len(index)) for s in distinct.tolist()),
                np.int64,
                len(distinct),
            )
            fresh = ids >= len(table)
            grown = np.zeros((len(index), 4), np.int64)
            grown[: len(table)] = table
            grown[ids[fresh]] = distinct[fresh]
            table = self._ids[f"{name}_sig_table"] = grown
            new_ids = ids[inverse.reshape(-1)]
            cached = new_ids if cached is None else np.concatenate([cached, new_ids])
            self._ids[f"{name}_sig"] = cached
        return cached, table  # type: ignore[return-value]

    def caregiver_groups(self) -> tuple[np.ndarray, list[tuple[str, ...]]]:
        """(per row: id of its caregiver list, 0 for none; id -> the list)."""
        index = self._carers_of

        def groups(start: int) -> np.ndarray:
            rows = self.caregiver_keys[start:]
            out = np.fromiter((index.setdefault(c, len(index)) for c in rows), np.int64, len(rows))
            self._carer_lists.extend(list(index)[len(self._carer_lists) :])
            return out

        return self._grown("carers", len(self.caregiver_keys), groups), self._carer_lists

    def name_ids(self, column: str) -> np.ndarray:
        """(rows, 2) int array of word ids of a two-spelling name column, built once."""
        rows = getattr(self, column)

        def word_ids(start: int) -> np.ndarray:
            fresh = rows[start:]
            if fresh and isinstance(fresh[0], str):  # one-spelling column (nickname)
                flat = [w for word in fresh for w in (word, "")]
            else:
                flat = [w for pair in fresh for w in pair]
            # new words get ids in order of first appearance (row by row, Latin then Khmer)
            word_id = self._word_id
            for word in dict.fromkeys(flat):
                if word not in word_id:
                    word_id[word] = len(self.words)
                    self.words.append(word)
            ids = np.fromiter(map(word_id.__getitem__, flat), np.int64, len(flat))
            return ids.reshape(-1, 2)

        return self._grown(column, len(rows), word_ids)

    def extend(self, other: Prepared) -> None:
        for name in _LIST_COLUMNS:
            getattr(self, name).extend(getattr(other, name))
        for name in _ARRAY_COLUMNS:
            setattr(self, name, np.concatenate([getattr(self, name), getattr(other, name)]))

    def take(self, rows: Sequence[int]) -> Prepared:  # noqa: D102 - used by tests
        out = Prepared()
        for name in _LIST_COLUMNS:
            column = getattr(self, name)
            setattr(out, name, [column[i] for i in rows])
        index = np.asarray(rows, dtype=np.int64)
        for name in _ARRAY_COLUMNS:
            setattr(out, name, getattr(self, name)[index])
        return out


_LIST_COLUMNS = (
    "keys",
    "systems",
    "given_clean",
    "given_key",
    "family_clean",
    "family_key",
    "nick_key",
    "location",
    "caregiver_keys",
    "exact_ids",
    "extra",
    "organisation",
)
_ARRAY_COLUMNS = ("year", "month", "day", "precision", "sex")


def _name_forms(latin: str, khmer: str) -> tuple[tuple[str, str], tuple[str, str]]:
    clean_l, key_l = _latin_forms(latin) if latin else ("", "")
    romanised = _romanised(khmer) if khmer else ""
    clean_k, key_k = _latin_forms(romanised) if romanised else ("", "")
    if not key_l:  # Khmer only: its romanisation is the primary spelling
        clean_l, key_l, clean_k, key_k = clean_k, key_k, "", ""
    return (clean_l, clean_k), (key_l, key_k)


@lru_cache(maxsize=500_000)
def _name_columns(latin_field: str, khmer_field: str) -> tuple[tuple[str, str], tuple[str, str]]:
    """(cleaned, phonetic key) spellings of one name from its two fields; names repeat, so
    this is cached (and records with the same name share the tuples)."""
    return _name_forms(*split_name(latin_field, khmer_field))


def _khmer_order(full_km: str | None) -> tuple[str, str]:
    """(given, family) Khmer text from a full Khmer name (written family name first)."""
    words = (full_km or "").split()
    if len(words) < 2:
        return (words[0] if words else ""), ""
    return " ".join(words[1:]), words[0]


def prepare_one(record: PersonRecord, out: Prepared) -> None:
    """Append one record's features to ``out``; tolerant of any field content."""
    full_given, full_family = _khmer_order(
        record.full_km if isinstance(record.full_km, str) else None
    )
    given_clean, given_key = _name_columns(
        _text(record.given), _text(record.given_km) or full_given
    )
    family_clean, family_key = _name_columns(
        _text(record.family), _text(record.family_km) or full_family
    )
    out.keys.append(record.key)
    out.systems.append(sys.intern(str(record.system)))
    out.given_clean.append(given_clean)
    out.given_key.append(given_key)
    out.family_clean.append(family_clean)
    out.family_key.append(family_key)
    nick = _text(record.nickname)
    nick_latin = _romanised(nick) if nick and has_khmer(nick) else nick
    out.nick_key.append(_latin_forms(nick_latin)[1] if nick_latin else "")
    out.location.append(_location(record.location_code))
    carers = record.caregivers
    out.caregiver_keys.append(
        _caregiver_keys_cached(carers, family_key)
        if isinstance(carers, tuple) and all(isinstance(c, str) for c in carers)
        else _caregiver_keys(carers, set(family_key))
    )
    ids = record.exact_ids
    if not (isinstance(ids, tuple) and all(type(x) is str and x for x in ids)):
        ids = tuple(str(x) for x in (ids or ()) if x)
    out.exact_ids.append(ids)  # the record's own tuple when it is clean (no copy per record)
    out.extra.append(_extra(record.extra) if record.extra else ())
    out.organisation.append(_organisation(record.organisation))


def _location(code: object) -> str:
    """Normalised, interned location code (a few thousand distinct codes: cached)."""
    if isinstance(code, str):
        return _location_text(code)
    return sys.intern(normalise_code(code))


@lru_cache(maxsize=100_000)
def _location_text(code: str) -> str:
    return sys.intern(normalise_code(code))


def _organisation(value: object) -> str:
    if isinstance(value, str):
        return _organisation_text(value)
    return ""


@lru_cache(maxsize=10_000)
def _organisation_text(value: str) -> str:
    return sys.intern(value.strip().lower())


def _extra(extra: object) -> tuple[tuple[str, str], ...]:
    """Named attributes, values lower-cased with spaces collapsed; malformed items dropped."""
    found: dict[str, str] = {}
    for item in extra if isinstance(extra, tuple | list) else ():
        if isinstance(item, tuple | list) and len(item) == 2:
            name, value = _text(item[0]), " ".join(_text(item[1]).lower().split())
            if name and value:
                found.setdefault(name, value)
    return tuple(sorted(found.items()))


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


@lru_cache(maxsize=200_000)
def _caregiver_keys_cached(
    caregivers: tuple[str, ...], child_family: tuple[str, str]
) -> tuple[str, ...]:
    return _caregiver_keys(caregivers, set(child_family))


def _caregiver_keys(caregivers: object, child_family: set[str]) -> tuple[str, ...]:
    """Phonetic keys of caregivers' names, without the tokens shared with the child's family
    name (a mother "Kong Sokhom" of a child "Kong ..." is keyed "sokom"), order-free."""
    keys = []
    for name in caregivers if isinstance(caregivers, tuple | list) else ():
        text = _text(name)
        if text and has_khmer(text):
            text = _romanised(text)
        tokens = [_latin_forms(word)[1] for word in text.split()]
        tokens = [k for k in tokens if k]
        own = [k for k in tokens if k not in child_family] or tokens
        if own:
            keys.append(sys.intern("".join(sorted(own))))
    return tuple(keys)


def prepare(records: Sequence[PersonRecord]) -> Prepared:
    out = Prepared()
    # plain lists first: assigning numpy rows one record at a time is slow
    parts: list[tuple[int, int, int, int]] = []
    sex_codes: list[int] = []
    for record in records:
        prepare_one(record, out)
        parts.append(birth_parts(record.birth_date, record.birth_precision))
        sex_codes.append(_SEX.get(str(record.sex or "").lower(), 0))
    dates = np.array(parts, dtype=np.int16).reshape(len(records), 4)
    sexes = np.array(sex_codes, dtype=np.int8)
    out.year = dates[:, 0].copy()
    out.month = dates[:, 1].astype(np.int8)
    out.day = dates[:, 2].astype(np.int8)
    out.precision = dates[:, 3].astype(np.int8)
    out.sex = sexes
    return out


def key_frequencies(table: Prepared) -> tuple[Counter[str], Counter[str]]:
    """How often each given / family phonetic key occurs (term-frequency tables)."""
    given = Counter(k[0] for k in table.given_key if k[0])
    family = Counter(k[0] for k in table.family_key if k[0])
    return given, family
