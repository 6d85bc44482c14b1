"""Synthetic Cambodian children registered in Primero and OSCaR, with the truth.

Made the way shared/data/khmer-children-dev/README.md describes: families of siblings
(twins too), each child registered once or more in Primero and/or one or two OSCaR tenants,
every registration spelling names, dates and places the way a different social worker
would. Deterministic for a seed and lazy: `iter_registrations` holds one family at a time.
"""

from __future__ import annotations

import csv
import gc
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from bridge.places import villages
from bridge.sandbox import records
from bridge.sandbox.names import FAMILY_NAMES, FEMALE_NAMES, MALE_NAMES
from bridge.sandbox.variation import cumulative, weighted


@dataclass(frozen=True, slots=True)
class Registration:
    system: str  # "primero" or "oscar"
    payload: dict
    child: str
    family: str


@dataclass
class Corpus:
    primero_cases: list[dict] = field(default_factory=list)
    oscar_clients: list[dict] = field(default_factory=list)
    truth: list[tuple[str, str, str, str]] = field(default_factory=list)


# Which systems hold a child, with the dev corpus's shares (children, not records).
_PATTERNS = [
    ("P",),
    ("P", "O"),
    ("O",),
    ("P", "O", "O"),
    ("P", "P", "O"),
    ("P", "P"),
    ("O", "O"),
    ("P", "P", "O", "O"),
]
_PATTERN_CUM = cumulative([2030, 1732, 1416, 594, 80, 71, 56, 21])
_FAMILY_SIZES = [1, 2, 3, 4]
_FAMILY_SIZE_CUM = cumulative([2005, 1060, 457, 126])
_HEAVY_PROVINCES = {"01", "02", "08", "12", "14", "17", "18"}


def _load_villages() -> list[str]:
    """Every village code the bridge ships (``bridge/places``), in code order."""
    return [place.code for place in villages()]


class _Places:
    """Village codes grouped by province, provinces weighted like the dev corpus."""

    def __init__(self) -> None:
        by_province: dict[str, list[str]] = {}
        for code in _load_villages():
            by_province.setdefault(code[:2], []).append(code)
        self.provinces = sorted(by_province)
        self.villages = by_province
        weights = [11.0 if p in _HEAVY_PROVINCES else 1.0 for p in self.provinces]
        self.cum = cumulative(weights)

    def village(self, rng: random.Random, province: str | None = None) -> str:
        prov = province or weighted(rng, self.cum, self.provinces)
        codes = self.villages[prov]
        return codes[int(rng.random() * len(codes))]


_PLACES: _Places | None = None


def _places() -> _Places:
    global _PLACES
    if _PLACES is None:
        _PLACES = _Places()
    return _PLACES


_BIRTH_FIRST = date(2008, 6, 1).toordinal()
_BIRTH_LAST = date(2025, 10, 1).toordinal()
_OLDEST = date(2007, 11, 1).toordinal()  # 19 on the corpus's reference date


def iter_registrations(n_children: int, seed: int = 1) -> Iterator[Registration]:
    """Yield every registration of n_children children, family by family."""
    rng = random.Random(seed)
    places = _places()
    ctx = records.RecordContext(rng)
    made = 0
    family_no = 0
    while made < n_children:
        family_no += 1
        family = f"F{family_no:06d}"
        size = min(weighted(rng, _FAMILY_SIZE_CUM, _FAMILY_SIZES), n_children - made)
        home = places.village(rng)
        fam_name = FAMILY_NAMES[int(rng.random() * len(FAMILY_NAMES))]
        caregiver = records.make_caregiver(rng, fam_name)
        first_dob = _BIRTH_FIRST + int(rng.random() * (_BIRTH_LAST - _BIRTH_FIRST))
        twins = size >= 2 and rng.random() < 0.12
        used: set[str] = set()
        for k in range(size):
            made += 1
            child_id = f"C{made:06d}"
            sex = "female" if rng.random() < 0.53 else "male"
            pool = FEMALE_NAMES if sex == "female" else MALE_NAMES
            given = pool[int(rng.random() * len(pool))]
            while given.khmer in used:
                given = pool[int(rng.random() * len(pool))]
            used.add(given.khmer)
            if k == 0 or (k == 1 and twins):
                dob = first_dob
            else:  # siblings one to four years apart, older ones if the younger won't fit
                gap = int(365 * (1 + rng.random() * 3)) * k
                dob = first_dob + gap if first_dob + gap <= _BIRTH_LAST else first_dob - gap
                dob = max(dob, _OLDEST)
            moved_to = None
            if rng.random() < 0.08:  # reintegrated elsewhere between registrations
                moved_to = places.village(rng)
            child = records.Child(
                child_id, family, given, fam_name, sex, dob, home, moved_to, caregiver
            )
            pattern = weighted(rng, _PATTERN_CUM, _PATTERNS)
            tenants = records.pick_tenants(rng, pattern.count("O"))
            for index, system in enumerate(pattern):
                if system == "P":
                    payload = ctx.primero_case(child, index)
                    yield Registration("primero", payload, child_id, family)
                else:
                    payload = ctx.oscar_client(child, index, tenants.pop(0))
                    yield Registration("oscar", payload, child_id, family)


def generate(n_children: int, seed: int = 1) -> Corpus:
    corpus = Corpus()
    # Many small dicts that all stay alive: the cyclic GC would rescan them over and over.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        _collect(corpus, n_children, seed)
    finally:
        if was_enabled:
            gc.enable()
    return corpus


def _collect(corpus: Corpus, n_children: int, seed: int) -> None:
    for reg in iter_registrations(n_children, seed):
        if reg.system == "primero":
            corpus.primero_cases.append(reg.payload)
            record_id = reg.payload["id"]
        else:
            corpus.oscar_clients.append(reg.payload)
            record_id = reg.payload["global_id"]
        corpus.truth.append((reg.system, record_id, reg.child, reg.family))


def write_corpus(corpus: Corpus, out_dir: Path) -> None:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, items in (
        ("primero_cases.json", corpus.primero_cases),
        ("oscar_clients.json", corpus.oscar_clients),
    ):
        with (out_dir / name).open("w", encoding="utf-8") as fh:
            json.dump(items, fh, ensure_ascii=False, indent=0)
    with (out_dir / "truth.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["system", "record_id", "child", "family"])
        writer.writerows(corpus.truth)


def load_corpus(in_dir: Path) -> Corpus:
    """Read a corpus directory in the dev corpus shape (truth.csv optional)."""
    in_dir = Path(in_dir)
    corpus = Corpus(
        primero_cases=json.loads((in_dir / "primero_cases.json").read_text(encoding="utf-8")),
        oscar_clients=json.loads((in_dir / "oscar_clients.json").read_text(encoding="utf-8")),
    )
    truth = in_dir / "truth.csv"
    if truth.exists():
        with truth.open(encoding="utf-8") as fh:
            corpus.truth = [tuple(row) for row in csv.reader(fh)][1:]  # type: ignore[misc]
    return corpus
