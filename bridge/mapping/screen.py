"""Screening a source record before it is mapped: what no mapping should ever have to handle.

A feed can send anything JSON can say, and JSON can say things no child's record means: a lone
UTF-16 surrogate (``"\\ud800Sok"`` is a legal escape but not text), ``NaN`` or ``Infinity``
(Python's reader accepts them), a 5 MB name, a value nested hundreds of levels deep. Mapped
as they are, they crash a serialiser, break a database column or fill the helpdesk's screen.
``screen`` finds them, walking the payload without recursion, and reports each as an error
with its JSON pointer and a reason that never quotes the value, so the record is quarantined
(kept whole, re-processable after a fix) and the rest of the page goes on.

The limits come from ``[limits]`` in the configuration (see ``bridge.config.LimitsConfig``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bridge.mapping.issues import Collector
from bridge.mapping.loader import MappingSpec, Rule
from bridge.mapping.paths import escape_token

ANY_ITEM = "*"  # stands for every position of a list in a name field's path


@dataclass(frozen=True)
class Limits:
    name_max_chars: int = 1000  # a name field (given, family, other names, caregivers' names)
    field_max_bytes: int = 64 * 1024  # any text field, in UTF-8 bytes
    max_depth: int = 64  # objects and lists inside each other (Primero's cases nest 3 or 4)


def name_paths(spec: MappingSpec) -> frozenset[tuple[str, ...]]:
    """The source fields the mapping reads names from (the rules whose targets are
    ``names.*`` or a list item's ``name*``), as token paths with ``*`` for list positions."""
    found: set[tuple[str, ...]] = set()

    def visit(rules: Iterable[Rule], prefix: tuple[str, ...], in_list: bool) -> None:
        for rule in rules:
            if rule.each is not None:
                visit(rule.items, (*prefix, *rule.each.tokens, ANY_ITEM), True)
                continue
            targets = [getattr(target, "text", str(target)) for _, target in rule.outputs]
            if any(_is_name_target(text, in_list) for text in targets):
                found.update((*prefix, *i.tokens) for i in rule.inputs)

    visit(spec.rules, (), False)
    return frozenset(found)


def _is_name_target(text: str, in_list: bool) -> bool:
    return text.startswith("names.") or (in_list and text.split(".")[-1].startswith("name"))


def screen(
    payload: Any,
    names: frozenset[tuple[str, ...]],
    limits: Limits,
    issues: Collector,
    text: str | None = None,
) -> None:
    """Add an error to ``issues`` for each value of ``payload`` no mapping should see.
    ``text``: the payload as JSON (``json.dumps`` with ``ensure_ascii=False``, any key order
    and separators), when the caller has it already."""
    if _clean(payload, names, limits, text):
        return
    _walk(payload, names, limits, issues)


def _clean(
    payload: Any, names: frozenset[tuple[str, ...]], limits: Limits, text: str | None = None
) -> bool:
    """True when ``payload`` certainly holds nothing ``_walk`` would report, found with one
    JSON encoding (in C) instead of a visit of every value: the encoder refuses NaN and
    Infinity (or writes them as such), UTF-8 refuses a lone surrogate, NUL shows as its
    escape, and a text field cannot be longer than the whole text. False only means "walk it
    and see" (most records with a problem, and a few odd ones without)."""
    try:
        if text is None:
            text = json.dumps(payload, ensure_ascii=False, allow_nan=False)
        elif "NaN" in text or "Infinity" in text:
            return False
        size = len(text.encode("utf-8"))
    except (ValueError, TypeError, RecursionError):  # UnicodeEncodeError is a ValueError
        return False
    if "\\u0000" in text or size > limits.field_max_bytes:
        return False
    if text.count("{") + text.count("[") >= limits.max_depth and not _shallow(
        payload, limits.max_depth
    ):
        return False
    # a field name over the limit is a run of that many characters between two quotes
    # (unless a quote is escaped inside a string: then look at every name)
    if not _keys_ok(payload):
        return False
    return _names_ok(payload, names, limits.name_max_chars)


def _shallow(value: Any, max_depth: int) -> bool:
    """No object or list nested ``max_depth`` deep or deeper (the record is depth 0)."""
    if not isinstance(value, dict | list):
        return True
    if max_depth <= 0:
        return False
    stack = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 >= max_depth:
                    return False
                stack.append((child, depth + 1))
    return True


def _keys_ok(value: Any) -> bool:
    """No field name too long to be one (or not text), in any object."""
    if not isinstance(value, dict | list):
        return True
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, child in node.items():
                if type(key) is not str or len(key) > _KEY_CHARS:
                    return False
                if isinstance(child, dict | list):
                    stack.append(child)
        else:
            stack.extend(child for child in node if isinstance(child, dict | list))
    return True


def _names_ok(value: Any, names: frozenset[tuple[str, ...]], max_chars: int) -> bool:
    """No name field longer than the limit (``*`` stands for any position of a list)."""
    for path in names:
        nodes = [value]
        for token in path:
            found = []
            for node in nodes:
                if isinstance(node, dict):
                    if token in node:
                        found.append(node[token])
                elif isinstance(node, list) and token == ANY_ITEM:
                    found.extend(node)
            nodes = found
        if any(isinstance(node, str) and len(node) > max_chars for node in nodes):
            return False
    return True


def _walk(
    payload: Any, names: frozenset[tuple[str, ...]], limits: Limits, issues: Collector
) -> None:
    # (value, JSON pointer, path with list positions as "*", depth)
    stack: list[tuple[Any, str, tuple[str, ...], int]] = [(payload, "", (), 0)]
    while stack:
        value, pointer, path, depth = stack.pop()
        if isinstance(value, str):
            _screen_text(value, pointer, path in names, limits, issues)
        elif isinstance(value, float):
            if not math.isfinite(value):
                issues.error(
                    pointer, "not_a_number", "NaN or Infinity is not a JSON number a record holds"
                )
        elif isinstance(value, dict | list):
            if depth >= limits.max_depth:
                issues.error(
                    pointer,
                    "nested_too_deep",
                    f"nested more than {limits.max_depth} levels ([limits] max_depth)",
                )
                continue
            if isinstance(value, dict):
                for key, item in value.items():
                    key = str(key)
                    if len(key) > _KEY_CHARS:  # data, not a field name: the pointer is its parent
                        message = f"holds a field name of {len(key)} characters"
                        issues.error(pointer, "field_name_too_long", message)
                        continue
                    here = f"{pointer}/{escape_token(_printable_key(key))}"
                    if not _is_text(key):
                        issues.error(here, "invalid_unicode", _UNICODE)
                        continue
                    stack.append((item, here, (*path, key), depth + 1))
            else:
                for index, item in enumerate(value):
                    stack.append((item, f"{pointer}/{index}", (*path, ANY_ITEM), depth + 1))


_UNICODE = "the field name or text holds a lone UTF-16 surrogate (not valid Unicode)"


_KEY_CHARS = 200  # a field name longer than this is not a field name


def _printable_key(key: str) -> str:
    """A field name as a pointer may show it: escapes for what is not text."""
    return key.encode("utf-8", "backslashreplace").decode("utf-8")


def _is_text(value: str) -> bool:
    """False for a string with a lone surrogate (which UTF-8 cannot encode)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _screen_text(
    value: str, pointer: str, is_name: bool, limits: Limits, issues: Collector
) -> None:
    if not _is_text(value):
        issues.error(pointer, "invalid_unicode", _UNICODE)
        return
    if "\x00" in value:
        issues.error(pointer, "control_character", "the text holds a NUL character")
    if is_name and len(value) > limits.name_max_chars:
        issues.error(
            pointer,
            "name_too_long",
            f"a name of {len(value)} characters, over the limit of {limits.name_max_chars} "
            "([limits] name_max_chars)",
        )
    elif len(value) * 4 > limits.field_max_bytes:  # a UTF-8 character is at most 4 bytes
        size = len(value.encode("utf-8"))
        if size > limits.field_max_bytes:
            issues.error(
                pointer,
                "field_too_long",
                f"text of {size} bytes, over the limit of {limits.field_max_bytes} "
                "([limits] field_max_bytes)",
            )
