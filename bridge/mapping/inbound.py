"""Applies compiled inbound rules to one source record. Never raises: problems become issues."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import ValidationError

from bridge.mapping.issues import Collector, MapResult
from bridge.mapping.loader import MappingSpec, Rule
from bridge.mapping.paths import MISSING, join_pointer, resolve, set_target
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


def _present(value: Any) -> bool:
    return not (value is None or value is MISSING or value == [] or value == "")


def apply_rules(
    rules: tuple[Rule, ...], record: Any, base: str, out: dict[str, Any], ctx: Context
) -> None:
    for rule in rules:
        if rule.each is not None:
            _apply_list(rule, record, base, out, ctx)
            continue
        values = {i.name: resolve(record, i.tokens) for i in rule.inputs}
        ctx.pointers = {i.name: base + i.text for i in rule.inputs}
        if not _inputs_ok(rule, values, ctx):
            continue
        result = (
            rule.constant if rule.has_constant else rule.transform.fn(values, ctx, rule.options)
        )
        for name, target in rule.outputs:
            value = result if rule.transform.outputs == ("value",) else result.get(name)
            if _present(value):
                set_target(out, target, value)


def _inputs_ok(rule: Rule, values: dict[str, Any], ctx: Context) -> bool:
    for name, kind in rule.types:
        value = values.get(name, MISSING)
        if not is_empty(value) and not _TYPE_CHECKS[kind](value):
            ctx.issues.error(ctx.pointer(name), "wrong_type", f"expected {kind}")
            return False
    if rule.required and rule.inputs and is_empty(values[rule.inputs[0].name]):
        ctx.issues.error(ctx.pointer(rule.inputs[0].name), "missing", "required field is empty")
        return False
    return True


def _apply_list(rule: Rule, record: Any, base: str, out: dict[str, Any], ctx: Context) -> None:
    assert rule.each is not None
    pointer = base + rule.each.text
    items = resolve(record, rule.each.tokens)
    if is_empty(items):
        if rule.required:
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
        apply_rules(rule.items, item, item_pointer, item_out, ctx)
        if item_out:
            rows.append(item_out)
    if rows:
        node = out
        for key in rule.list_target.keys[:-1]:
            node = node.setdefault(key, {})
        node.setdefault(rule.list_target.keys[-1], []).extend(rows)


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
        screen(payload, name_paths(spec) if names is None else names, limits or Limits(), issues)
        child = None if issues.errors else _map(spec, payload, today or date.today(), issues)
    except Exception as exc:  # the last line of defence: a mapper bug must not stop a sync
        issues.error("", "internal", f"mapping failed ({type(exc).__name__}); please report")
        child = None
    return MapResult(
        child=None if issues.errors else child,
        errors=issues.errors,
        warnings=issues.warnings,
        vocabulary_misses=issues.misses,
    )


def _map(spec: MappingSpec, payload: Any, today: date, issues: Collector) -> Child | None:
    if not isinstance(payload, dict):
        issues.error("", "not_an_object", f"a {spec.label} record must be a JSON object")
        return None
    ctx = Context("inbound", today, issues, spec.vocabularies, spec.label)
    out: dict[str, Any] = {"system": spec.system}
    apply_rules(spec.rules, payload, "", out, ctx)
    if spec.require_any and not any(_has(out, t.keys) for t in spec.require_any):
        fields = spec.require_any_sources
        pointer = fields[0] if fields else ""
        issues.error(pointer, "no_name", f"no name in any name field ({', '.join(fields)})")
    if issues.errors:
        return None
    try:
        return Child.model_validate(out)
    except ValidationError as exc:
        for e in exc.errors():
            where = ".".join(str(p) for p in e["loc"])
            issues.error("", "invalid_canonical", f"canonical field {where}: {e['type']}")
        return None


def _has(out: dict[str, Any], keys: tuple[str, ...]) -> bool:
    node: Any = out
    for key in keys:
        if not isinstance(node, dict):
            return False
        node = node.get(key)
    return _present(node)
