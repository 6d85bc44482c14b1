"""`bridge purge`: personal content past its retention period goes, ids and audit stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from bridge.config import RetentionConfig
from bridge.helpdesk.audit import verify_chain
from bridge.referrals.tables import DEAD, DELIVERED, PENDING, REFERRAL, OutboxRow
from bridge.retention import PURGED, plan_purge, purge
from bridge.store.db import Store
from bridge.store.schema import AuditRow, SourceRecordRow
from cli import app
from tests.helpdesk.factory import add_record, child_record

OLD = datetime.now(UTC) - timedelta(days=800)


def outbox(store: Store, key: str, state: str, when: datetime) -> int:
    with store.session() as session:
        row = OutboxRow(
            kind=REFERRAL, source_key=key, source_system="primero", source_record_id="p1",
            state=state, request={"referral": {"service": "x"}, "child": {"names": "Dara"}},
            payload={"given_name": "Dara"}, delivered_at=when if state == DELIVERED else None,
            updated_at=when,
        )  # fmt: skip
        session.add(row)
        session.flush()
        return row.id


@pytest.fixture
def filled(store: Store) -> dict[str, int]:
    gone = child_record("primero", "p-gone")
    gone.disabled = True
    add_record(store, gone)
    add_record(store, child_record("primero", "p-new-gone"))
    add_record(store, child_record("primero", "p-live"))
    with store.session() as session:
        session.execute(update(SourceRecordRow).values(payload={"name_first": "Dara"}))
        session.execute(
            update(SourceRecordRow)
            .where(SourceRecordRow.record_id == "p-gone")
            .values(changed_at=OLD)
        )
        fresh = session.scalars(
            select(SourceRecordRow).where(SourceRecordRow.record_id == "p-new-gone")
        ).one()
        fresh.canonical = {**fresh.canonical, "disabled": True}  # deleted at source, lately
    return {
        "old_delivered": outbox(store, "a", DELIVERED, OLD),
        "new_delivered": outbox(store, "b", DELIVERED, datetime.now(UTC)),
        "old_dead": outbox(store, "c", DEAD, OLD),
        "pending": outbox(store, "d", PENDING, OLD),
    }


def test_dry_run_counts_and_changes_nothing(
    store: Store, filled: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIDGE_DATABASE_URL", store.engine.url.render_as_string(False))
    result = CliRunner().invoke(app, ["purge", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "would remove: 1 raw payload" in result.output
    assert "1 delivered referral payload" in result.output and "1 dead letter" in result.output
    with store.session() as session:
        assert session.scalars(select(SourceRecordRow.payload_hash)).all().count(PURGED) == 0
        assert session.get(OutboxRow, filled["old_dead"]) is not None
        assert not session.scalars(select(AuditRow).where(AuditRow.action == "purge")).all()


def test_purge_removes_content_keeps_ids_and_is_audited(
    store: Store, filled: dict[str, int]
) -> None:
    with store.session() as session:
        plan = purge(session, plan_purge(session, RetentionConfig()), by="ops")
    assert plan.counts() == {
        "deleted_records_payloads": 1, "delivered_outbox_payloads": 1, "dead_letters": 1,
    }  # fmt: skip
    with store.session() as session:
        records = {r.record_id: r for r in session.scalars(select(SourceRecordRow))}
        assert records["p-gone"].payload == {} and records["p-gone"].payload_hash == PURGED
        assert records["p-new-gone"].payload and records["p-live"].payload
        old = session.get(OutboxRow, filled["old_delivered"])
        assert old.payload is None and "child" not in old.request and old.state == DELIVERED
        assert old.request["referral"] == {"service": "x"}  # the report still counts it
        assert session.get(OutboxRow, filled["new_delivered"]).payload
        assert session.get(OutboxRow, filled["old_dead"]) is None
        assert session.get(OutboxRow, filled["pending"]).payload  # never touched
        audit = session.scalars(select(AuditRow).where(AuditRow.action == "purge")).one()
        assert audit.actor == "ops" and audit.details["dead_letters"] == 1
        assert "Dara" not in str(audit.details)
        assert verify_chain(session).intact
        assert plan_purge(session, RetentionConfig()).empty  # a second purge finds nothing
