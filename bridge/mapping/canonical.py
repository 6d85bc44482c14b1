"""The canonical child as stored (``Child.model_dump(mode="json")``), built without pydantic.

Mapping a record fills a plain dict (``out``) that ``Child.model_validate`` checks and
``model_dump(mode="json")`` turns into what the store keeps. For the values the transforms
give — text, whole numbers, booleans, dates, known enum values, lists of them and of rows —
both steps only copy, fill defaults and write dates as ISO text; doing that directly is many
times faster. ``build_canonical`` does it for exactly those values and gives None for
anything else (a value of another type, a required field missing, a field the model does not
have), and the caller then lets pydantic decide, so the result (or the error) is always the
model's own. ``tests/mapping/test_compiled.py`` checks the two agree.

The builder is generated from the models (one function per model, ``exec``) when this
module is imported: model field names and defaults reach it as named constants.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from datetime import date
from enum import Enum
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from bridge.mapping.source_writer import SourceWriter
from bridge.model import Child

MISSING: Any = object()


class NotExact(Exception):
    """A value the fast path does not convert: pydantic decides."""


def _strip_optional(annotation: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        nullable = len(args) < len(typing.get_args(annotation))
        return (args[0] if len(args) == 1 else annotation), nullable
    return annotation, False


class _Generator(SourceWriter):
    def __init__(self) -> None:
        super().__init__({"MISSING": MISSING, "NotExact": NotExact, "date": date})
        self.built: dict[type, str] = {}

    def convert(self, annotation: Any, v: str, depth: int) -> list[str]:
        """Lines that check ``v`` is an exact value of ``annotation`` (else raise) and
        leave its JSON form in ``v``."""
        inner, nullable = _strip_optional(annotation)
        pad = "    " * depth
        body: list[str]
        if inner in (str, int, bool):
            body = [f"if type({v}) is not {inner.__name__}: raise NotExact"]
        elif inner is date:
            body = [f"if type({v}) is not date: raise NotExact", f"{v} = {v}.isoformat()"]
        elif isinstance(inner, type) and issubclass(inner, Enum):
            cls, values = self.const(inner, "E"), self.const(frozenset(m.value for m in inner))
            body = [
                f"if type({v}) is {cls}: {v} = {v}.value",
                f"elif type({v}) is not str or {v} not in {values}: raise NotExact",
            ]
        elif isinstance(inner, type) and issubclass(inner, BaseModel):
            body = [f"if type({v}) is not dict: raise NotExact", f"{v} = {self.model(inner)}({v})"]
        elif typing.get_origin(inner) is list:
            (item,) = typing.get_args(inner)
            item_lines = self.convert(item, "i", 0)
            helper = f"list_{self._count + 1}"
            self._count += 1
            self.lines += [f"def {helper}(items):", "    out = []", "    for i in items:"]
            self.lines += ["        " + line for line in item_lines]
            self.lines += ["        out.append(i)", "    return out"]
            body = [f"if type({v}) is not list: raise NotExact", f"{v} = {helper}({v})"]
        else:
            body = ["raise NotExact"]
        if nullable:
            return [pad + f"if {v} is not None:", *(pad + "    " + b for b in body)]
        return [pad + f"if {v} is None: raise NotExact", *(pad + b for b in body)]

    def default(self, model: type[BaseModel], name: str, info: Any) -> str:
        """An expression for the field's default, in JSON form (fresh for mutable ones)."""
        factory = info.default_factory
        if factory is not None:
            if isinstance(factory, type) and issubclass(factory, BaseModel):
                return f"{self.model(factory)}({{}})"
            if factory is list:
                return "[]"
            raise TypeError(f"{model.__name__}.{name}: default factory {factory} not supported")
        value = info.default
        if isinstance(value, Enum):
            value = value.value
        if value is not None and not isinstance(value, str | int | bool):
            raise TypeError(f"{model.__name__}.{name}: default {value!r} not supported")
        return self.const(value)

    def model(self, model: type[BaseModel]) -> str:
        """The name of the generated function building ``model``'s JSON dump from a dict."""
        if model in self.built:
            return self.built[model]
        config = model.model_config
        if config.get("extra") not in (None, "ignore") or config.get("str_strip_whitespace"):
            raise TypeError(f"{model.__name__}: its configuration changes values; not supported")
        name = f"build_{model.__name__}_{self._count + 1}"
        self._count += 1
        self.built[model] = name
        known = self.const(frozenset(model.model_fields))
        body = [f"def {name}(d):", f"    if not {known}.issuperset(d): raise NotExact"]
        fields = []
        for n, (field_name, info) in enumerate(model.model_fields.items()):
            if info.alias or info.validation_alias or info.serialization_alias:
                raise TypeError(f"{model.__name__}.{field_name}: aliases are not supported")
            key, var = self.const(field_name), f"f{n}"
            body.append(f"    {var} = d.get({key}, MISSING)")
            required = info.default is PydanticUndefined and info.default_factory is None
            if required:
                body.append(f"    if {var} is MISSING: raise NotExact")
                body += self.convert(info.annotation, var, 1)
            else:
                body.append(
                    f"    if {var} is MISSING: {var} = {self.default(model, field_name, info)}"
                )
                body.append("    else:")
                body += self.convert(info.annotation, var, 2)
            fields.append(f"{key}: {var}")
        body.append("    return {" + ", ".join(fields) + "}")
        self.lines += body
        return name

    def compile(self, root: type[BaseModel]) -> Callable[[dict[str, Any]], dict[str, Any]]:
        name = self.model(root)
        source = "\n".join(self.lines) + "\n"
        namespace = dict(self.names)
        exec(compile(source, f"<canonical {root.__name__}>", "exec"), namespace)  # noqa: S102
        self.source = source
        return namespace[name]


_GENERATOR = _Generator()
_CHILD = _GENERATOR.compile(Child)


def build_canonical(out: dict[str, Any]) -> dict[str, Any] | None:
    """``Child.model_validate(out).model_dump(mode="json")`` when ``out`` holds only exact
    values (see the module docstring), else None."""
    try:
        return _CHILD(out)
    except NotExact:
        return None
