"""NCDD location codes: province (2 digits), district (4), commune (6), village (8).

Codes arrive with the leading zero lost ('2050503' for '02050503'); an odd length is padded
back. Anything that is not digits is unknown.
"""

from __future__ import annotations


def normalise_code(code: object) -> str:
    """Even-length digit string, '' when unknown."""
    if code is None:
        return ""
    text = str(code).strip()
    if not text.isascii() or not text.isdigit() or len(text) > 8:
        return ""
    if len(text) % 2:
        text = "0" + text
    if text[:2] == "00":
        return ""
    return text


def shared_depth(a: str, b: str) -> int:
    """How many levels two codes share: 4 village, 3 commune, 2 district, 1 province, 0 none."""
    depth = 0
    for level, width in enumerate((2, 4, 6, 8), start=1):
        if len(a) >= width and len(b) >= width and a[:width] == b[:width]:
            depth = level
        else:
            break
    return depth
