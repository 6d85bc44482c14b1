"""JSON pointers into source records and dotted paths into the canonical child.

Pointers (RFC 6901) are parsed once at load time into token tuples; resolving one is a walk of
dicts and lists. Canonical targets are dotted field names checked against the pydantic model at
load time, so a typo in a mapping file fails when it is loaded, not when a record arrives.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from enum import Enum
from typing import Any

from pydantic import BaseModel

MISSING: Any = object()  # a key that is not there at all (distinct from null)


class PathError(ValueError):
    """A path in a mapping file is malformed or names no field."""


def parse_pointer(text: str) -> tuple[str, ...]:
    if text == "":
        return ()
    if not text.startswith("/"):
        raise PathError(f"JSON pointer {text!r} must start with '/'")
    tokens = []
    for raw in text[1:].split("/"):
        if "~" in raw.replace("~0", "").replace("~1", ""):
            raise PathError(f"JSON pointer {text!r} has a bad '~' escape")
        tokens.append(raw.replace("~1", "/").replace("~0", "~"))
    return tuple(tokens)


def escape_token(token: str | int) -> str:
    return str(token).replace("~", "~0").replace("/", "~1")


def join_pointer(base: str, *tokens: str | int) -> str:
    return base + "".join("/" + escape_token(t) for t in tokens)


def resolve(doc: Any, tokens: tuple[str, ...]) -> Any:
    """The value at ``tokens`` in ``doc``, or MISSING."""
    node = doc
    for token in tokens:
        if isinstance(node, dict):
            node = node.get(token, MISSING)
            if node is MISSING:
                return MISSING
        elif isinstance(node, list):
            if not token.isdigit() or int(token) >= len(node):
                return MISSING
            node = node[int(token)]
        else:
            return MISSING
    return node


@dataclass(frozen=True)
class Target:
    """A dotted path into the canonical child; ``append`` (written ``field[]``) adds to a list."""

    keys: tuple[str, ...]
    append: bool
    annotation: Any  # the field's type (item type when appending)

    @property
    def text(self) -> str:
        return ".".join(self.keys) + ("[]" if self.append else "")


def _unwrap_optional(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def list_item_type(annotation: Any) -> Any | None:
    annotation = _unwrap_optional(annotation)
    if typing.get_origin(annotation) is list:
        (item,) = typing.get_args(annotation)
        return item
    return None


def parse_target(text: str, model: type[BaseModel]) -> Target:
    append = text.endswith("[]")
    keys = tuple((text[:-2] if append else text).split("."))
    annotation: Any = model
    for i, key in enumerate(keys):
        current = _unwrap_optional(annotation)
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            raise PathError(f"{'.'.join(keys[:i])!r} has no fields, so {text!r} names nothing")
        field = current.model_fields.get(key)
        if field is None:
            valid = ", ".join(current.model_fields)
            raise PathError(f"{text!r}: {current.__name__} has no field {key!r} (has: {valid})")
        annotation = field.annotation
    if append:
        item = list_item_type(annotation)
        if item is None:
            raise PathError(f"{text!r}: '[]' needs a list field")
        annotation = item
    return Target(keys=keys, append=append, annotation=_unwrap_optional(annotation))


def enum_values(annotation: Any) -> set[str] | None:
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return {str(m.value) for m in annotation}
    return None


def set_target(out: dict[str, Any], target: Target, value: Any) -> None:
    """Write ``value`` at ``target``. The first rule to write a scalar wins, so a mapping lists
    its preferred source first (e.g. OSCaR's ``local_given_name`` before ``given_name``)."""
    node = out
    for key in target.keys[:-1]:
        node = node.setdefault(key, {})
    last = target.keys[-1]
    if target.append:
        items = node.setdefault(last, [])
        if isinstance(value, list):
            items.extend(v for v in value if v not in items)
        elif value not in items:
            items.append(value)
    elif node.get(last) is None:
        node[last] = value


def check_model_pointer(tokens: tuple[str, ...], annotation: Any) -> Any:
    """Check a pointer into canonical data (e.g. ``/child/names/given``) against its model;
    returns the type found there."""
    for token in tokens:
        current = _unwrap_optional(annotation)
        item = list_item_type(current)
        if item is not None:
            if not token.isdigit():
                raise PathError(f"{token!r} is not a list index")
            annotation = item
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            raise PathError(f"{token!r}: the value before it has no fields")
        if token not in current.model_fields:
            valid = ", ".join(current.model_fields)
            raise PathError(f"{current.__name__} has no field {token!r} (has: {valid})")
        annotation = current.model_fields[token].annotation
    return _unwrap_optional(annotation)
