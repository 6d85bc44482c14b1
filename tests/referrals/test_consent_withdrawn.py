"""Consent withdrawn at source: pending, uncertain and dead referrals of that child are held
with the reason, a replay or a delivery run never sends them, what was shared is listed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from bridge.referrals.outbox import (
    WITHDRAWN,
    hold_withdrawn,
    replay_dead,
    reroute_held,
    retry_row,
    shared_before_withdrawal,
)
from bridge.referrals.routing import RoutingConfig
from bridge.referrals.tables import DEAD, DELIVERED, HELD, PENDING, REFERRAL, UNKNOWN, OutboxRow
from bridge.store.db import Store
from bridge.store.schema import SourceRecordRow
from cli import app
from tests.helpdesk.factory import add_record, child_record


def row(store: Store, key: str, record: str, state: str, system: str = "primero") -> int:
    with store.session() as session:
        item = OutboxRow(
            kind=REFERRAL, source_key=key, source_system=system, source_record_id=record,
            state=state, request={"referral": {"consent": True}}, destination_system="oscar",
            destination_org="ngo-a", delivered_at=datetime.now(UTC) if state == DELIVERED else None,
        )  # fmt: skip
        session.add(item)
        session.flush()
        return item.id


def consent(store: Store, record: str, **values: object) -> None:
    with store.session() as session:
        found = session.scalars(
            select(SourceRecordRow).where(SourceRecordRow.record_id == record)
        ).one()
        found.canonical = {**found.canonical, "consent": {"services": True, "disclosure": True,
                                                          **values}}  # fmt: skip


@pytest.fixture
def outbox(store: Store) -> dict[str, int]:
    for record in ("p1", "p2"):
        add_record(store, child_record("primero", record))
        consent(store, record)
    add_record(store, child_record("oscar", "o1"))
    with store.session() as session:
        session.execute(
            update(SourceRecordRow)
            .where(SourceRecordRow.record_id == "o1")
            .values(payload={"referral_consent_form": ["form.pdf"]})
        )
    return {
        "pending": row(store, "a", "p1", PENDING),
        "unknown": row(store, "b", "p1", UNKNOWN),
        "dead": row(store, "c", "p1", DEAD),
        "delivered": row(store, "d", "p1", DELIVERED),
        "other_child": row(store, "e", "p2", PENDING),
        "oscar": row(store, "f", "o1", PENDING, system="oscar"),
    }


def test_nothing_is_held_while_consent_stands(store: Store, outbox: dict[str, int]) -> None:
    with store.session() as session:
        assert hold_withdrawn(session) == []
        assert shared_before_withdrawal(session) == []


def test_a_withdrawal_holds_every_unsent_referral_of_that_child(
    store: Store, outbox: dict[str, int]
) -> None:
    consent(store, "p1", disclosure=False)
    with store.session() as session:
        held = hold_withdrawn(session)
    assert sorted(held) == sorted([outbox["pending"], outbox["unknown"], outbox["dead"]])
    with store.session() as session:
        for name in ("pending", "unknown", "dead"):
            item = session.get(OutboxRow, outbox[name])
            assert item.state == HELD and item.held_reason.startswith(WITHDRAWN)
            assert "disclosure_other_orgs" in item.held_reason
        assert session.get(OutboxRow, outbox["delivered"]).state == DELIVERED
        assert session.get(OutboxRow, outbox["other_child"]).state == PENDING
        # neither a replay, a retry nor routing again sends them
        assert replay_dead(session) == []
        retry_row(session, outbox["pending"])
        reroute_held(session, RoutingConfig())
        assert session.get(OutboxRow, outbox["pending"]).state == HELD
        shared = shared_before_withdrawal(session)
        assert [r.id for r in shared] == [outbox["delivered"]]


def test_an_oscar_client_losing_its_consent_form(store: Store, outbox: dict[str, int]) -> None:
    with store.session() as session:
        session.execute(
            update(SourceRecordRow).where(SourceRecordRow.record_id == "o1").values(payload={})
        )
    with store.session() as session:
        assert hold_withdrawn(session) == [outbox["oscar"]]


def test_the_withdrawn_command_lists_held_and_shared(
    store: Store, outbox: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    consent(store, "p1", services=False)
    monkeypatch.setenv("BRIDGE_DATABASE_URL", store.engine.url.render_as_string(False))
    result = CliRunner().invoke(app, ["referrals", "withdrawn"])
    assert result.exit_code == 0, result.output
    assert (
        "held, not sent (3)" in result.output
        and "shared before the withdrawal (1)" in result.output
    )
    assert "Dara" not in result.output
