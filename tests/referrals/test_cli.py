from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from bridge.referrals.tables import OutboxRow
from bridge.sandbox import start_sandbox
from bridge.store.db import open_store
from bridge.store.schema import AuditRow
from cli import app
from tests.helpdesk.factory import add_record, child_record
from tests.referrals import helpers as h


def test_list_show_retry_replay(tmp_path: Path, db_url: str) -> None:
    db = db_url
    config = tmp_path / "bridge.toml"
    config.write_text(f'[database]\nurl = "{db}"\n', encoding="utf-8")
    sb = start_sandbox()
    try:
        h.add_primero_referral(sb, 1)
        h.add_primero_referral(sb, 2, consent=False)
        store = open_store(db)
        h.run_until_done(store, h.adapters(sb), h.routing(), h.mappings())
    finally:
        sb.stop()
    with store.session() as session:
        sent = session.query(OutboxRow).filter_by(state="delivered", kind="referral").one()
        sent.state, sent.last_error = "dead", "OSCaR HTTP 422: services: is not included"
        sent_id = sent.id
    runner = CliRunner()
    base = ["--config", str(config), "referrals"]
    listed = runner.invoke(app, [*base, "list", "--state", "held"])
    assert listed.exit_code == 0 and "no consent" in listed.stdout
    assert runner.invoke(app, [*base, "list", "--state", "nope"]).exit_code == 2
    masked = json.loads(runner.invoke(app, [*base, "show", str(sent_id)]).stdout)
    assert masked["sent"]["organization"]["given_name"] == "***"
    assert masked["sent"]["organization"]["organization_name"] == "cif"
    # revealing personal data needs a name and leaves an audit row
    assert runner.invoke(app, [*base, "show", str(sent_id), "--reveal"]).exit_code == 2
    shown = runner.invoke(app, [*base, "show", str(sent_id), "--reveal", "--by", "helpdesk-1"])
    revealed = json.loads(shown.stdout)
    assert revealed["sent"]["organization"]["given_name"].startswith("Dara")
    with store.session() as session:
        audit = session.query(AuditRow).filter_by(action="view_referral").one()
        assert audit.actor == "helpdesk-1" and audit.details["outbox_row"] == sent_id
        # under the child's id, so `bridge audit list --child` finds it
        source = session.get(OutboxRow, sent_id).source_record_id
    # once the referred child's record is linked, the row is audited under its child id, so
    # `bridge audit list --child` finds it
    child = add_record(store, child_record("primero", source))
    runner.invoke(app, [*base, "show", str(sent_id), "--reveal", "--by", "helpdesk-2"])
    with store.session() as session:
        again = session.query(AuditRow).filter_by(action="view_referral", actor="helpdesk-2")
        assert again.one().child_id == child
    assert runner.invoke(app, [*base, "show", "999"]).exit_code == 2
    replay = runner.invoke(app, [*base, "replay", "--dead"])
    assert replay.exit_code == 0 and "1 dead letter" in replay.stdout
    with store.session() as session:
        # a 422 was never processed: the row is simply due again
        assert session.get(OutboxRow, sent_id).state == "pending"
    retry = runner.invoke(app, [*base, "retry", str(sent_id)])
    assert retry.exit_code == 0
