"""Name parsing helpers shared by the matcher: Latin clean-up and composite name splitting."""

from __future__ import annotations

import re
import unicodedata

from dedupe.khmer import has_khmer

_KEEP = re.compile(r"[^a-z0-9\u1780-\u17ff\u200b-\u200d \-]+")
_SPACES = re.compile(r"\s+")
_HYPHENS = re.compile(r"\s*(?:-\s*)+")
# Letters that NFKD does not decompose into a base letter and a mark.
_SPECIAL = str.maketrans({"ø": "o", "ß": "ss", "æ": "ae", "œ": "oe", "đ": "d", "ł": "l", "ı": "i"})
_COMPOSITE = re.compile(r"^\s*([^()]*?)\s*\(\s*([^()]*?)\s*\)\s*$")


def clean_latin(text: str | None) -> str:
    """Lower-case, diacritic-free form of a Latin name: "  SOK  Dára " -> "sok dara".

    Apostrophes vanish inside words, other punctuation becomes a space; spaces are collapsed,
    hyphens kept (without spaces around them). Khmer letters are kept as they are.
    """
    if not text:
        return ""
    text = unicodedata.normalize("NFKD", text.casefold()).translate(_SPECIAL)
    text = "".join(ch for ch in text if not unicodedata.combining(ch) or "\u1780" <= ch <= "\u17ff")
    text = unicodedata.normalize("NFC", text)
    text = text.replace("'", "").replace("\u2019", "").replace("`", "")
    text = _KEEP.sub(" ", text)
    text = _HYPHENS.sub("-", _SPACES.sub(" ", text)).strip(" -")
    return text


def split_composite(text: str) -> tuple[str | None, str | None]:
    """Split a composite name into (khmer, latin).

    "សុខ ដារា (Sok Dara)" -> ("សុខ ដារា", "Sok Dara"); also the reverse order
    "Sok Dara (សុខ ដារា)". A plain name goes to the side of its script: ("សុខ", None) or
    (None, "Sok"). Blank parts are None. Never raises.
    """
    if not isinstance(text, str) or not text.strip():
        return None, None
    m = _COMPOSITE.match(text)
    if m:
        outer, inner = (m.group(1).strip() or None), (m.group(2).strip() or None)
        outer_km, inner_km = has_khmer(outer), has_khmer(inner)
        if outer_km and not inner_km:
            return outer, inner
        if inner_km and not outer_km:
            return inner, outer
        if outer_km and inner_km:
            return outer, None
        return None, outer or inner
    text = _SPACES.sub(" ", text).strip()
    return (text, None) if has_khmer(text) else (None, text)
