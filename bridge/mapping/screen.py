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
    payload: Any, names: frozenset[tuple[str, ...]], limits: Limits, issues: Collector
) -> None:
    """Add an error to ``issues`` for each value of ``payload`` no mapping should see."""
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
