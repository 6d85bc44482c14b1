"""`bridge children erase`: a child's personal content leaves the store (the file's bytes
too), the id and the audit trail stay, and nothing links the erased records again."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bridge.config import MatchingConfig
from bridge.helpdesk.audit import verify_chain
from bridge.referrals.tables import HELD, PENDING, REFERRAL, OutboxRow
from bridge.relink import relink
from bridge.store.db import Store
from bridge.store.schema import AuditRow, ChildRow, LinkRow, ReviewItemRow, SourceRecordRow
from cli import app
from tests.helpdesk.factory import add_record, add_review, child_record

SECRET = ("Malivexa", "Rothanaqui", "ម៉ាលីវិចសា")


def test_erase_removes_the_content_and_keeps_the_skeleton(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    child = add_record(
        store, child_record("primero", "p1", SECRET[0], SECRET[1], km=SECRET[2],
                            born=date(2013, 4, 27))
    )  # fmt: skip
    add_record(store, child_record("oscar", "o1", SECRET[0], SECRET[1]), child_id=child)
    other = add_record(store, child_record("oscar", "o2", "Vanna", "Chea", km=None))
    review = add_review(store, "primero:p1", "oscar:o2", 0.6)
    with store.session() as session:
        for row in session.scalars(select(SourceRecordRow)):
            row.payload = {"name_first": (row.canonical or {})["names"]["given"]}
        session.add(OutboxRow(kind=REFERRAL, source_key="primero:r1", source_system="primero",
                              source_record_id="p1", child_id=child, state=PENDING,
                              request={"child": {"names": {"given": SECRET[0]}}},
                              payload={"given_name": SECRET[0]}))  # fmt: skip
    monkeypatch.setenv("BRIDGE_DATABASE_URL", store.engine.url.render_as_string(False))
    runner = CliRunner()
    assert runner.invoke(app, ["children", "erase", child, "--by", "dpo"]).exit_code == 2
    result = runner.invoke(
        app, ["children", "erase", child, "--by", "dpo", "--reason", "request 12"]
    )
    assert result.exit_code == 0, result.output
    assert "2 record(s)" in result.output
    with store.session() as session:
        erased = session.scalars(
            select(SourceRecordRow).where(SourceRecordRow.record_id.in_(["p1", "o1"]))
        ).all()
        assert all(r.state == "erased" and r.canonical is None and r.payload == {} for r in erased)
        assert not session.scalars(
            select(LinkRow).where(LinkRow.record_pk.in_([r.id for r in erased]))
        ).all()
        assert session.get(ChildRow, child).state == "erased"
        assert session.get(ReviewItemRow, review).state == "stale"
        referral = session.scalars(select(OutboxRow)).one()
        assert (
            referral.state == HELD and referral.payload is None and "child" not in referral.request
        )
        audit = session.scalars(select(AuditRow).where(AuditRow.action == "erase")).one()
        assert audit.actor == "dpo" and audit.child_id == child
        assert verify_chain(session).intact
    relink(store, MatchingConfig())  # the erased records are never matched again
    with store.session() as session:
        linked = session.scalars(select(LinkRow.child_id)).all()
        assert linked == [other] or set(linked) == {other}
    if store.engine.dialect.name == "sqlite":
        database = Path(store.engine.url.database or "")
        raw = b"".join(
            p.read_bytes() for p in database.parent.glob(database.name + "*") if p.is_file()
        )
        for value in SECRET:
            assert value.encode() not in raw, value
    again = runner.invoke(app, ["children", "erase", child, "--by", "dpo", "--reason", "x"])
    assert again.exit_code == 2 and "erased already" in again.output
