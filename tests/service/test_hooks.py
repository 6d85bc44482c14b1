"""Webhooks in: a valid signature plans one early sync (debounced); a bad signature, a stale
timestamp or a replay is refused and counted in /metrics; the body is never stored."""

from __future__ import annotations

import json
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bridge.config import Config, HooksConfig
from bridge.service import hooks
from bridge.service.app import service_app
from bridge.store.db import Store
from bridge.store.schema import HookSignatureRow, SyncRunRow
from tests.service.helpers import metric, wait_for

SECRET = "a-shared-secret-for-tests"
BODY = json.dumps({"data": {"record_id": "c-1", "record_type": "case", "name_first": "Sokha"}})


def headers(body: str, *, secret: str = SECRET, at: int | None = None) -> dict[str, str]:
    stamp = int(time.time()) if at is None else at
    return {
        hooks.TIMESTAMP_HEADER: str(stamp),
        hooks.SIGNATURE_HEADER: hooks.sign(secret, stamp, body.encode()),
        "content-type": "application/json",
    }


@pytest.fixture
def client(store: Store, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("BRIDGE_PRIMERO_HOOK_SECRET", SECRET)
    monkeypatch.delenv("BRIDGE_OSCAR_HOOK_SECRET", raising=False)
    config = Config(database_url=store.url, hooks=HooksConfig(debounce_seconds=3600))
    app = service_app(config, store)
    with TestClient(app) as c:
        yield c


def test_a_valid_hook_plans_one_early_sync(client: TestClient, store: Store) -> None:
    first = client.post("/hooks/primero", content=BODY, headers=headers(BODY))
    assert first.status_code == 202 and first.json()["sync"] == "planned"
    other = BODY.replace("c-1", "c-2")
    second = client.post("/hooks/primero", content=other, headers=headers(other))
    assert second.status_code == 202 and second.json()["sync"] == "already planned"
    service = client.app.state.service
    assert service.schedule.early["primero"] == 1  # debounced: one sync for both
    with store.session() as session:
        kept = list(session.scalars(select(HookSignatureRow)))
    assert len(kept) == 2 and all("Sokha" not in row.signature for row in kept)


def test_bad_stale_and_replayed_hooks_are_refused_and_counted(client: TestClient) -> None:
    good = headers(BODY)
    assert client.post("/hooks/primero", content=BODY, headers=good).status_code == 202
    replay = client.post("/hooks/primero", content=BODY, headers=good)
    assert replay.status_code == 409
    forged = client.post("/hooks/primero", content=BODY, headers=headers(BODY, secret="guess"))
    assert forged.status_code == 401
    tampered = client.post("/hooks/primero", content=BODY + " ", headers=headers(BODY))
    assert tampered.status_code == 401
    stale = client.post("/hooks/primero", content=BODY, headers=headers(BODY, at=1_000_000))
    assert stale.status_code == 401
    unsigned = client.post("/hooks/primero", content=BODY)
    assert unsigned.status_code == 401
    no_secret = client.post("/hooks/oscar", content=BODY, headers=headers(BODY))
    assert no_secret.status_code == 503 and "BRIDGE_OSCAR_HOOK_SECRET" in no_secret.text
    assert client.post("/hooks/kobo", content=BODY).status_code == 404
    page = client.get("/metrics").text
    count = {
        result: metric(page, "bridge_webhooks_total", system="primero", result=result)
        for result in ("accepted", "replayed", "bad_signature", "stale")
    }
    assert count == {"accepted": 1, "replayed": 1, "bad_signature": 3, "stale": 1}
    assert metric(page, "bridge_webhooks_total", system="oscar", result="not_configured") == 1


def test_an_early_sync_runs_after_the_debounce(store: Store, monkeypatch, tmp_path) -> None:
    from bridge.demo import sandbox_config
    from bridge.sandbox import start_sandbox

    monkeypatch.setenv("BRIDGE_PRIMERO_HOOK_SECRET", SECRET)
    with start_sandbox(children=20, seed=3) as sb:
        config = sandbox_config(sb, store.url)
        config.hooks = HooksConfig(debounce_seconds=0.5)
        with TestClient(service_app(config, store)) as client:
            for n in range(3):
                body = BODY.replace("c-1", f"c-{n}")
                assert (
                    client.post("/hooks/primero", content=body, headers=headers(body)).status_code
                    == 202
                )

            def synced() -> bool:
                with store.session() as session:
                    runs = list(session.scalars(select(SyncRunRow)))
                return any(r.finished_at is not None for r in runs)

            assert wait_for(synced, timeout=60)
            time.sleep(1.0)
    with store.session() as session:
        runs = list(session.scalars(select(SyncRunRow)))
    # three hooks inside the debounce: one early sync, of primero only
    assert len(runs) == 1 and runs[0].command == "sync" and set(runs[0].counts) >= {"primero"}
    assert "oscar" not in runs[0].counts
