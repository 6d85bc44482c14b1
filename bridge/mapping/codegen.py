"""Inbound rules compiled to one Python function per rule list (generated source, ``exec``).

A mapping file's rules, once loaded and checked (``loader``), become straight-line code: per
rule, read the input, test it for emptiness and type, call the transform only when there is
something to transform, and write its outputs where the rule says. The decisions are those of
the closure steps in ``inbound`` (``tests/mapping/test_compiled.py`` maps the corpora both
ways): the same reads, checks, issue messages and pointers, in the same rule order. Rules of
rarer shapes (several inputs, constants, lists) call their closure step from the generated
code. Every value from the mapping file (pointer tokens, field names, options) reaches the
generated code as a named constant, never as source text; each rule's file and line is a
comment above its code (``source`` keeps the text, for reading), and ``rule_at`` reads it back
to name the rule in the message of an exception raised while it ran.
"""

from __future__ import annotations

from collections.abc import Callable
from types import CodeType, TracebackType
from typing import Any

from bridge.mapping.loader import Rule
from bridge.mapping.paths import MISSING, Target, resolve, set_target
from bridge.mapping.source_writer import SourceWriter

Step = Callable[[Any, str, dict[str, Any], Any], None]

# each generated function's source lines, to name the rule an exception came from
_SOURCES: dict[CodeType, list[str]] = {}
_RULE_MARK = "# rule "

_EMPTY = "{v} is None or {v} is MISSING or {v} == '' or {v} == [] or {v} == {{}}"
_PRESENT = "not ({v} is None or {v} is MISSING or {v} == [] or {v} == '')"


class _Writer(SourceWriter):
    def __init__(self, label: str) -> None:
        super().__init__({"MISSING": MISSING, "resolve": resolve, "set_target": set_target})
        self.label = label

    def emit(self, depth: int, line: str) -> None:
        self.lines.append("    " * depth + line)


def _put(w: _Writer, depth: int, target: Target, value: str) -> None:
    """``set_target(out, target, value)`` inline for a scalar field one or two deep."""
    keys = target.keys
    if target.append or len(keys) > 2:
        w.emit(depth, f"set_target(out, {w.const(target, 'T')}, {value})")
    elif len(keys) == 1:
        key = w.const(keys[0])
        w.emit(depth, f"if out.get({key}) is None:")
        w.emit(depth + 1, f"out[{key}] = {value}")
    else:
        first, last = w.const(keys[0]), w.const(keys[1])
        w.emit(depth, f"node = out.setdefault({first}, {{}})")
        w.emit(depth, f"if node.get({last}) is None:")
        w.emit(depth + 1, f"node[{last}] = {value}")


def _call(w: _Writer, depth: int, rule: Rule, name: str, texts: str) -> None:
    """Call the transform on ``v`` and write what it gives."""
    fn, options = w.const(rule.transform.fn, "F"), w.const(rule.options, "O")
    w.emit(depth, f"ctx.base = base; ctx.texts = {texts}")
    w.emit(depth, f"r = {fn}({{{w.const(name)}: v}}, ctx, {options})")
    if rule.transform.outputs == ("value",):
        w.emit(depth, f"if {_PRESENT.format(v='r')}:")
        for _, target in rule.outputs:
            _put(w, depth + 1, target, "r")
        return
    for output, target in rule.outputs:
        w.emit(depth, f"x = r.get({w.const(output)})")
        w.emit(depth, f"if {_PRESENT.format(v='x')}:")
        _put(w, depth + 1, target, "x")


def _one_input_rule(w: _Writer, rule: Rule) -> None:
    (source,) = rule.inputs
    texts = w.const({source.name: source.text}, "P")
    if len(source.tokens) == 1:
        w.emit(1, f"v = rec.get({w.const(source.tokens[0])}, MISSING)")
    else:
        w.emit(1, f"v = resolve(rec, {w.const(source.tokens)})")
    check = next((kind for n, kind in rule.types if n == source.name), None)
    w.emit(1, f"if {_EMPTY.format(v='v')}:")
    if rule.required:
        w.emit(2, f"ctx.base = base; ctx.texts = {texts}")
        w.emit(
            2,
            f"ctx.issues.error(ctx.pointer({w.const(source.name)}), 'missing', "
            "'required field is empty')",
        )
    elif rule.transform.empty_is_nothing:
        w.emit(2, "pass")
    else:
        _call(w, 2, rule, source.name, texts)
    if check is not None:
        from bridge.mapping.inbound import _TYPE_CHECKS

        w.emit(1, f"elif not {w.const(_TYPE_CHECKS[check], 'C')}(v):")
        w.emit(2, f"ctx.base = base; ctx.texts = {texts}")
        w.emit(
            2,
            f"ctx.issues.error(ctx.pointer({w.const(source.name)}), 'wrong_type', "
            f"{w.const('expected ' + check)})",
        )
    w.emit(1, "else:")
    _call(w, 2, rule, source.name, texts)


def generate(rules: tuple[Rule, ...], file_name: str) -> tuple[Step, str]:
    """One function applying ``rules`` in order to a record (or list row) at ``base``; and
    its source text."""
    from bridge.mapping.inbound import _compile_rule

    w = _Writer(file_name)
    shown = "".join(ch if ch.isprintable() else "?" for ch in file_name)  # a comment stays one
    w.emit(0, "def apply(rec, base, out, ctx):")
    w.emit(1, "pass")
    for rule in rules:
        w.emit(1, f"{_RULE_MARK}{shown}:{rule.line}")
        if rule.each is None and len(rule.inputs) == 1 and not rule.has_constant:
            _one_input_rule(w, rule)
        else:
            w.emit(1, f"{w.const(_compile_rule(rule), 'S')}(rec, base, out, ctx)")
    source = "\n".join(w.lines) + "\n"
    namespace = dict(w.names)
    exec(compile(source, f"<mapping {file_name}>", "exec"), namespace)  # noqa: S102
    apply: Step = namespace["apply"]
    _SOURCES[apply.__code__] = w.lines
    return apply, source


def rule_at(tb: TracebackType | None) -> str | None:
    """``file:line`` of the innermost mapping rule running where the traceback ``tb`` passed
    through generated code; None when it did not."""
    found = None
    while tb is not None:
        lines = _SOURCES.get(tb.tb_frame.f_code)
        if lines is not None:
            for line in reversed(lines[: tb.tb_lineno]):
                text = line.strip()
                if text.startswith(_RULE_MARK):
                    found = text[len(_RULE_MARK) :]
                    break
        tb = tb.tb_next
    return found
