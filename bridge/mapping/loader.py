"""Reads a mapping file (``mappings/<kind>.toml``) into checked, compiled rules.

Everything a file can get wrong is found here, before any record is mapped: an unknown key, an
unknown transform (the message lists the valid ones), a bad option, a malformed pointer, a
canonical field that does not exist, a vocabulary or column that does not exist, a payload field
that is not on the destination's allow-list. Each error names the file and the line.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from bridge.mapping.errors import LineFinder, MappingLoadError
from bridge.mapping.paths import (
    PathError,
    Target,
    check_model_pointer,
    enum_values,
    list_item_type,
    parse_pointer,
    parse_target,
)
from bridge.mapping.referral import OutboundInput
from bridge.mapping.transforms import REGISTRY, Options, Transform
from bridge.mapping.vocab import Vocabulary, load_vocabularies
from bridge.model import Child

Direction = Literal["inbound", "outbound"]
RULE_KEYS = {"from", "to", "transform", "options", "type", "required", "each", "item", "value"}
TOP_KEYS = {"kind", "system", "label", "require_any", "ignore", "inbound", "outbound"}
TARGET_KEYS = {"label", "envelope", "as_list", "nulls", "allowed", "field"}
JSON_TYPES = {"string", "integer", "number", "boolean", "list", "object"}


@dataclass(frozen=True)
class Input:
    name: str
    tokens: tuple[str, ...]
    text: str  # the pointer as written, for issues and coverage


@dataclass(frozen=True)
class Rule:
    line: int
    transform: Transform
    options: Options
    inputs: tuple[Input, ...]
    outputs: tuple[tuple[str, Any], ...]  # (output name, canonical Target or payload key)
    types: tuple[tuple[str, str], ...]
    required: bool
    constant: Any = None
    has_constant: bool = False
    each: Input | None = None
    items: tuple[Rule, ...] = ()
    list_target: Any = None  # where the items go (Target inbound, payload key outbound)


@dataclass(frozen=True)
class OutboundTarget:
    name: str
    label: str
    envelope: str | None
    as_list: bool
    nulls: Literal["empty_string", "null", "omit"]
    allowed: frozenset[str]
    rules: tuple[Rule, ...]


@dataclass
class MappingSpec:
    kind: str
    system: str
    label: str
    file: Path
    rules: tuple[Rule, ...]
    require_any: tuple[Target, ...]
    ignore: tuple[str, ...]
    outbound: dict[str, OutboundTarget]
    vocabularies: dict[str, Vocabulary]
    read_pointers: frozenset[str] = field(default_factory=frozenset)
    require_any_sources: tuple[str, ...] = ()  # the source fields that feed require_any


class _Compiler:
    def __init__(self, file: Path, text: str, vocabularies: dict[str, Vocabulary]) -> None:
        self.file = file
        self.finder = LineFinder(text)
        self.vocabularies = vocabularies
        self.seen: dict[str, int] = {}
        self.read: set[str] = set()

    def fail(self, line: int, message: str) -> MappingLoadError:
        return MappingLoadError(self.file, line, message)

    def next_line(self, header: str) -> int:
        index = self.seen.get(header, 0)
        self.seen[header] = index + 1
        return self.finder.table(header, index)

    def rule(self, raw: Any, header: str, direction: Direction, model: Any, base: str = "") -> Rule:
        line = self.next_line(header)
        if not isinstance(raw, dict):
            raise self.fail(line, f"[[{header}]] must be a table")
        unknown = set(raw) - RULE_KEYS
        if unknown:
            raise self.fail(line, f"unknown key(s) {sorted(unknown)}; valid: {sorted(RULE_KEYS)}")
        if "each" in raw:
            return self.list_rule(raw, header, direction, model, line, base)
        name = raw.get("transform", "text")
        transform = REGISTRY.get(name) if isinstance(name, str) else None
        if transform is None:
            where = self.finder.key("transform", line)
            valid = ", ".join(sorted(REGISTRY))
            raise self.fail(where, f"unknown transform {name!r}; valid transforms: {valid}")
        options = self.options(transform, raw.get("options", {}), line)
        has_constant = "value" in raw
        inputs = () if has_constant else self.inputs(raw, transform, direction, model, line, base)
        outputs = self.outputs(raw.get("to"), transform, direction, model, line, options)
        types = self.types(raw.get("type"), transform, line)
        required = raw.get("required", False)
        if not isinstance(required, bool):
            raise self.fail(self.finder.key("required", line), "'required' must be true or false")
        return Rule(
            line=line,
            transform=transform,
            options=options,
            inputs=inputs,
            outputs=outputs,
            types=types,
            required=required,
            constant=raw.get("value"),
            has_constant=has_constant,
        )

    def list_rule(
        self, raw: dict, header: str, direction: Direction, model: Any, line: int, base: str
    ) -> Rule:
        each = self.pointer(raw["each"], "each", line)
        if direction == "outbound":
            annotation = self.check_outbound(each, model, line, "each")
            item_model = list_item_type(annotation)
            if item_model is None:
                raise self.fail(self.finder.key("each", line), f"{raw['each']!r} is not a list")
            list_target = self.payload_key(raw.get("to"), line)
        else:
            self.read.add(base + raw["each"])
            list_target = self.target(raw.get("to"), model, line)
            item_model = list_item_type(list_target.annotation)
            if item_model is None:
                raise self.fail(self.finder.key("to", line), f"{list_target.text!r} is not a list")
        items_raw = raw.get("item", [])
        if not isinstance(items_raw, list) or not items_raw:
            raise self.fail(line, "a rule with 'each' needs [[...item]] rules")
        item_base = base + raw["each"] + "/*"
        items = tuple(
            self.rule(r, header + ".item", direction, item_model, item_base) for r in items_raw
        )
        return Rule(
            line=line,
            transform=REGISTRY["text"],
            options=Options(),
            inputs=(),
            outputs=(),
            types=(),
            required=bool(raw.get("required", False)),
            each=Input("value", each, raw["each"]),
            items=items,
            list_target=list_target,
        )

    def options(self, transform: Transform, raw: Any, line: int) -> Options:
        where = self.finder.key("options", line)
        try:
            options = transform.options.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'options'}: {e['msg']}"
                for e in exc.errors()
            )
            raise self.fail(where, f"bad options for {transform.name}: {problems}") from None
        if transform.check:
            problem = transform.check(options, self.vocabularies)
            if problem:
                raise self.fail(where, problem)
        return options

    def pointer(self, text: Any, key: str, line: int) -> tuple[str, ...]:
        where = self.finder.key(key, line)
        if not isinstance(text, str):
            raise self.fail(where, f'{key!r} must be a JSON pointer such as "/name_first"')
        try:
            return parse_pointer(text)
        except PathError as exc:
            raise self.fail(where, str(exc)) from None

    def check_outbound(self, tokens: tuple[str, ...], model: Any, line: int, key: str) -> Any:
        try:
            return check_model_pointer(tokens, model)
        except PathError as exc:
            raise self.fail(self.finder.key(key, line), f"bad path: {exc}") from None

    def inputs(
        self,
        raw: dict,
        transform: Transform,
        direction: Direction,
        model: Any,
        line: int,
        base: str,
    ) -> tuple[Input, ...]:
        source = raw.get("from")
        if source is None:
            raise self.fail(line, "a rule needs 'from' (or 'value' for a constant)")
        named = source if isinstance(source, dict) else {transform.inputs[0]: source}
        unknown = set(named) - set(transform.inputs)
        if unknown:
            where = self.finder.key("from", line)
            raise self.fail(
                where,
                f"{transform.name} has no input(s) {sorted(unknown)}; "
                f"its inputs: {list(transform.inputs)}",
            )
        result = []
        for name, text in named.items():
            tokens = self.pointer(text, "from", line)
            if direction == "outbound":
                self.check_outbound(tokens, model, line, "from")
            else:
                self.read.add(base + text)
            result.append(Input(name, tokens, text))
        return tuple(result)

    def target(self, text: Any, model: Any, line: int) -> Target:
        where = self.finder.key("to", line)
        if not isinstance(text, str):
            raise self.fail(where, "a canonical target must be a dotted field name")
        try:
            return parse_target(text, model)
        except PathError as exc:
            raise self.fail(self.finder.key("to", line, text=text), f"bad path: {exc}") from None

    def payload_key(self, text: Any, line: int) -> str:
        if not isinstance(text, str) or not text:
            raise self.fail(self.finder.key("to", line), "'to' must name a payload field")
        return text

    def outputs(
        self,
        raw: Any,
        transform: Transform,
        direction: Direction,
        model: Any,
        line: int,
        options: Options,
    ) -> tuple[tuple[str, Any], ...]:
        if raw is None:
            raise self.fail(line, "a rule needs 'to'")
        if isinstance(raw, str):
            if transform.outputs != ("value",):
                raise self.fail(
                    self.finder.key("to", line),
                    f"{transform.name} has outputs "
                    f'{list(transform.outputs)}: write to = {{ name = "..." }}',
                )
            named = {"value": raw}
        elif isinstance(raw, dict):
            named = raw
        else:
            raise self.fail(self.finder.key("to", line), "'to' must be a string or a table")
        unknown = set(named) - set(transform.outputs)
        if unknown:
            raise self.fail(
                self.finder.key("to", line),
                f"{transform.name} has no output(s) "
                f"{sorted(unknown)}; its outputs: {list(transform.outputs)}",
            )
        result = []
        for name, text in named.items():
            if direction == "outbound":
                result.append((name, self.payload_key(text, line)))
                continue
            target = self.target(text, model, line)
            allowed = enum_values(target.annotation)
            vocab_name = getattr(options, "vocab", None)
            if allowed is not None and transform.name == "vocab" and vocab_name:
                bad = set(self.vocabularies[vocab_name].canonical_values) - allowed
                if bad:
                    raise self.fail(
                        self.finder.key("to", line),
                        f"vocabulary {vocab_name} has "
                        f"canonical values {sorted(bad)} that {target.text} cannot "
                        f"hold (valid: {sorted(allowed)})",
                    )
            result.append((name, target))
        return tuple(result)

    def types(self, raw: Any, transform: Transform, line: int) -> tuple[tuple[str, str], ...]:
        if raw is None:
            return ()
        named = raw if isinstance(raw, dict) else {transform.inputs[0]: raw}
        for name, kind in named.items():
            if kind not in JSON_TYPES or name not in transform.inputs:
                where = self.finder.key("type", line)
                raise self.fail(
                    where, f"bad type {kind!r} for input {name!r} (types: {sorted(JSON_TYPES)})"
                )
        return tuple(named.items())


def _strings(raw: Any, key: str, compiler: _Compiler) -> list[str]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise compiler.fail(compiler.finder.key(key), f"{key!r} must be a list of strings")
    return raw


def _outbound_target(name: str, raw: Any, compiler: _Compiler) -> OutboundTarget:
    header = f"outbound.{name}"
    line = compiler.finder.table(header)
    if not isinstance(raw, dict):
        raise compiler.fail(line, f"[{header}] must be a table")
    unknown = set(raw) - TARGET_KEYS
    if unknown:
        raise compiler.fail(line, f"unknown key(s) {sorted(unknown)}; valid: {sorted(TARGET_KEYS)}")
    nulls = raw.get("nulls", "omit")
    if nulls not in ("empty_string", "null", "omit"):
        raise compiler.fail(compiler.finder.key("nulls", line), "nulls: empty_string|null|omit")
    rules = tuple(
        compiler.rule(r, header + ".field", "outbound", OutboundInput) for r in raw.get("field", [])
    )
    allowed = frozenset(_strings(raw.get("allowed"), "allowed", compiler))
    for rule in rules:
        keys = [rule.list_target] if rule.each else [k for _, k in rule.outputs]
        keys += [f"{rule.list_target}.{k}" for item in rule.items for _, k in item.outputs]
        for key in keys:
            if key not in allowed:
                raise compiler.fail(
                    rule.line,
                    f"payload field {key!r} is not in the allow-list "
                    f"of {header} (add it to 'allowed' if it may leave)",
                )
    return OutboundTarget(
        name=name,
        label=str(raw.get("label", name)),
        envelope=raw.get("envelope"),
        as_list=bool(raw.get("as_list", False)),
        nulls=nulls,
        allowed=allowed,
        rules=rules,
    )


def load_spec(kind: str, folder: Path) -> MappingSpec:
    file = folder / f"{kind}.toml"
    if not file.is_file():
        raise MappingLoadError(file, 0, f"no mapping file for source kind {kind!r}")
    vocabularies = load_vocabularies(folder / "vocab")
    text = file.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MappingLoadError(file, 0, f"not valid TOML: {exc}") from exc
    compiler = _Compiler(file, text, vocabularies)
    unknown = set(data) - TOP_KEYS
    if unknown:
        first = sorted(unknown)[0]
        raise compiler.fail(compiler.finder.key(first), f"unknown key(s) {sorted(unknown)}")
    if data.get("kind", kind) != kind:
        raise compiler.fail(compiler.finder.key("kind"), f"kind must be {kind!r}")
    rules = tuple(compiler.rule(r, "inbound", "inbound", Child) for r in data.get("inbound", []))
    require_any = tuple(
        compiler.target(t, Child, compiler.finder.key("require_any"))
        for t in _strings(data.get("require_any"), "require_any", compiler)
    )
    ignore = tuple(_strings(data.get("ignore"), "ignore", compiler))
    outbound_raw = data.get("outbound", {})
    outbound = {name: _outbound_target(name, raw, compiler) for name, raw in outbound_raw.items()}
    return MappingSpec(
        kind=kind,
        system=str(data.get("system", kind)),
        label=str(data.get("label", kind)),
        file=file,
        rules=rules,
        require_any=require_any,
        ignore=ignore,
        outbound=outbound,
        vocabularies=vocabularies,
        read_pointers=frozenset(compiler.read),
        require_any_sources=_sources_of(rules, require_any),
    )


def _sources_of(rules: tuple[Rule, ...], targets: tuple[Target, ...]) -> tuple[str, ...]:
    wanted = {t.keys for t in targets}
    sources: list[str] = []
    for rule in rules:
        if any(getattr(t, "keys", None) in wanted for _, t in rule.outputs):
            sources += [i.text for i in rule.inputs if i.text not in sources]
    return tuple(sources)
