"""Subject access: `bridge children export CHILD_ID --subject` writes everything the bridge
holds on that child (and nothing on another), 0600, audited."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bridge.helpdesk.service import merge_review
from bridge.referrals.tables import PENDING, REFERRAL, OutboxRow
from bridge.store.db import Store
from bridge.store.schema import AuditRow
from cli import app
from tests.helpdesk.factory import add_record, add_review, child_record


def test_subject_export_holds_the_child_and_no_other(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_record(store, child_record("primero", "p1"))
    add_record(store, child_record("oscar", "o1", "Dara", "Sokh"))
    add_record(store, child_record("oscar", "o2", "Vanna", "Chea", km=None))
    review = add_review(store, "primero:p1", "oscar:o1", 0.8)
    with store.session() as session:
        child = merge_review(session, review, by="hana", reason="ticket 1").children[0]
        session.add(OutboxRow(kind=REFERRAL, source_key="primero:r1", source_system="primero",
                              source_record_id="p1", child_id=child, state=PENDING,
                              request={"referral": {"service": "x"}}))  # fmt: skip
    monkeypatch.setenv("BRIDGE_DATABASE_URL", store.engine.url.render_as_string(False))
    out = tmp_path / "subject.json"
    result = CliRunner().invoke(
        app, ["children", "export", child, "--subject", "--by", "dpo-1", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["child_id"] == child
    assert {(r["system"], r["record_id"]) for r in document["records"]} == {
        ("primero", "p1"), ("oscar", "o1"),
    }  # fmt: skip
    assert all(r["canonical"] and r["link"] for r in document["records"])
    assert [d["kind"] for d in document["decisions"]] == ["merge"]
    assert [i["id"] for i in document["review_items"]] == [review]
    assert [r["source"] for r in document["referrals"]] == ["primero:r1"]
    assert {a["action"] for a in document["audit"]} >= {"merge"}
    assert "Vanna" not in out.read_text(encoding="utf-8")
    with store.session() as session:
        audit = session.scalars(select(AuditRow).where(AuditRow.action == "subject_export")).one()
    assert audit.actor == "dpo-1" and audit.child_id == child
    missing = CliRunner().invoke(app, ["children", "export", "--subject", "--by", "x"])
    assert missing.exit_code == 2
