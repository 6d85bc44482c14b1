"""`bridge users`: add (password from the environment), list, disable, reset; audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from bridge.store.db import Store
from bridge.store.schema import AuditRow, DeskUserRow
from cli import app


@pytest.fixture
def users(store: Store, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.setenv("BRIDGE_DATABASE_URL", str(store.engine.url))
    monkeypatch.setenv("BRIDGE_USER", "ops-lead")
    monkeypatch.setenv("BRIDGE_USER_PASSWORD", "a long enough secret")
    return store


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_users_lifecycle(users: Store) -> None:
    assert run("users", "add", "hana", "--role", "helpdesk")[0] == 0
    assert run("users", "add", "vic", "--role", "viewer", "--lang", "km")[0] == 0
    code, out = run("users", "list")
    assert code == 0 and "hana\thelpdesk\tactive\ten" in out and "vic\tviewer\tactive\tkm" in out
    code, out = run("users", "add", "hana")
    assert code == 2 and "exists" in out
    assert run("users", "disable", "hana")[0] == 0
    assert "hana\thelpdesk\tdisabled" in run("users", "list")[1]
    assert run("users", "reset", "hana")[0] == 0
    assert "hana\thelpdesk\tactive" in run("users", "list")[1]
    with users.session() as session:
        rows = session.scalars(select(AuditRow).order_by(AuditRow.id)).all()
        actions = [(r.action, r.actor, r.details["via"]) for r in rows]
        stored = session.scalars(select(DeskUserRow.password_hash)).all()
    assert actions == [
        ("user_add", "ops-lead", "cli"),
        ("user_add", "ops-lead", "cli"),
        ("user_disable", "ops-lead", "cli"),
        ("user_reset", "ops-lead", "cli"),
    ]
    assert all("a long enough secret" not in h for h in stored)


def test_bad_role_short_password_and_unknown_user_are_refused(
    users: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run("users", "add", "x", "--role", "root")[0] == 2
    monkeypatch.setenv("BRIDGE_USER_PASSWORD", "short")
    code, out = run("users", "add", "hana")
    assert code == 2 and "at least" in out
    code, out = run("users", "disable", "nobody")
    assert code == 2 and "no user" in out
