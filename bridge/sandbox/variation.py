"""How one registration of a child differs from another: spellings, typing errors, dates.

Pure helpers over a `random.Random` so the generator stays deterministic per seed.
"""

from __future__ import annotations

import random
from datetime import date

from bridge.sandbox.names import SPELLING_SHIFTS

_LETTERS = "abcdefghijklmnoprstuvy"
# Dates are handled as day ordinals: precomputed strings keep the generator fast.
FIRST_DAY = date(2006, 1, 1).toordinal()
LAST_DAY = date(2027, 12, 31).toordinal()
_DAY_STR: list[str] = [date.fromordinal(d).isoformat() for d in range(FIRST_DAY, LAST_DAY + 1)]


def day_str(ordinal: int) -> str:
    return _DAY_STR[ordinal - FIRST_DAY]


def spelling(rng: random.Random, latin: tuple[str, ...], p_primary: float) -> str:
    """One register's spelling of a name: the common one, another known one, or a shift."""
    r = rng.random()
    if r < p_primary or len(latin) == 1:
        return latin[0]
    if r < p_primary + (1.0 - p_primary) * 0.65:
        return latin[1 + int(rng.random() * (len(latin) - 1))]
    return shifted(rng, latin[0])


def shifted(rng: random.Random, name: str) -> str:
    """Apply one everyday spelling shift (ea/ia, ey/ei, chh/ch, ...) if one fits."""
    lower = name.lower()
    start = int(rng.random() * len(SPELLING_SHIFTS))
    for i in range(len(SPELLING_SHIFTS)):
        old, new = SPELLING_SHIFTS[(start + i) % len(SPELLING_SHIFTS)]
        pos = lower.find(old, 1)  # keep the first letter: people rarely change it
        if pos > 0:
            out = lower[:pos] + new + lower[pos + len(old) :]
            return _recase(name, out)
    return name


def _recase(template: str, lower: str) -> str:
    return " ".join(w[:1].upper() + w[1:] for w in lower.split(" ")) if template else lower


def typo(rng: random.Random, name: str) -> str:
    """A typing error: swapped, dropped, doubled or replaced letter (never the first)."""
    if len(name) < 4:
        return name
    pos = 1 + int(rng.random() * (len(name) - 2))
    kind = int(rng.random() * 4)
    if kind == 0:
        return name[:pos] + name[pos + 1] + name[pos] + name[pos + 2 :]
    if kind == 1:
        return name[:pos] + name[pos + 1 :]
    if kind == 2:
        return name[:pos] + name[pos] + name[pos:]
    return name[:pos] + _LETTERS[int(rng.random() * len(_LETTERS))] + name[pos + 1 :]


def dob_variant(rng: random.Random, dob: int) -> tuple[str, bool]:
    """One register's date of birth and whether it is marked estimated."""
    text = day_str(dob)
    r = rng.random()
    if r < 0.15:  # estimated from age: 1 January of the year
        return text[:4] + "-01-01", True
    if r < 0.18:  # day and month swapped
        y, m, d = text.split("-")
        if int(d) <= 12 and d != m:
            return f"{y}-{d}-{m}", False
        return text, False
    if r < 0.21:  # year off by one
        y = int(text[:4]) + (1 if rng.random() < 0.5 else -1)
        return f"{y}{text[4:]}", False
    return text, False


def age_on(dob_text: str, ref_year: int = 2026, ref_md: str = "11-01") -> int | None:
    if len(dob_text) != 10:
        return None
    age = ref_year - int(dob_text[:4])
    return age - 1 if dob_text[5:] > ref_md else age


def weighted(rng: random.Random, cumulative: list[float], items: list) -> object:
    """Pick from items with a precomputed cumulative weight list (last value 1.0)."""
    r = rng.random()
    for i, c in enumerate(cumulative):
        if r < c:
            return items[i]
    return items[-1]


def cumulative(weights: list[float]) -> list[float]:
    total = sum(weights)
    out, acc = [], 0.0
    for w in weights:
        acc += w / total
        out.append(acc)
    out[-1] = 1.0
    return out


def uuid4(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def global_id(rng: random.Random) -> str:
    """26-character Crockford base32, ULID-like (the first two characters of a 2020s ULID)."""
    bits = rng.getrandbits(120)
    chars = [CROCKFORD[(bits >> (5 * i)) & 31] for i in range(24)]
    return "01" + "".join(chars)
