"""Child ids: ``KH-`` + 10 Crockford base32 characters + 1 check character.

An id is derived from the key of the record that founded the child (and a salt, bumped until
the id has never been used), so the same history always gives the same ids — a sync that was
killed and run again ends with exactly the ids an uninterrupted one would have — and an id is
never handed out twice. The check character (Crockford's mod-37 check symbol) catches a
mistyped id before it reaches the database.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CHECK_ALPHABET = ALPHABET + "*~$=U"
PREFIX = "KH-"
BODY_LENGTH = 10
_DECODE = {c: i for i, c in enumerate(CHECK_ALPHABET)}
# Crockford's reading rules for what people type
_TYPED = str.maketrans({"O": "0", "I": "1", "L": "1", "o": "0", "i": "1", "l": "1"})


def _check_char(body: str) -> str:
    value = 0
    for char in body:
        value = value * 32 + _DECODE[char]
    return CHECK_ALPHABET[value % 37]


def child_id_from(founder_key: str, salt: int = 0) -> str:
    digest = hashlib.sha256(f"child:{founder_key}:{salt}".encode()).digest()
    number = int.from_bytes(digest[:8], "big") >> (64 - 5 * BODY_LENGTH)
    body = "".join(ALPHABET[(number >> (5 * i)) & 31] for i in reversed(range(BODY_LENGTH)))
    return PREFIX + body + _check_char(body)


def mint_child_id(founder_key: str, is_taken: Callable[[str], bool]) -> str:
    """A new id for a child founded by ``founder_key`` that was never used before."""
    salt = 0
    while True:
        candidate = child_id_from(founder_key, salt)
        if not is_taken(candidate):
            return candidate
        salt += 1


def normalise_child_id(text: str) -> str:
    """Upper-case, Crockford reading rules, dashes/spaces ignored, ``KH-`` added back."""
    cleaned = text.strip().upper().replace(" ", "")
    if cleaned.startswith("KH-"):
        cleaned = cleaned[3:]
    elif cleaned.startswith("KH"):
        cleaned = cleaned[2:]
    cleaned = cleaned.replace("-", "").translate(_TYPED)
    return PREFIX + cleaned


def is_valid_child_id(text: str) -> bool:
    candidate = normalise_child_id(text)
    body, check = candidate[3:-1], candidate[-1:]
    if len(body) != BODY_LENGTH or any(c not in ALPHABET for c in body):
        return False
    return _check_char(body) == check
