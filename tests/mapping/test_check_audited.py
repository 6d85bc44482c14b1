"""`bridge mapping check --sample` shows personal data: it writes audit rows under the
children the records are, with who looked (from $BRIDGE_USER), and nothing else."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from bridge.store.db import Store
from bridge.store.schema import AuditRow, SourceRecordRow
from cli import app
from tests.helpdesk.factory import add_record, child_record
from tests.mapping.helpers import primero_case


def test_a_sample_check_is_audited_under_the_children(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    known = primero_case()
    child = add_record(store, child_record("primero", known["id"]))
    unknown = primero_case(id="2f1c6a52-0000-4000-8000-000000000099")
    sample = tmp_path / "cases.json"
    sample.write_text(json.dumps({"data": [known, unknown]}), encoding="utf-8")
    monkeypatch.setenv("BRIDGE_DATABASE_URL", store.engine.url.render_as_string(False))
    monkeypatch.setenv("BRIDGE_USER", "maintainer-1")
    result = CliRunner().invoke(app, ["mapping", "check", "primero", "--sample", str(sample)])
    assert result.exit_code == 0, result.output
    with store.session() as session:
        rows = session.scalars(select(AuditRow).where(AuditRow.action == "mapping_check")).all()
        stored = session.scalar(select(func.count()).select_from(SourceRecordRow))
    assert stored == 1  # the check stored nothing
    assert {r.child_id for r in rows} == {child, None}
    assert all(r.actor == "maintainer-1" and r.details["via"] == "cli" for r in rows)
    assert all("Dara" not in json.dumps(r.details) for r in rows)
