"""No record a feed can send stops a sync: each odd one is quarantined, the rest is stored.

Through ``bridge import`` (a file) and a sandbox sync (real HTTP): lone surrogates, huge
strings, deep nesting, wrong types, NaN and Infinity, numbers too long for Python, duplicate
and unusable ids. Every record ends up mapped or quarantined (or kept as an unreadable
entry), the page commits, the run exits 3, and no message quotes a value.
"""

from __future__ import annotations

import json
import math
import uuid
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from typer.testing import CliRunner

from bridge.ingest import stored_payload
from bridge.sandbox import start_sandbox
from bridge.sandbox.generator import generate
from bridge.store.db import Store
from bridge.store.schema import SourceRecordRow
from bridge.sync import EXIT_ATTENTION, run_import, run_sync
from cli import app
from tests.sync.helpers import sandbox_config

DEEP = "__deep__"  # stands for a value nested past any reader's depth, written as text
HUGE_INT = "__huge_int__"  # stands for an integer of more digits than Python converts

runner = CliRunner()


def cases(n: int, seed: int = 5) -> list[dict[str, Any]]:
    """``n`` Primero cases of generated children (some children are in OSCaR only)."""
    corpus = generate(3 * n, seed=seed)
    assert len(corpus.primero_cases) >= n
    return [dict(case) for case in corpus.primero_cases[:n]]


def rows(store: Store, ids: set[str]) -> dict[str, SourceRecordRow]:
    with store.session() as session:
        found = session.scalars(select(SourceRecordRow).where(SourceRecordRow.record_id.in_(ids)))
        return {row.record_id: row for row in found}


# --- the case named in the issue ----------------------------------------------------------------


def test_a_lone_surrogate_in_the_second_record_quarantines_that_record_only(
    tmp_path: Path, db_url: str, store: Store
) -> None:
    records = cases(4)
    records[1]["name_first"] = "\ud800Sok"
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(records), encoding="utf-8")  # the \ud800 escape, as a feed has it

    result = runner.invoke(
        app,
        ["import", "primero", str(path)],
        env={"BRIDGE_DATABASE_URL": db_url},
        catch_exceptions=False,
    )

    assert result.exit_code == EXIT_ATTENTION, result.output
    stored = rows(store, {r["id"] for r in records})
    assert set(stored) == {r["id"] for r in records}
    bad = stored[records[1]["id"]]
    assert bad.state == "quarantined"
    assert [(i["pointer"], i["code"]) for i in bad.issues] == [("/name_first", "invalid_unicode")]
    assert stored_payload(bad.payload)["name_first"] == "\ud800Sok"  # kept whole, for a remap
    assert all(stored[r["id"]].state == "mapped" for r in records if r is not records[1])
    assert records[1]["id"] in result.output  # the message names the record and the field
    assert "/name_first" in result.output
    assert "Sok" not in result.output  # and never the value


def test_a_name_over_the_limit_is_quarantined_with_a_reason(tmp_path: Path, store: Store) -> None:
    records = cases(3)
    records[0]["name_last"] = "A" * 5_000_000
    records[2]["name_first"] = "ស" * 1001
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(records), encoding="utf-8")

    report = run_import(store, system="primero", path=path)

    assert report.exit_code == EXIT_ATTENTION
    stored = rows(store, {r["id"] for r in records})
    assert stored[records[0]["id"]].issues[0]["code"] == "name_too_long"
    assert stored[records[0]["id"]].issues[0]["pointer"] == "/name_last"
    assert stored[records[2]["id"]].issues[0]["code"] == "name_too_long"
    assert stored[records[1]["id"]].state == "mapped"


def test_a_page_the_database_refuses_is_stored_record_by_record(
    tmp_path: Path, store: Store, monkeypatch: Any
) -> None:
    """A record whose row fails at flush (here: a payload the JSON column cannot encode)
    is kept quarantined with the failure's kind; the other records of its page are stored."""
    import bridge.ingest as ingest

    records = cases(5)
    victim = records[2]["id"]
    real = ingest.storable

    def refusing(payload: Any, *args: Any) -> Any:
        if isinstance(payload, dict) and payload.get("id") == victim:
            return {"not JSON": object()}
        return real(payload, *args)

    monkeypatch.setattr(ingest, "storable", refusing)
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(records), encoding="utf-8")

    report = run_import(store, system="primero", path=path)

    assert report.exit_code == EXIT_ATTENTION
    stored = rows(store, {r["id"] for r in records})
    assert set(stored) == {r["id"] for r in records}
    assert stored[victim].state == "quarantined"
    assert stored[victim].issues[0]["code"] == "internal"
    assert stored_payload(stored[victim].payload) == records[2]
    assert all(stored[r["id"]].state == "mapped" for r in records if r["id"] != victim)


# --- arbitrary values ---------------------------------------------------------------------------

lone_surrogates = st.text(st.characters(categories=("Cs",)), min_size=1, max_size=3)
odd_text = st.one_of(
    st.text(max_size=20),
    st.builds(lambda a, b: a + b, lone_surrogates, st.text(max_size=5)),
    st.builds(
        lambda c, n: c * n, st.sampled_from(["A", "ស", "\x00"]), st.sampled_from([1, 1001, 70_000])
    ),
)
leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    odd_text,
    st.just(DEEP),
    st.just(HUGE_INT),
)
values = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(odd_text, inner, max_size=3),
    max_leaves=8,
)
FIELDS = ["name_first", "name_last", "sex", "date_of_birth", "age", "location_current", "id"]
changes = st.lists(
    st.tuples(st.integers(0, 5), st.sampled_from([*FIELDS, "extra"]), values), max_size=8
)
whole_entries = st.lists(st.tuples(st.integers(0, 5), values), max_size=2)  # not records at all


def _text(value: Any) -> str:
    """JSON text, with the markers written as values json.dumps could not write or read."""
    text = json.dumps(value)
    text = text.replace(json.dumps(DEEP), "[" * 1500 + "]" * 1500)
    return text.replace(json.dumps(HUGE_INT), "9" * 5000)


def hostile_page(
    base: list[dict[str, Any]], edits: list, entries: list, tag: str
) -> tuple[str, set[str]]:
    """The page's JSON text and the ids that are usable record ids."""
    records = [dict(r, id=f"{tag}-{i}") for i, r in enumerate(base)]
    for index, name, value in edits:
        records[index][name] = value
    records.append(dict(records[0]))  # a duplicate id in the same page: the last copy wins
    out: list[Any] = list(records)
    for position, value in entries:
        out.insert(position, value)
    ids = {r["id"] for r in records if isinstance(r["id"], str) and r["id"].startswith(tag)}
    return "[" + ", ".join(_text(item) for item in out) + "]", ids


def _no_value_quoted(row: SourceRecordRow) -> None:
    for issue in row.issues:
        message = issue["message"]
        assert len(message) < 300
        assert "\ud800" not in message and "AAAA" not in message and "សស" not in message


def check_stored(store: Store, ids: set[str], report_problems: list[str]) -> None:
    stored = rows(store, ids)
    assert set(stored) == ids  # every record with a usable id is kept
    for row in stored.values():
        assert row.state in ("mapped", "quarantined"), row.state
        if row.state == "quarantined":
            assert row.issues and all(i["pointer"] is not None for i in row.issues)
            _no_value_quoted(row)
        else:
            assert row.canonical is not None
            assert not any(
                isinstance(v, float) and not math.isfinite(v) for v in _leaves(row.canonical)
            )
    for problem in report_problems:
        assert "\ud800" not in problem and "AAAA" not in problem


def _leaves(value: Any) -> list[Any]:
    out, stack = [], [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        else:
            out.append(node)
    return out


BASE = cases(6, seed=9)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(edits=changes, entries=whole_entries)
def test_import_never_crashes_and_keeps_every_record(
    tmp_path: Path, store: Store, edits: list, entries: list
) -> None:
    tag = uuid.uuid4().hex[:10]  # one store for all examples: each its own ids
    text, ids = hostile_page(BASE, edits, entries, tag)
    path = tmp_path / f"{tag}.json"
    path.write_text(text, encoding="utf-8")

    report = run_import(store, system="primero", path=path)

    assert report.status in ("ok", "attention")
    check_stored(store, ids, report.sources[0].counts.problems)
    counts = report.sources[0].counts
    assert counts.pulled == len(BASE) + 1 + len(entries)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(edits=changes)
def test_sync_over_http_never_crashes_and_keeps_every_record(
    db_url: str, store: Store, edits: list
) -> None:
    """The sandbox serves the odd values as a real server's JSON would (deep nesting within
    what a server's encoder writes): the sync stores every case, mapped or quarantined."""
    with start_sandbox(children=6, seed=9) as sandbox:
        case_ids = sorted(sandbox.primero.cases)
        for index, name, value in edits:
            if name == "id" or value in (DEEP, HUGE_INT):
                continue  # the id is the server's; text-only values cannot be served as JSON
            case_id = case_ids[index % len(case_ids)]
            value = _nest(value, 70) if isinstance(value, list) else value
            sandbox.primero.update_case(case_id, {name: value})
        report = run_sync(sandbox_config(sandbox, db_url), store, referrals=False)

    assert report.status in ("ok", "attention"), [s.error for s in report.sources]
    assert all(s.error is None for s in report.sources)
    check_stored(store, set(case_ids), [p for s in report.sources for p in s.counts.problems])


def _nest(value: Any, depth: int) -> Any:
    for _ in range(depth):
        value = [value]
    return value
