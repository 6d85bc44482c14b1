"""Builds the payload a system accepts from canonical data, without sending it.

A payload with any error is not returned (``payload`` is None): the caller holds the referral
with the errors, so nothing half-mapped (such as a placeholder service name) ever leaves.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from bridge.mapping.issues import Collector, Issue
from bridge.mapping.loader import OutboundTarget, Rule
from bridge.mapping.paths import MISSING, join_pointer, resolve
from bridge.mapping.referral import OutboundReferral
from bridge.mapping.transforms import Context, is_empty
from bridge.mapping.vocab import Vocabulary
from bridge.model import Child


class OutboundResult(BaseModel):
    target: str
    payload: dict[str, Any] | None = None
    errors: list[Issue] = Field(default_factory=list)
    warnings: list[Issue] = Field(default_factory=list)

    @property
    def held(self) -> bool:
        return bool(self.errors)


def _as_dict(data: Any, model: type[BaseModel]) -> dict[str, Any]:
    if data is None:
        return {}
    if isinstance(data, BaseModel):
        return data.model_dump(mode="json")
    if isinstance(data, dict) and model is OutboundReferral:
        return model.model_validate(data).model_dump(mode="json")  # unknown keys are refused
    if isinstance(data, dict):
        return data  # child fields as plain JSON (a partial child is fine)
    raise TypeError(f"expected {model.__name__} or dict, got {type(data).__name__}")


def build_input(data: Child | dict | None, referral: OutboundReferral | dict | None) -> dict:
    """``data`` is a Child, a dict of child fields, or a dict with ``child``/``referral`` keys."""
    if isinstance(data, dict) and set(data) <= {"child", "referral"} and data:
        return {
            "child": _as_dict(data.get("child"), Child),
            "referral": _as_dict(data.get("referral"), OutboundReferral),
        }
    return {"child": _as_dict(data, Child), "referral": _as_dict(referral, OutboundReferral)}


def _empty_value(target: OutboundTarget) -> Any:
    return "" if target.nulls == "empty_string" else None


def _apply(
    rules: tuple[Rule, ...],
    doc: Any,
    base: str,
    out: dict[str, Any],
    ctx: Context,
    target: OutboundTarget,
) -> None:
    for rule in rules:
        if rule.each is not None:
            _apply_list(rule, doc, base, out, ctx, target)
            continue
        values = {i.name: resolve(doc, i.tokens) for i in rule.inputs}
        ctx.pointers = {i.name: base + i.text for i in rule.inputs}
        if rule.required and rule.inputs and is_empty(values[rule.inputs[0].name]):
            ctx.error("missing", f"{target.label}: this field is required", rule.inputs[0].name)
            continue
        result = (
            rule.constant if rule.has_constant else rule.transform.fn(values, ctx, rule.options)
        )
        for name, key in rule.outputs:
            value = result if rule.transform.outputs == ("value",) else result.get(name)
            if value is None or value is MISSING:
                if target.nulls == "omit":
                    continue
                value = _empty_value(target)
            existing = out.get(key, MISSING)
            # first rule wins, but a later rule may fill what an earlier one left empty
            if existing is MISSING or (existing in ("", None) and value not in ("", None)):
                out[key] = value


def _apply_list(
    rule: Rule, doc: Any, base: str, out: dict[str, Any], ctx: Context, target: OutboundTarget
) -> None:
    assert rule.each is not None
    pointer = base + rule.each.text
    items = resolve(doc, rule.each.tokens)
    if is_empty(items):
        if rule.required:
            ctx.issues.error(pointer, "missing", f"{target.label}: at least one is required")
        elif target.nulls != "omit":
            out[rule.list_target] = []
        return
    result = []
    for index, item in enumerate(items):
        item_out: dict[str, Any] = {}
        _apply(rule.items, item, join_pointer(pointer, index), item_out, ctx, target)
        result.append(item_out)
    out[rule.list_target] = result


def map_outbound(
    target: OutboundTarget,
    vocabularies: dict[str, Vocabulary],
    data: Child | dict | None,
    referral: OutboundReferral | dict | None,
    today: date | None = None,
) -> OutboundResult:
    issues = Collector()
    ctx = Context("outbound", today or date.today(), issues, vocabularies, target.label)
    body: dict[str, Any] = {}
    _apply(target.rules, build_input(data, referral), "", body, ctx, target)
    if issues.errors:
        return OutboundResult(target=target.name, errors=issues.errors, warnings=issues.warnings)
    wrapped: Any = [body] if target.as_list else body
    payload = {target.envelope: wrapped} if target.envelope else body
    return OutboundResult(target=target.name, payload=payload, warnings=issues.warnings)
