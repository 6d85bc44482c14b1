"""The helpdesk commands through the command line, on a store filled by hand."""

from __future__ import annotations

import csv
import io
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cli import app
from tests.helpdesk.factory import add_record, add_review, child_record

runner = CliRunner()


@pytest.fixture
def cli_store(store, monkeypatch):
    monkeypatch.delenv("BRIDGE_CONFIG", raising=False)
    monkeypatch.setenv("BRIDGE_DATABASE_URL", store.url)
    a = add_record(store, child_record("primero", "p1", ids={"primero_case_id": "c1"}))
    b = add_record(store, child_record("oscar", "o1", "Dara", "Sokh", location="01020304"))
    review = add_review(store, "primero:p1", "oscar:o1", 0.71)
    return {"a": a, "b": b, "review": review}


def run(*args: str):
    return runner.invoke(app, list(args))


def test_review_list_formats(cli_store) -> None:
    out = run("review", "list", "--format", "csv")
    assert out.exit_code == 0
    rows = list(csv.reader(io.StringIO(out.stdout)))
    assert rows == [
        ["system_a", "record_id_a", "system_b", "record_id_b", "score"],
        ["oscar", "o1", "primero", "p1", "0.7100"],
    ]
    assert run("review", "export").stdout == out.stdout  # same rows as the export
    data = json.loads(run("review", "list", "--format", "json").stdout)
    assert data[0]["id"] == cli_store["review"] and set(data[0]["provinces"]) == {"01", "12"}
    assert json.loads(run("review", "list", "-f", "json", "--province", "5").stdout) == []
    assert json.loads(run("review", "list", "-f", "json", "--min-score", "0.8").stdout) == []
    assert json.loads(run("review", "list", "-f", "json", "--older-than", "3").stdout) == []
    table = run("review", "list", "--system", "oscar", "--oldest-first")
    assert "1 open review item(s)" in table.stdout


@pytest.mark.parametrize("missing", ["--by", "--reason"])
def test_decision_without_by_or_reason_exits_2(cli_store, missing) -> None:
    args = {"--by": "sokha", "--reason": "ticket 4"}
    args.pop(missing)
    flat = [x for pair in args.items() for x in pair]
    out = run("review", "merge", str(cli_store["review"]), *flat)
    assert out.exit_code == 2
    assert missing in out.stderr and "required" in out.stderr
    assert run("undo", "1", *flat).exit_code == 2
    assert run("children", "split", cli_store["a"], "primero:p1", *flat).exit_code == 2


def test_show_needs_by_and_shows_side_by_side(cli_store) -> None:
    assert run("children", "show", cli_store["a"]).exit_code == 2
    out = run("review", "show", str(cli_store["review"]), "--by", "sokha")
    assert out.exit_code == 0, out.output
    assert "primero:p1" in out.stdout and "oscar:o1" in out.stdout
    assert "given_name" in out.stdout  # the evidence


def test_merge_undo_and_audit_through_the_cli(cli_store) -> None:
    merged = run("review", "merge", str(cli_store["review"]), "--by", "sokha", "--reason", "t1")
    assert merged.exit_code == 0, merged.output
    shown = run("children", "show", cli_store["b"], "--by", "auditor")
    assert f"is an alias of {cli_store['a']}" in shown.stdout
    assert run("undo", "1", "--by", "sokha", "--reason", "t2").exit_code == 0
    refused = run("undo", "1", "--by", "sokha", "--reason", "t3")
    assert refused.exit_code == 2 and "already undone" in refused.stderr
    audit = json.loads(run("audit", "list", "--child", cli_store["a"], "-f", "json").stdout)
    assert [e["action"] for e in audit] == ["merge", "view_child", "undo"]
    assert audit[1]["details"]["asked_for"] == cli_store["b"]
    assert all(e["actor"] and (e["reason"] or e["action"].startswith("view")) for e in audit)
    assert "auditor" in run("audit", "list", "--by", "auditor").stdout


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    ref=st.text(min_size=1, max_size=30).filter(lambda s: not s.startswith("-")),
    reason=st.text(max_size=40).filter(lambda s: not s.startswith("-")),
)
def test_any_typed_input_is_refused_cleanly(cli_store, ref, reason) -> None:
    out = run("children", "split", cli_store["a"], ref, "--by", "x", "--reason", reason)
    assert out.exit_code in (0, 2)
    assert "Traceback" not in out.output
