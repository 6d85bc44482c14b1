"""Golden records: survivorship by the declared rules, provenance, and conflicts."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from adapters.errors import ConfigError
from bridge.golden import Source, conflicts, golden_record, load_rules
from bridge.store.db import Store
from bridge.store.schema import AuditRow, SourceRecordRow
from cli import app
from tests.helpdesk.factory import add_record, child_record

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def source(key: str, days: int = 0, **canonical: object) -> Source:
    return Source(key, key.split(":")[0], T0 + timedelta(days=days), dict(canonical))


def test_the_most_precise_birth_khmer_script_and_newest_place_survive() -> None:
    records = [
        source("primero:p1", 1, birth={"value": "2014-01-01", "precision": "year"},
               names={"given": "Sophea", "given_km": None}, location={"code": "12010203"},
               sex="female"),
        source("oscar:o1", 5, birth={"value": "2014-03-09", "precision": "exact"},
               names={"given": "Sophea", "given_km": "សុភា"}, location={"code": "08030201"},
               sex="female"),
        source("oscar:o2", 2, birth={"value": "2014-06-01", "precision": "estimated"},
               names={"given": "Sopheap"}, location={"code": "17010101"}),
    ]  # fmt: skip
    golden = golden_record("KH-1", records).fields
    assert golden["birth"].value["value"] == "2014-03-09"
    assert (golden["birth"].record, golden["birth"].rule) == ("oscar:o1", "precise_birth")
    assert golden["names.given_km"].value == "សុភា" and golden["names.given_km"].rule == "only value"
    assert golden["names.given"].value == "Sophea" and golden["names.given"].rule == "agreed"
    assert golden["location.code"].value == "08030201" and golden["location.code"].rule == "recent"
    assert golden["sex"].value == "female"


def test_a_trusted_source_breaks_a_tie() -> None:
    records = [source("oscar:o1", 9, sex="male"), source("primero:p1", 1, sex="female")]
    chosen = golden_record("KH-1", records).fields["sex"]
    assert (chosen.value, chosen.rule) == ("female", "source:primero")


def test_conflicts_beyond_a_variant() -> None:
    def birth(day: str) -> dict[str, str]:
        return {"value": day, "precision": "exact"}

    clash = [
        source("primero:p1", sex="male", birth=birth("2014-03-09"), status="closed"),
        source("oscar:o1", sex="female", birth=birth("2016-11-20"), status="active"),
    ]
    assert {c.field for c in conflicts("KH-1", clash)} == {"sex", "birth", "status"}
    base = source("primero:p1", sex="male", birth=birth("2014-03-09"), status="open")
    for slip in ("2014-09-03", "2014-03-08", "2014-03-19", "2024-03-09"):
        other = source("oscar:o1", sex="male", birth=birth(slip), status="active")
        assert conflicts("KH-1", [base, other]) == [], slip


def test_an_unknown_rule_is_refused_with_its_field(tmp_path: Path) -> None:
    bad = tmp_path / "golden.toml"
    bad.write_text('[fields]\n"sex" = ["loudest"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="fields.sex: unknown rule 'loudest'"):
        load_rules(bad)


def test_export_golden_and_list_conflicts(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    child = add_record(store, child_record("primero", "p1", born=date(2014, 3, 9)))
    add_record(store, child_record("oscar", "o1", born=date(2016, 11, 20)), child_id=child)
    add_record(store, child_record("oscar", "o2", "Vanna", "Chea", km=None))
    monkeypatch.setenv("BRIDGE_DATABASE_URL", store.engine.url.render_as_string(False))
    out = tmp_path / "golden.jsonl"
    runner = CliRunner()
    done = runner.invoke(app, ["children", "export", "--golden", "-o", str(out), "--by", "ops"])
    assert done.exit_code == 0, done.output
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 2 and child in {line["child_id"] for line in lines}
    mine = next(line for line in lines if line["child_id"] == child)
    assert mine["fields"]["birth"]["record"] in ("primero:p1", "oscar:o1")
    listed = runner.invoke(app, ["conflicts", "list", "--format", "json"])
    assert listed.exit_code == 0
    found = json.loads(listed.stdout)
    assert found == [{"child_id": child, "field": "birth", "records": ["oscar:o1", "primero:p1"],
                      "why": "exact dates of birth further apart than a typing slip"}]  # fmt: skip
    assert "2014" not in listed.stdout
    shown = runner.invoke(app, ["children", "show", child, "--by", "hana"])
    assert "golden record" in shown.output and "conflict: birth" in shown.output
    with store.session() as session:
        assert session.scalars(select(AuditRow).where(AuditRow.action == "golden_export")).one()
        assert session.scalars(select(SourceRecordRow)).all()


def test_a_resolved_conflict_sticks_across_a_relink(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy import update

    from bridge.children import new_child
    from bridge.golden import golden_of
    from bridge.store.schema import LinkRow

    child = add_record(store, child_record("primero", "p1", born=date(2014, 3, 9)))
    add_record(store, child_record("oscar", "o1", born=date(2016, 11, 20)), child_id=child)
    monkeypatch.setenv("BRIDGE_DATABASE_URL", store.engine.url.render_as_string(False))
    runner = CliRunner()
    wrong = runner.invoke(
        app, ["conflicts", "resolve", child, "birth", "--record", "oscar:o9",
              "--by", "hana", "--reason", "t1"],
    )  # fmt: skip
    assert wrong.exit_code == 2 and "not one of the conflicting records" in wrong.output
    done = runner.invoke(
        app, ["conflicts", "resolve", child, "birth", "--record", "oscar:o1",
              "--by", "hana", "--reason", "birth certificate seen, ticket 5"],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert json.loads(runner.invoke(app, ["conflicts", "list", "-f", "json"]).stdout) == []
    with store.session() as session:
        golden, _ = golden_of(session, child)
        assert golden.fields["birth"].value["value"] == "2016-11-20"
        assert golden.fields["birth"].rule == "helpdesk"
        assert (
            session.scalars(select(AuditRow).where(AuditRow.action == "resolve_conflict"))
            .one()
            .actor
            == "hana"
        )
    # a relink may give the two records another child id: the answer follows the records
    with store.session() as session:
        fresh = new_child(session, "oscar:o1").child_id
        session.execute(update(LinkRow).values(child_id=fresh))
    with store.session() as session:
        golden, found = golden_of(session, fresh)
        assert golden.fields["birth"].rule == "helpdesk" and found == []
    # a third record joining the disagreement brings the conflict back
    add_record(store, child_record("oscar", "o3", born=date(2011, 1, 2)), child_id=fresh)
    with store.session() as session:
        _, found = golden_of(session, fresh)
        assert [c.field for c in found] == ["birth"]
