"""The audit trail's hash chain: `bridge audit verify` finds a row edited, removed or added
by someone who got past the append-only triggers."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from bridge.helpdesk.audit import record_audit, verify_chain
from bridge.store.db import Store
from cli import app


def trail(store: Store, rows: int = 5) -> None:
    with store.session() as session:
        for n in range(rows):
            record_audit(session, actor=f"u{n}", action="view_child", child_id=f"KH-{n}",
                         reason=None, details={"records": [f"oscar:{n}"], "n": n})  # fmt: skip


def tamper(store: Store, statement: str) -> None:
    """Do what the triggers refuse, as someone with the database file could."""
    with store.engine.begin() as conn:
        if store.engine.dialect.name == "sqlite":
            conn.execute(text("DROP TRIGGER IF EXISTS audit_log_no_update"))
            conn.execute(text("DROP TRIGGER IF EXISTS audit_log_no_delete"))
        else:
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        conn.execute(text(statement))


def verify(store: Store, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    monkeypatch.setenv("BRIDGE_DATABASE_URL", str(store.engine.url.render_as_string(False)))
    result = CliRunner().invoke(app, ["audit", "verify"])
    return result.exit_code, result.output


def test_an_untouched_trail_verifies(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    trail(store)
    with store.session() as session:
        check = verify_chain(session)
    assert check.intact and check.rows == 5
    code, out = verify(store, monkeypatch)
    assert code == 0 and "intact: 5 row(s)" in out


@pytest.mark.parametrize(
    ("statement", "found"),
    [
        ("UPDATE audit_log SET actor = 'someone else' WHERE id = 3", "row 3: its content"),
        ("UPDATE audit_log SET reason = 'x' WHERE id = 2", "row 2: its content"),
        ("DELETE FROM audit_log WHERE id = 2", "row 3: the row before it"),
        ("DELETE FROM audit_log WHERE id = 5", "the chain ends at row 4"),
        ("UPDATE audit_log SET row_hash = NULL WHERE id = 4", "row 4: its hash was removed"),
    ],
)
def test_verify_names_the_altered_row(
    store: Store, monkeypatch: pytest.MonkeyPatch, statement: str, found: str
) -> None:
    trail(store)
    tamper(store, statement)
    code, out = verify(store, monkeypatch)
    assert code == 3 and found in out and "audit trail altered" in out


def test_the_chain_goes_on_across_writers(store: Store) -> None:
    trail(store, 2)
    trail(store, 3)
    with store.session() as session:
        assert verify_chain(session).rows == 5
