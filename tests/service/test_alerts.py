"""Alerts: a failed run sends one mail (to a local SMTP server started here) and one webhook,
and the same cause stays quiet for the configured interval; a source failing runs in a row
and a new dead letter are causes of their own. No alert holds personal data."""

from __future__ import annotations

import json
import socket
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from bridge.config import AlertsConfig, Config, SourceConfig
from bridge.service.alerts import Alert, Alerter
from bridge.service.jobs import Jobs
from bridge.store.db import Store


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(
            {"to": envelope.rcpt_tos, "data": envelope.content.decode("utf-8", "replace")}
        )
        return "250 OK"


@pytest.fixture
def mailbox():
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield box, controller.port
    finally:
        controller.stop()


@pytest.fixture
def hook_receiver():
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("content-length", 0))
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield received, f"http://127.0.0.1:{server.server_address[1]}/alerts"
    finally:
        server.shutdown()
        server.server_close()


def unreachable_source(monkeypatch: pytest.MonkeyPatch) -> SourceConfig:
    monkeypatch.setenv("TEST_ALERT_PRIMERO_PASSWORD", "x")
    return SourceConfig(
        name="primero",
        kind="primero",
        base_url=f"http://127.0.0.1:{free_port()}",  # nothing listens there
        username="u",
        password_env="TEST_ALERT_PRIMERO_PASSWORD",
        max_attempts=1,
        timeout_seconds=2,
    )


def test_a_failed_run_sends_one_mail_and_one_webhook(
    store: Store, mailbox, hook_receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    box, port = mailbox
    received, url = hook_receiver
    alerts = AlertsConfig(
        webhook_url=url,
        smtp_host="127.0.0.1",
        smtp_port=port,
        mail_from="bridge@mosvy.example",
        mail_to=["helpdesk@mosvy.example"],
        failing_runs=3,
        every_minutes=60,
    )
    config = Config(
        database_url=store.url, sources=[unreachable_source(monkeypatch)], alerts=alerts
    )
    jobs = Jobs(config, store)
    assert jobs.sync() == "done"  # the run ends; its source failed
    assert jobs.sync() == "done"  # the same cause again, within the hour: no second alert
    assert len(box.messages) == 1 and len(received) == 1
    assert received[0]["cause"] == "run_failed:sync"
    assert "primero" in received[0]["text"] and "bridge status" in received[0]["text"]
    mail = box.messages[0]
    assert mail["to"] == ["helpdesk@mosvy.example"]
    assert "Subject: bridge: run 1 (sync) failed" in mail["data"]
    # a third failure in a row is a cause of its own
    assert jobs.sync() == "done"
    assert [r["cause"] for r in received] == ["run_failed:sync", "source_failing:primero"]
    assert len(box.messages) == 2


def test_one_alert_per_cause_per_interval(store: Store, hook_receiver) -> None:
    received, url = hook_receiver
    alerter = Alerter(AlertsConfig(webhook_url=url, every_minutes=60), store)
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    alert = Alert("dead_letters", "bridge: 1 new dead letter", "see bridge referrals list")
    assert alerter.send(alert, now=now)
    assert not alerter.send(alert, now=now + timedelta(minutes=59))
    assert alerter.send(Alert("run_failed:sync", "s", "t"), now=now + timedelta(minutes=1))
    assert alerter.send(alert, now=now + timedelta(minutes=61))
    assert [r["cause"] for r in received] == ["dead_letters", "run_failed:sync", "dead_letters"]


def test_no_alert_without_a_destination(store: Store, monkeypatch) -> None:
    config = Config(database_url=store.url, sources=[unreachable_source(monkeypatch)])
    jobs = Jobs(config, store)
    assert jobs.sync() == "done"
    assert jobs.alerter.check(1, ["primero"]) == []
