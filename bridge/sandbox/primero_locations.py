"""The sandbox Primero's locations (``GET /api/v2/locations``): the NCDD gazetteer the
generator draws its villages from (``bridge/places``), as Cambodia's Primero holds it.

Codes are stored as Cambodia's Primero stores them, *without the leading zero* (village
``08030201`` is ``"8030201"``); ``hierarchy`` is ``KH.<province>.<district>...``, names are
``Country::Province::...`` in English (NCDD Latin spelling) and Khmer.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from bridge.places import places

LEVELS = {2: (1, "province"), 4: (2, "district"), 6: (3, "commune"), 8: (4, "village")}
COUNTRY = {"code": "KH", "en": "Cambodia", "km": "កម្ពុជា"}


def primero_code(ncdd: str) -> str:
    """``08030201`` -> ``8030201`` (Cambodia's Primero drops the leading zero)."""
    return ncdd.lstrip("0") or "0"


def _gazetteer() -> dict[str, tuple[str, str]]:
    """NCDD code -> (Latin name, Khmer name), every level, from the places the bridge ships."""
    return {code: (place.latin, place.khmer) for code, place in places().items()}


@cache
def all_locations() -> tuple[dict[str, Any], ...]:
    """The country, then every province, district, commune and village in code order, with
    ``placename`` and ``hierarchy`` (served only when ``hierarchy=true`` is asked for)."""
    names = _gazetteer()
    country = {
        "id": 1,
        "code": COUNTRY["code"],
        "type": "country",
        "admin_level": 0,
        "name": {"en": COUNTRY["en"], "km": COUNTRY["km"]},
        "placename": {"en": COUNTRY["en"], "km": COUNTRY["km"]},
        "hierarchy": COUNTRY["code"],
    }
    found: list[dict[str, Any]] = [country]
    for code in sorted(names, key=lambda c: (len(c), c)):
        level, kind = LEVELS[len(code)]
        parents = [code[:width] for width in sorted(LEVELS) if width <= len(code)]
        latin = [COUNTRY["en"], *(names.get(p, (p, p))[0] for p in parents)]
        khmer = [COUNTRY["km"], *(names.get(p, (p, p))[1] for p in parents)]
        found.append(
            {
                "id": len(found) + 1,
                "code": primero_code(code),
                "type": kind,
                "admin_level": level,
                "name": {"en": "::".join(latin), "km": "::".join(khmer)},
                "placename": {"en": latin[-1], "km": khmer[-1]},
                "hierarchy": ".".join([COUNTRY["code"], *(primero_code(p) for p in parents)]),
            }
        )
    return tuple(found)


def location_view(location: dict[str, Any], *, hierarchy: bool) -> dict[str, Any]:
    if hierarchy:
        return dict(location)
    return {k: v for k, v in location.items() if k not in ("placename", "hierarchy")}
