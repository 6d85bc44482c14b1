"""The fast path of mapping (compiled rules, the canonical dict built without the model, the
one-encoding screen) decides exactly what the model path does: same canonical child, same
issues with the same pointers, on real corpora and on arbitrary values."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.mapping import load_mapping
from bridge.mapping.issues import Collector
from bridge.mapping.screen import Limits, _walk, screen
from bridge.model import Child
from tests.mapping.helpers import TODAY, oscar_client, primero_case
from tests.mapping.test_property import json_values, record_like

MAPPINGS = {kind: load_mapping(kind) for kind in ("primero", "oscar")}
FILES = {"primero": "primero_cases.json", "oscar": "oscar_clients.json"}


def _issue_dicts(result: Any) -> list[dict[str, str]]:
    return [i.model_dump() for i in [*result.errors, *result.warnings]]


def same_decision(kind: str, payload: Any) -> None:
    mapping = MAPPINGS[kind]
    slow = mapping.inbound(payload, today=TODAY)
    fast = mapping.canonical(payload, today=TODAY)
    expected = slow.child.model_dump(mode="json") if slow.child is not None else None
    assert fast.canonical == expected
    assert [sorted(i.items()) for i in fast.issues] == [
        sorted(i.items()) for i in _issue_dicts(slow)
    ]
    assert fast.errors == len(slow.errors) and fast.warnings == len(slow.warnings)
    if fast.canonical is not None:  # what the store keeps reads back as the same child
        assert Child.model_validate(fast.canonical).model_dump(mode="json") == fast.canonical


def test_dev_corpus_maps_the_same_both_ways(corpus_dir: Path) -> None:
    for kind, name in FILES.items():
        records = json.loads((corpus_dir / name).read_text(encoding="utf-8"))
        for payload in records:
            same_decision(kind, payload)


def test_edge_values_map_the_same_both_ways() -> None:
    cases: list[tuple[str, dict[str, Any]]] = [
        ("primero", primero_case(age="12")),  # a string where the model wants a number
        ("primero", primero_case(name_first=None, name_last=None)),  # no name: an error
        ("primero", primero_case(date_of_birth="22012-01-01", sex="Female ")),
        ("primero", primero_case(location_current=8030201, risk_level="unknown value")),
        ("primero", primero_case(services_section=[{"service_type": "x"}, "not a row"])),
        ("oscar", oscar_client(gender=7, date_of_birth="2014-02-30")),
        ("oscar", oscar_client(given_name="ស" * 1001)),
        ("oscar", oscar_client(family_name="\ud800Sok", nickname=math.nan)),
    ]
    for kind, payload in cases:
        same_decision(kind, payload)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), kind=st.sampled_from(["primero", "oscar"]))
def test_arbitrary_records_map_the_same_both_ways(data: st.DataObject, kind: str) -> None:
    same_decision(kind, data.draw(record_like(kind)))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(["primero", "oscar"]), payload=json_values)
def test_arbitrary_json_maps_the_same_both_ways(kind: str, payload: Any) -> None:
    same_decision(kind, payload)


odd_text = st.one_of(
    st.text(max_size=8),
    st.sampled_from(["\ud800Sok", "\x00", "A" * 1001, "ស" * 70_000, "x" * 201, "\\u0000"]),
)
odd_values = st.recursive(
    st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True), st.integers(), odd_text),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(odd_text, inner, max_size=3),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(["primero", "oscar"]),
    extra=st.dictionaries(odd_text, odd_values, max_size=4),
    depth=st.integers(0, 70),
    max_depth=st.sampled_from([2, 5, 64]),
)
def test_the_quick_screen_finds_what_the_full_walk_finds(
    kind: str, extra: dict[str, Any], depth: int, max_depth: int
) -> None:
    payload: Any = {**(primero_case() if kind == "primero" else oscar_client()), **extra}
    nested: Any = "leaf"
    for _ in range(depth):
        nested = [nested]
    payload["nested"] = nested
    limits = Limits(max_depth=max_depth)
    names = MAPPINGS[kind]._names
    quick, full = Collector(), Collector()
    screen(payload, names, limits, quick)
    _walk(payload, names, limits, full)
    assert quick.errors == full.errors


def test_transforms_that_skip_empty_inputs_make_nothing_of_them() -> None:
    """A rule does not call a transform flagged ``empty_is_nothing`` for an empty input: the
    flag must be true to what the transform does."""
    from bridge.mapping.paths import MISSING
    from bridge.mapping.transforms import REGISTRY
    from tests.mapping.helpers import run

    options = {
        "in_set": {"values": ["a"]},
        "vocab": {"vocab": "sex", "column": "primero"},
        "location_code": {"provinces": "provinces"},
    }
    flagged = [t for t in REGISTRY.values() if t.empty_is_nothing]
    assert {t.name for t in flagged} >= {"text", "vocab", "person_name", "location_code"}
    for transform in flagged:
        for empty in (None, MISSING, "", [], {}):
            for direction in ("inbound", "outbound"):
                result, issues = run(
                    transform.name, empty, direction=direction, options=options.get(transform.name)
                )
                outputs = result.values() if isinstance(result, dict) else [result]
                assert all(v is None or v == [] for v in outputs), (transform.name, empty)
                assert not issues.errors and not issues.warnings and not issues.misses


def test_generated_code_and_closures_decide_the_same(corpus_dir: Path) -> None:
    """The rules run two ways — the generated function the mapping uses, and one closure per
    rule (``compile_rules``, which the generated code calls for rarer rule shapes) — fill the
    same canonical fields with the same issues."""
    from bridge.mapping.inbound import apply_rules, compiled
    from bridge.mapping.transforms import Context

    for kind, name in FILES.items():
        spec = MAPPINGS[kind].spec
        records = json.loads((corpus_dir / name).read_text(encoding="utf-8"))[:1500]
        for payload in [*records, primero_case(age="12"), oscar_client(gender=7)]:
            filled = []
            for generated in (True, False):
                issues = Collector()
                out: dict[str, Any] = {"system": spec.system}
                ctx = Context("inbound", TODAY, issues, spec.vocabularies, spec.label)
                if generated:
                    for step in compiled(spec):
                        step(payload, "", out, ctx)
                else:
                    apply_rules(spec.rules, payload, "", out, ctx)
                filled.append((out, issues.errors, issues.warnings, issues.misses))
            assert filled[0] == filled[1]


def test_a_mapper_bug_names_the_rule_by_file_and_line(monkeypatch: Any) -> None:
    """A transform that raises quarantines the record with an "internal" issue naming the
    exception's kind and the rule (mapping file and line), never the value."""
    import dataclasses

    from bridge.mapping import transforms

    def boom(values: dict[str, Any], ctx: Any, options: Any) -> Any:
        raise ZeroDivisionError("a value")

    broken = dataclasses.replace(transforms.REGISTRY["integer"], fn=boom)
    monkeypatch.setitem(transforms.REGISTRY, "integer", broken)
    mapping = load_mapping("primero")
    rule = next(r for r in mapping.spec.rules if r.transform is broken)
    payload = primero_case(age=12)
    where = f"{mapping.spec.file.name}:{rule.line}"
    for issues in (
        _issue_dicts(mapping.inbound(payload, today=TODAY)),
        mapping.canonical(payload, today=TODAY).issues,
    ):
        (internal,) = [i for i in issues if i["code"] == "internal"]
        assert internal["message"] == (
            f"mapping failed (ZeroDivisionError in the rule at {where}); please report"
        )
        assert "a value" not in internal["message"]
