"""A service with a schedule of every two seconds against the sandbox: sync runs happen,
never overlap (in this process or across processes, by the run lock), show in the store as
any run does, and /metrics counts them; /healthz and /readyz answer."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from sqlalchemy import select

from bridge.config import ScheduleConfig, ServiceConfig
from bridge.demo import sandbox_config
from bridge.runlock import run_lock
from bridge.sandbox import start_sandbox
from bridge.service.app import service_app
from bridge.store.db import Store
from bridge.store.schema import SyncRunRow
from tests.service.helpers import metric, wait_for


def finished_syncs(store: Store, *, locked: bool = False) -> list[SyncRunRow]:
    """Sync runs that ran to the end (or, ``locked``, those that found the lock held)."""
    with store.session() as session:
        runs = session.scalars(
            select(SyncRunRow)
            .where(SyncRunRow.command == "sync", SyncRunRow.finished_at.is_not(None))
            .order_by(SyncRunRow.id)
        )
        return [r for r in runs if (r.status == "locked") == locked]


def test_scheduled_syncs_run_never_overlap_and_are_counted(store: Store) -> None:
    with start_sandbox(children=60, seed=5) as sb:
        config = sandbox_config(sb, store.url)
        config.schedule = ScheduleConfig(sync="*/2 * * * * *", deliver="*/3 * * * * *")
        config.service = ServiceConfig(max_sync_age_minutes=5)
        with TestClient(service_app(config, store)) as client:
            assert client.get("/healthz").json() == {"status": "ok"}
            first = client.get("/readyz")
            assert first.status_code in (200, 503)  # 503 until the first sync is done
            assert wait_for(lambda: len(finished_syncs(store)) >= 3, timeout=90)
            # another process holding the run lock: the scheduled runs skip, none overlaps
            with run_lock(store, run_id=None):
                held_from = len(finished_syncs(store))
                time.sleep(4.5)
                during = len(finished_syncs(store))
            assert wait_for(lambda: len(finished_syncs(store)) >= during + 1, timeout=60)
            ready = client.get("/readyz")
            page = client.get("/metrics").text
    runs = finished_syncs(store)
    assert during <= held_from + 1  # at most the one already running when the lock was taken
    assert finished_syncs(store, locked=True), "no scheduled run met the held lock"
    for before, after in zip(runs, runs[1:], strict=False):
        assert after.started_at >= before.finished_at, "two sync runs overlapped"
    assert {r.status for r in runs} <= {"ok", "attention"}
    assert ready.status_code == 200, ready.json()
    assert ready.json()["checks"] == {"database": "ok", "migrations": "ok", "last_sync": "ok"}
    ok = sum(
        metric(page, "bridge_runs_total", command="sync", status=s) or 0
        for s in ("ok", "attention")
    )
    assert ok >= 3
    assert (metric(page, "bridge_jobs_total", job="sync", outcome="skipped_locked") or 0) >= 1
    assert (metric(page, "bridge_jobs_total", job="sync", outcome="done") or 0) >= 3
    assert metric(page, "bridge_records", system="primero", state="mapped") > 0
    assert metric(page, "bridge_last_successful_sync_timestamp_seconds", source="primero")
    assert metric(page, "bridge_children", state="active") > 0


def test_readyz_says_what_is_missing(store: Store) -> None:
    with start_sandbox(children=5, seed=2) as sb:
        config = sandbox_config(sb, store.url)
        config.schedule = ScheduleConfig(sync="0 3 * * *")
        with TestClient(service_app(config, store)) as client:
            answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["checks"]["last_sync"] == "no successful sync yet"
