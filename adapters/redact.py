"""What a remote system's error may say in the bridge's messages: one short, redacted line.

A receiver's error body is untrusted text. A proxy, a web server or a validating application
may quote the request in it, and the request carried a child's name and date of birth. So
the body is never copied whole. ``redact_message`` is the one way such text becomes the
bridge's text (the exception's message, ``last_error``, a log line, a printed problem):

1. flatten: a message, a list of messages or a field -> messages mapping becomes one line;
   anything nested deeper (an echoed object or list) is dropped, HTML tags are stripped and
   entities decoded, whitespace is collapsed;
2. drop what looks like a payload: text from the first JSON object or array (or Ruby hash,
   or form-encoded ``a=1&b=2``) on, escaped or encoded tokens (``\\u17a2``, ``%E1%9E``,
   ``&#6016;``), tokens of 40 characters or more (base64, a token), parts over 200 characters;
3. remove the values we sent in fields the mappings mark personal (every value we sent when
   the caller does not know which are personal), and any secret: each value case-insensitively
   with its date spellings, its words of four characters or more, and a truncated word that
   begins one (``Maliv…``); values shorter than four characters only as whole words;
4. cap the line at ``SHORT_MESSAGE`` characters (after step 3, so a cut never exposes part
   of a value).

The status code and the system's own error code travel beside the message on the error
(``adapters.errors.SourceError``), never inside the body's text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Collection, Iterable
from typing import Any

SHORT_MESSAGE = 120  # characters of a redacted message, at most
REMOVED = "***"  # what stands where a personal value was
DROPPED = "[…]"  # what stands where a payload-looking part was
_LONG_PART = 200  # a part (between "; ") longer than this is a dump, not a message
_LONG_TOKEN = 40  # a token this long without a space is a blob (base64, a token, JSON)
_MIN_SUBSTRING = 4  # shorter values are removed only as whole words
_MAX_DEPTH = 2  # a field -> [messages] mapping is two deep; deeper is an echoed payload

_TAG = re.compile(r"<[^<>]{0,300}>")
_SPACE = re.compile(r"\s+")
# an echoed object or array (JSON, a Ruby hash's inspect), or a form-encoded body
_PAYLOAD = re.compile(
    r"[{\[]\s*(?:[\"'{\[]|:?[\w.-]+\s*(?::|=>))"
    r"|[\w.\[\]-]+=[^&\s]*&[\w.\[\]-]+="
)
_ENCODED = re.compile(r"\\u[0-9a-fA-F]{4}|\\x[0-9a-fA-F]{2}|%[0-9a-fA-F]{2}|&#x?[0-9a-fA-F]+;")
_WORD_SPLIT = re.compile(r"[\s()\[\]{}<>,;:/\\\"'`|=&+*…]+")
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


# --- 1. flatten ---------------------------------------------------------------------------------


def flatten(value: Any, depth: int = 0) -> str:
    """A system's message (a string, a list, a field -> messages mapping) as one line; what
    is nested deeper than that is dropped. Not capped and not redacted: see redact_message."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return str(value)
    if depth >= _MAX_DEPTH:
        return DROPPED
    if isinstance(value, dict):
        return "; ".join(
            f"{key}: {flatten(item, depth + 1)}" if flatten(item, depth + 1) else str(key)
            for key, item in value.items()
        )
    if isinstance(value, list | tuple):
        return ", ".join(flatten(item, depth + 1) for item in value)
    return DROPPED


def _normalise(text: str) -> str:
    text = _TAG.sub(" ", text)
    text = html.unescape(text)
    return _SPACE.sub(" ", text).strip()


# --- 2. payloads --------------------------------------------------------------------------------


def _drop_payloads(text: str) -> str:
    match = _PAYLOAD.search(text)
    if match is not None:
        text = text[: match.start()].rstrip() + f" {DROPPED}"
    parts = []
    for part in text.split("; "):
        if len(part) > _LONG_PART:
            parts.append(DROPPED)
            continue
        tokens = [
            DROPPED if len(token) >= _LONG_TOKEN or _ENCODED.search(token) else token
            for token in part.split(" ")
        ]
        parts.append(" ".join(tokens))
    text = "; ".join(parts)
    text = re.sub(rf"(?:{re.escape(DROPPED)}[\s,;]*)+", f"{DROPPED} ", text)
    return _SPACE.sub(" ", text).strip(" ;,")


# --- 3. values ----------------------------------------------------------------------------------


def _is_personal(path: tuple[str, ...], personal: Collection[str]) -> bool:
    """Whether a field at ``path`` (keys from the body's root, list positions left out) is
    one of the personal fields (dotted names relative to a payload, e.g. ``services.notes``):
    the path ends with the name's parts, whatever envelope it sits in."""
    for name in personal:
        parts = tuple(name.split("."))
        if len(parts) <= len(path) and path[-len(parts) :] == parts:
            return True
    return False


def personal_values(sent: Any, personal: Collection[str] | None) -> list[str]:
    """The values in a request body under a personal field; every value when ``personal``
    is None (the caller does not know which fields are personal)."""
    found: list[str] = []

    def walk(value: Any, path: tuple[str, ...], inside: bool) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                here = (*path, str(key))
                walk(item, here, inside or personal is None or _is_personal(here, personal))
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item, path, inside)
        elif inside and value is not None and not isinstance(value, bool):
            text = str(value).strip()
            if text:
                found.append(text)

    walk(sent, (), personal is None)
    return found


def _spellings(value: str) -> set[str]:
    """The value and the other ways a date of birth is written."""
    value = _SPACE.sub(" ", value).strip()
    found = {value}
    for year, month, day in _ISO_DATE.findall(value):
        found |= {
            f"{year}-{month}-{day}",
            f"{day}/{month}/{year}",
            f"{month}/{day}/{year}",
            f"{year}/{month}/{day}",
            f"{day}-{month}-{year}",
            f"{day}.{month}.{year}",
            f"{year}{month}{day}",
        }
    return found


def _words(text: str) -> list[str]:
    return [word for word in _WORD_SPLIT.split(text) if word]


def _remover(values: Iterable[str]) -> tuple[re.Pattern[str] | None, list[str]]:
    """One pattern for every value and its words, and the long words (for truncated ones)."""
    long_forms: set[str] = set()
    short_forms: set[str] = set()
    stems: set[str] = set()
    for value in values:
        for form in _spellings(value) | set(_words(value)):
            if len(form) >= _MIN_SUBSTRING:
                long_forms.add(form)
                stems.add(form.casefold())
            elif form and any(ch.isalnum() for ch in form):
                short_forms.add(form)
    alternatives = [re.escape(f) for f in sorted(long_forms, key=len, reverse=True)]
    alternatives += [
        rf"(?<!\w){re.escape(f)}(?!\w)" for f in sorted(short_forms, key=len, reverse=True)
    ]
    if not alternatives:
        return None, []
    return re.compile("|".join(alternatives), re.IGNORECASE), sorted(stems)


def _remove_values(text: str, values: Iterable[str]) -> str:
    pattern, stems = _remover(values)
    if pattern is None:
        return text
    for _ in range(10):  # until nothing is left to remove (a removal never creates a value)
        changed = pattern.sub(REMOVED, text)
        if changed == text:
            break
        text = changed
    # a word cut short that begins a personal word ("Maliv…" of "Malivexa")
    for word in set(_words(text)):
        folded = word.casefold()
        if len(word) >= _MIN_SUBSTRING and any(stem.startswith(folded) for stem in stems):
            text = re.sub(re.escape(word), REMOVED, text, flags=re.IGNORECASE)
    return text


# --- 4. cap -------------------------------------------------------------------------------------


def _cap(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ;,") + "…"


# --- the one function ---------------------------------------------------------------------------


def redact_message(
    value: Any,
    *,
    sent: Any = None,
    personal: Collection[str] | None = None,
    secrets: Iterable[str | None] = (),
    limit: int = SHORT_MESSAGE,
) -> str:
    """A remote system's error text (or message structure) as one short line that holds no
    value of a personal field of ``sent`` (the request body we sent; ``personal`` names its
    personal fields, None: every field), no secret and nothing that looks like a payload.
    See the module docstring for the steps."""
    text = _normalise(flatten(value))
    text = _drop_payloads(text)
    values = personal_values(sent, personal) + [s for s in secrets if s]
    text = _remove_values(text, values)
    return _cap(_SPACE.sub(" ", text).strip(), limit)
