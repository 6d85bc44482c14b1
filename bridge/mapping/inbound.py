"""Applies inbound rules to one source record. Never raises: problems become issues.

The rules a mapping file declares (``loader.Rule``, with their file and line) are compiled
once per mapping into plain closures (``compile_rules``): each knows its input pointers as
token tuples, its type checks, its transform and where its outputs go, so mapping a record is
a walk of a list of functions, with no per-record interpretation of the rule tables. JSON
pointers for issues are joined only when an issue is reported. The TOML files stay the only
source of truth: nothing is compiled that was not loaded (and checked) from them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from pydantic import ValidationError

from bridge.mapping.canonical import build_canonical
from bridge.mapping.issues import Collector, MapResult
from bridge.mapping.loader import MappingSpec, Rule
from bridge.mapping.paths import MISSING, Target, join_pointer, resolve, set_target
from bridge.mapping.screen import Limits, name_paths, screen
from bridge.mapping.transforms import Context, is_empty
from bridge.model import Child

_TYPE_CHECKS = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "list": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}

# (record or list row, JSON pointer of that record/row, canonical output, context)
Step = Callable[[Any, str, dict[str, Any], Context], None]


def _present(value: Any) -> bool:
    return not (value is None or value is MISSING or value == [] or value == "")


def _getter(tokens: tuple[str, ...]) -> Callable[[Any], Any]:
    """``resolve(record, tokens)``, specialised for the one-token pointers most rules use (the
    record or row is always an object here)."""
    if len(tokens) == 1:
        (token,) = tokens

        def one(record: Any) -> Any:
            return record.get(token, MISSING)

        return one
    return lambda record: resolve(record, tokens)


def _setter(target: Target) -> Callable[[dict[str, Any], Any], None]:
    """``set_target(out, target, value)``, specialised for scalar fields one or two deep."""
    keys = target.keys
    if target.append or len(keys) > 2:
        return lambda out, value: set_target(out, target, value)
    if len(keys) == 1:
        (last,) = keys

        def top(out: dict[str, Any], value: Any) -> None:
            if out.get(last) is None:
                out[last] = value

        return top
    first, last = keys

    def nested(out: dict[str, Any], value: Any) -> None:
        node = out.setdefault(first, {})
        if node.get(last) is None:
            node[last] = value

    return nested


def _compile_rule(rule: Rule, file_name: str = "mapping") -> Step:
    if rule.each is not None:
        return _compile_list(rule, file_name)
    getters = tuple((i.name, _getter(i.tokens)) for i in rule.inputs)
    texts = {i.name: i.text for i in rule.inputs}
    checks = tuple((name, _TYPE_CHECKS[kind], f"expected {kind}") for name, kind in rule.types)
    required = rule.inputs[0].name if rule.required and rule.inputs else None
    fn, options = rule.transform.fn, rule.options
    has_constant, constant = rule.has_constant, rule.constant
    single = rule.transform.outputs == ("value",)
    setters = tuple((name, _setter(target)) for name, target in rule.outputs)

    if len(getters) == 1 and not has_constant:
        return _one_input(rule, getters[0], texts, checks, required, setters)

    def step(record: Any, base: str, out: dict[str, Any], ctx: Context) -> None:
        values = {name: get(record) for name, get in getters}
        ctx.base, ctx.texts = base, texts
        for name, check, message in checks:
            value = values.get(name, MISSING)
            if not is_empty(value) and not check(value):
                ctx.issues.error(ctx.pointer(name), "wrong_type", message)
                return
        if required is not None and is_empty(values[required]):
            ctx.issues.error(ctx.pointer(required), "missing", "required field is empty")
            return
        result = constant if has_constant else fn(values, ctx, options)
        _write(result, single, setters, out)

    return step


def _one_input(
    rule: Rule,
    getter: tuple[str, Callable[[Any], Any]],
    texts: dict[str, str],
    checks: tuple[tuple[str, Callable[[Any], bool], str], ...],
    required: str | None,
    setters: tuple[tuple[str, Callable[[dict[str, Any], Any], None]], ...],
) -> Step:
    """The step of a rule with one input (most rules): the same decisions as the general
    step; an empty input is not passed to a transform that makes nothing of it."""
    name, get = getter
    fn, options = rule.transform.fn, rule.options
    skip_empty = rule.transform.empty_is_nothing
    single = rule.transform.outputs == ("value",)
    check = next((c for n, c, _ in checks if n == name), None)
    expected = next((m for n, _, m in checks if n == name), "")

    def step(record: Any, base: str, out: dict[str, Any], ctx: Context) -> None:
        value = get(record)
        ctx.base, ctx.texts = base, texts
        if is_empty(value):
            if required is not None:
                ctx.issues.error(ctx.pointer(required), "missing", "required field is empty")
                return
            if skip_empty:
                return
        elif check is not None and not check(value):
            ctx.issues.error(ctx.pointer(name), "wrong_type", expected)
            return
        _write(fn({name: value}, ctx, options), single, setters, out)

    return step


def _write(
    result: Any,
    single: bool,
    setters: tuple[tuple[str, Callable[[dict[str, Any], Any], None]], ...],
    out: dict[str, Any],
) -> None:
    """Put a transform's result into the canonical record: one value into every target, or
    each named output of a many-output transform into its own; empty values are left out."""
    if single:
        if _present(result):
            for _, put in setters:
                put(out, result)
        return
    for output, put in setters:
        found = result.get(output)
        if _present(found):
            put(out, found)


def _compile_list(rule: Rule, file_name: str) -> Step:
    from bridge.mapping.codegen import generate

    assert rule.each is not None
    each = rule.each
    get_items = _getter(each.tokens)
    items_steps = (generate(rule.items, file_name)[0],)
    keys = rule.list_target.keys
    required = rule.required

    def step(record: Any, base: str, out: dict[str, Any], ctx: Context) -> None:
        pointer = base + each.text
        items = get_items(record)
        if is_empty(items):
            if required:
                ctx.issues.error(pointer, "missing", "required list is empty")
            return
        if not isinstance(items, list):
            ctx.issues.error(pointer, "wrong_type", "expected list")
            return
        rows: list[dict[str, Any]] = []
        for index, item in enumerate(items):
            item_pointer = join_pointer(pointer, index)
            if not isinstance(item, dict):
                ctx.issues.error(item_pointer, "wrong_type", "expected object")
                continue
            item_out: dict[str, Any] = {}
            for item_step in items_steps:
                item_step(item, item_pointer, item_out, ctx)
            if item_out:
                rows.append(item_out)
        if rows:
            node = out
            for key in keys[:-1]:
                node = node.setdefault(key, {})
            node.setdefault(keys[-1], []).extend(rows)

    return step


def compile_rules(rules: tuple[Rule, ...]) -> tuple[Step, ...]:
    """The rules as closures, in their order (the first rule to fill a field wins)."""
    return tuple(_compile_rule(rule) for rule in rules)


def compiled(spec: MappingSpec) -> tuple[Step, ...]:
    """The mapping's inbound rules as one generated function (``codegen``), made once per
    loaded mapping."""
    steps = spec.__dict__.get("_compiled_inbound")
    if steps is None:
        from bridge.mapping.codegen import generate

        steps = spec.__dict__["_compiled_inbound"] = (generate(spec.rules, spec.file.name)[0],)
    return steps


def apply_rules(
    rules: tuple[Rule, ...], record: Any, base: str, out: dict[str, Any], ctx: Context
) -> None:
    """Apply ``rules`` to one record (or list row) at ``base``, writing into ``out``."""
    for step in compile_rules(rules):
        step(record, base, out, ctx)


class IssueDicts:
    """A ``Collector`` that keeps issues as the plain dicts the store holds (no models)."""

    __slots__ = ("errors", "warnings", "misses")

    def __init__(self) -> None:
        self.errors: list[dict[str, str]] = []
        self.warnings: list[dict[str, str]] = []
        self.misses: list[tuple[str, str, str, str]] = []

    def error(self, pointer: str, code: str, message: str) -> None:
        self.errors.append(
            {"severity": "error", "pointer": pointer, "code": code, "message": message}
        )

    def warn(self, pointer: str, code: str, message: str) -> None:
        self.warnings.append(
            {"severity": "warning", "pointer": pointer, "code": code, "message": message}
        )

    def miss(self, vocabulary: str, column: str, value: str, pointer: str) -> None:
        self.misses.append((vocabulary, column, value, pointer))


def _fill(
    spec: MappingSpec,
    payload: Any,
    today: date,
    limits: Limits,
    names: frozenset[tuple[str, ...]] | None,
    issues: Any,
    text: str | None = None,
) -> dict[str, Any] | None:
    """Screen, then apply the compiled rules; the canonical fields (not yet the model), or
    None when an error was found. ``text``: the payload's JSON, if the caller has it."""
    screen(payload, name_paths(spec) if names is None else names, limits, issues, text)
    if issues.errors:
        return None
    if not isinstance(payload, dict):
        issues.error("", "not_an_object", f"a {spec.label} record must be a JSON object")
        return None
    ctx = Context("inbound", today, issues, spec.vocabularies, spec.label)
    out: dict[str, Any] = {"system": spec.system}
    for step in compiled(spec):
        step(payload, "", out, ctx)
    if spec.require_any and not any(_has(out, t.keys) for t in spec.require_any):
        fields = spec.require_any_sources
        pointer = fields[0] if fields else ""
        issues.error(pointer, "no_name", f"no name in any name field ({', '.join(fields)})")
    return None if issues.errors else out


def _model(out: dict[str, Any], issues: Any) -> Child | None:
    try:
        return Child.model_validate(out)
    except ValidationError as exc:
        for e in exc.errors():
            where = ".".join(str(p) for p in e["loc"])
            issues.error("", "invalid_canonical", f"canonical field {where}: {e['type']}")
        return None


def _failed(exc: BaseException) -> str:
    """The message for a mapper bug: the exception's kind and the mapping rule (file:line)
    that was running, never a value."""
    from bridge.mapping.codegen import rule_at

    where = rule_at(exc.__traceback__)
    at = f" in the rule at {where}" if where else ""
    return f"mapping failed ({type(exc).__name__}{at}); please report"


def map_inbound(
    spec: MappingSpec,
    payload: Any,
    today: date | None = None,
    *,
    limits: Limits | None = None,
    names: frozenset[tuple[str, ...]] | None = None,
) -> MapResult:
    """Screen the record (``bridge.mapping.screen``), then map it. ``names`` are the name
    fields' paths (``name_paths(spec)``; pass them when mapping many records)."""
    issues = Collector()
    try:
        out = _fill(spec, payload, today or date.today(), limits or Limits(), names, issues)
        child = None if out is None else _model(out, issues)
    except Exception as exc:  # the last line of defence: a mapper bug must not stop a sync
        issues.error("", "internal", _failed(exc))
        child = None
    return MapResult(
        child=None if issues.errors else child,
        errors=issues.errors,
        warnings=issues.warnings,
        vocabulary_misses=issues.misses,
    )


@dataclass(slots=True)
class Mapped:
    """One record mapped for the store: the canonical child as stored (the model's JSON
    dump), or None when it is quarantined; its issues as stored (errors, then warnings)."""

    canonical: dict[str, Any] | None
    issues: list[dict[str, str]]
    errors: int
    warnings: int


def map_canonical(
    spec: MappingSpec,
    payload: Any,
    today: date | None = None,
    *,
    limits: Limits | None = None,
    names: frozenset[tuple[str, ...]] | None = None,
    text: str | None = None,
) -> Mapped:
    """What ``map_inbound`` decides, as the store keeps it: ``canonical`` equals
    ``map_inbound(...).child.model_dump(mode="json")`` and ``issues`` its errors and
    warnings as dicts. Built without the model when the values allow
    (``bridge.mapping.canonical``). ``text``: the payload as JSON (``ensure_ascii=False``),
    when the caller has it (it spares the screen encoding the record again)."""
    issues = IssueDicts()
    canonical = None
    try:
        out = _fill(spec, payload, today or date.today(), limits or Limits(), names, issues, text)
        if out is not None:
            canonical = build_canonical(out)
            if canonical is None:
                child = _model(out, issues)
                canonical = None if child is None else child.model_dump(mode="json")
    except Exception as exc:  # the last line of defence: a mapper bug must not stop a sync
        issues.error("", "internal", _failed(exc))
        canonical = None
    if issues.errors:
        canonical = None
    return Mapped(
        canonical=canonical,
        issues=[*issues.errors, *issues.warnings],
        errors=len(issues.errors),
        warnings=len(issues.warnings),
    )


def _has(out: dict[str, Any], keys: tuple[str, ...]) -> bool:
    node: Any = out
    for key in keys:
        if not isinstance(node, dict):
            return False
        node = node.get(key)
    return _present(node)
