"""The path `bridge sync` takes: records synced into the store, then route_and_deliver."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge.config import load_config
from bridge.referrals.service import route_and_deliver
from bridge.sandbox import start_sandbox
from bridge.store.db import open_store
from bridge.sync import run_sync
from tests.referrals import helpers as h

CONFIG = (
    """
[database]
url = "{db}"

[[sources]]
name = "primero"
kind = "primero"
base_url = "{primero}"
username = "primero_bridge"
password_env = "TEST_PRIMERO_PASSWORD"

[[sources]]
name = "oscar"
kind = "oscar"
base_url = "{oscar}"
email = "bridge@sandbox.local"
password_env = "TEST_OSCAR_PASSWORD"

[referrals]
backoff_initial_seconds = 0.05
referee_phone = "023 000 000"

"""
    + h.RULES_TOML
)


def test_sync_then_route_and_deliver(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_PRIMERO_PASSWORD", "sandbox-primero")
    monkeypatch.setenv("TEST_OSCAR_PASSWORD", "sandbox-oscar")
    sb = start_sandbox()
    try:
        for n in range(3):
            h.add_primero_referral(sb, n, agency=None)
            h.add_oscar_referral(sb, n)
        file = tmp_path / "bridge.toml"
        file.write_text(CONFIG.format(db=db_url, primero=sb.primero_url, oscar=sb.oscar_url))
        config = load_config(file)
        store = open_store(config.database_url)
        # `bridge sync` routes and delivers as its last step
        report = run_sync(config, store).referrals
        assert report.found == 6 and report.delivery.delivered == 6, report.lines()
        assert len(sb.oscar.referrals) == 6 and len(h.primero_rows_from_oscar(sb)) == 3
        # a second run finds nothing new to send: the scan cursor moved, the keys are unique
        again = route_and_deliver(config, store, None, None)
        assert again.delivery.attempts == 0 and len(sb.oscar.referrals) == 6
        # after the next sync the decisions/links flow back
        back = run_sync(config, store).referrals
        assert back.queued_back == 6 and back.delivery.delivered == 6
        assert len(sb.oscar.links) == 3
    finally:
        sb.stop()
