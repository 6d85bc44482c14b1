"""A small made-up population for engine tests: invented names, never the dev corpus's.

Children come in families (siblings share family name, caregiver and village); some children
are registered twice with the usual variations (spelling, estimated birth date, a move).
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date

from dedupe.records import PersonRecord

_ONSETS = ["b", "d", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "kr", "tr", "pl"]
_VOWELS = ["a", "e", "i", "o", "u", "ai", "ou"]
_CODAS = ["", "n", "m", "l", "r", "s", "x"]


def invented_name(rng: random.Random, syllables: int = 2) -> str:
    word = "".join(
        rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS) for _ in range(syllables)
    )
    return word.capitalize()


def _typo(rng: random.Random, name: str) -> str:
    if len(name) < 4:
        return name
    i = rng.randrange(1, len(name) - 1)
    return name[:i] + name[i + 1] + name[i] + name[i + 2 :]


def population(
    seed: int = 7, families: int = 150
) -> tuple[list[PersonRecord], dict[str, str], dict[str, str]]:
    """(records, key -> child, key -> family)."""
    rng = random.Random(seed)
    records: list[PersonRecord] = []
    child_of: dict[str, str] = {}
    family_of: dict[str, str] = {}
    family_names = [invented_name(rng, 1) for _ in range(40)]
    n = 0
    for f in range(families):
        family = rng.choice(family_names)
        caregiver = f"{family} {invented_name(rng)}"
        village = f"{rng.randint(1, 25):02d}" + "".join(f"{rng.randint(1, 9):02d}" for _ in "vcd")
        for c in range(rng.choice([1, 1, 2, 3])):
            child = f"F{f}C{c}"
            birth = date(rng.randint(2008, 2022), rng.randint(1, 12), rng.randint(2, 28))
            base = PersonRecord(
                key="",
                system="primero",
                given=invented_name(rng),
                family=family,
                sex=rng.choice(["female", "male"]),
                birth_date=birth,
                birth_precision="exact",
                location_code=village,
                caregivers=(caregiver,),
            )
            copies = [base] + ([_variant(rng, base)] if rng.random() < 0.6 else [])
            for copy in copies:
                n += 1
                key = f"{copy.system}:{n}"
                records.append(replace(copy, key=key, exact_ids=(key,)))
                child_of[key] = child
                family_of[key] = f"F{f}"
    return records, child_of, family_of


def _variant(rng: random.Random, base: PersonRecord) -> PersonRecord:
    """The same child as another system registers it."""
    given = _typo(rng, base.given or "") if rng.random() < 0.3 else base.given
    birth, precision = base.birth_date, "exact"
    if rng.random() < 0.2 and birth:
        birth, precision = date(birth.year, 1, 1), "estimated"
    location = base.location_code if rng.random() < 0.8 else None
    return replace(
        base,
        system="oscar",
        given=given,
        birth_date=birth,
        birth_precision=precision,
        location_code=location,
        caregivers=(),
    )
