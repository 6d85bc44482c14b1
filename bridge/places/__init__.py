"""Cambodia's administrative units by NCDD code, with Khmer and Latin names, as the bridge
ships them (``gazetteer.tsv.gz``, built from the reference gazetteer by
``scripts/build_places.py``; licence in ``NOTICE``).

Codes are NCDD codes: province ``08`` (2 digits), district ``0803`` (4), commune ``080302``
(6), village ``08030201`` (8). Codes held without the leading zero, as Cambodia's Primero
stores them, are found too (``find("8030201")``).
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SHIPPED = Path(__file__).with_name("gazetteer.tsv.gz")
LEVEL_WIDTH = {"province": 2, "district": 4, "commune": 6, "village": 8}
WIDTH_LEVEL = {width: level for level, width in LEVEL_WIDTH.items()}


@dataclass(frozen=True)
class Place:
    level: str  # province | district | commune | village
    code: str  # NCDD code, with its leading zero
    khmer: str
    latin: str

    def name(self, language: str = "en") -> str:
        """The name in ``km`` or ``en``, the other one when it is missing, else the code."""
        first, second = (self.khmer, self.latin) if language == "km" else (self.latin, self.khmer)
        return first or second or self.code


@cache
def places(path: Path = SHIPPED) -> dict[str, Place]:
    """Every unit by NCDD code, in code order (provinces first)."""
    found: dict[str, Place] = {}
    with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
        next(fh, None)  # header
        for line in fh:
            level, code, khmer, latin = line.rstrip("\n").split("\t")
            found[code] = Place(level, code, khmer, latin)
    return found


def ncdd_code(code: str) -> str:
    """``8030201`` -> ``08030201``: the leading zero Primero drops, put back; others as given."""
    code = code.strip()
    if code.isdigit() and len(code) % 2 == 1 and len(code) + 1 in WIDTH_LEVEL:
        return "0" + code
    return code


def find(code: str | None) -> Place | None:
    """The unit with this code (with or without its leading zero), or None."""
    if not code:
        return None
    return places().get(ncdd_code(code))


def provinces() -> list[Place]:
    """The 25 provinces in code order."""
    return [p for p in places().values() if p.level == "province"]


def villages() -> list[Place]:
    """Every village in code order."""
    return [p for p in places().values() if p.level == "village"]


def parents(code: str) -> list[Place]:
    """Province, district, commune, village down to ``code`` (those known), outermost first."""
    full = ncdd_code(code)
    chain = [places().get(full[:width]) for width in sorted(WIDTH_LEVEL) if width <= len(full)]
    return [p for p in chain if p is not None]
