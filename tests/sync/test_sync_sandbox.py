"""The whole path over real HTTP: sandbox servers on loopback, adapters, store, mapping, links."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bridge.reports import children_export_rows
from bridge.runlock import run_lock
from bridge.sandbox import start_sandbox
from bridge.sandbox.oscar import complete as oscar_feed_serves
from bridge.store.db import open_store
from bridge.store.schema import SourceRecordRow, SyncRunRow
from bridge.sync import EXIT_ATTENTION, run_sync
from tests.gate import gated
from tests.sync.helpers import sandbox_config, snapshot, write_config


@pytest.fixture(scope="module")
def sandbox():
    with start_sandbox(children=1600, seed=11) as sb:
        yield sb


def stored_ids(store, system: str) -> set[str]:
    with store.session() as session:
        return set(
            session.scalars(
                select(SourceRecordRow.record_id).where(SourceRecordRow.system == system)
            )
        )


def test_more_than_1000_changed_cases_in_one_window_all_arrive(sandbox, store, db_url) -> None:
    config = sandbox_config(sandbox, db_url)
    first = run_sync(config, store)
    assert first.status in ("ok", "attention")
    assert len(sandbox.primero.cases) > 1000
    assert stored_ids(store, "primero") == set(sandbox.primero.cases)
    # then more than 1000 cases change within one window: every one comes in the next sync
    changed = sorted(sandbox.primero.cases)[:1100]
    for case_id in changed:
        sandbox.primero.update_case(case_id, {"workflow": "case_plan", "age": 9})
    second = run_sync(config, store)
    primero = next(s for s in second.sources if s.source == "primero")
    assert primero.counts.changed == 1100
    with store.session() as session:
        rows = session.scalars(
            select(SourceRecordRow).where(SourceRecordRow.record_id.in_(changed))
        ).all()
        assert {r.record_id for r in rows} == set(changed)
        assert all(r.payload["age"] == 9 for r in rows)


def test_second_sync_with_nothing_changed_changes_nothing(sandbox, store, db_url) -> None:
    config = sandbox_config(sandbox, db_url)
    run_sync(config, store)
    before = snapshot(store)
    with store.session() as session:
        runs_before = session.scalar(select(func.count()).select_from(SyncRunRow))
    again = run_sync(config, store)
    after = snapshot(store)
    assert after["records"] == before["records"]
    assert after["links"] == before["links"]
    assert after["children"] == before["children"]
    for source in again.sources:
        assert source.counts.new == 0 and source.counts.changed == 0
        assert source.counts.links.linked == 0
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(SyncRunRow)) == runs_before + 1


def test_every_record_belongs_to_a_child(sandbox, store, db_url) -> None:
    run_sync(sandbox_config(sandbox, db_url), store)
    with store.session() as session:
        exported = list(children_export_rows(session))
        mapped = session.scalar(
            select(func.count())
            .select_from(SourceRecordRow)
            .where(SourceRecordRow.state == "mapped")
        )
    assert len(exported) == mapped
    assert all(child_id.startswith("KH-") for *_, child_id in exported)
    systems = {system for system, *_ in exported}
    assert systems == {"primero", "oscar"}


def test_exact_identifiers_link_at_once(sandbox, store, db_url) -> None:
    case_id = sorted(sandbox.primero.cases)[0]
    gid = sorted(sandbox.oscar.clients)[0]
    sandbox.oscar.update_client(gid, {"external_id": sandbox.primero.cases[case_id]["case_id"]})
    run_sync(sandbox_config(sandbox, db_url), store)
    with store.session() as session:
        ids = {(s, r): c for s, r, c in children_export_rows(session)}
    assert ids[("primero", case_id)] == ids[("oscar", gid)]


def test_sync_refused_while_another_holds_the_lock(sandbox, store, db_url, tmp_path) -> None:
    config = sandbox_config(sandbox, db_url)
    cfg = tmp_path / "bridge.toml"
    write_config(config, cfg)
    with run_lock(store, run_id=999):
        done = subprocess.run(
            [sys.executable, "-m", "cli", "--config", str(cfg), "sync", "--quiet"],
            capture_output=True,
            text=True,
            env=os.environ.copy(),
            timeout=120,
        )
    assert done.returncode == 4
    assert "another sync is running" in done.stderr


def test_two_syncs_started_together_one_runs(sandbox, store, db_url, tmp_path) -> None:
    """Both start while the sandbox holds every request: the one with the lock is stuck on the
    sandbox, so the other must give up at once (exit 4) before anything is answered. A broken
    run lock leaves both stuck at the gate, and the test fails on the first wait."""
    config = sandbox_config(sandbox, db_url, page_size=50)
    cfg = tmp_path / "bridge.toml"
    write_config(config, cfg)
    cmd = [sys.executable, "-m", "cli", "--config", str(cfg), "sync", "--quiet"]
    procs: list[subprocess.Popen] = []
    try:
        with gated(sandbox) as gate:
            gate.close_after(0)
            procs = [
                subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                for _ in range(2)
            ]
            gate.wait_until_held()
            refused = _first_to_exit(procs, timeout=60)
            said = refused.stderr.read()
            assert refused.returncode == 4, said
            assert "another sync is running" in said
            running = next(p for p in procs if p is not refused)
            assert running.poll() is None, "the lock holder finished while the sandbox held it"
        assert running.wait(timeout=300) in (0, EXIT_ATTENTION), running.stderr.read()
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
    assert stored_ids(store, "primero") == set(sandbox.primero.cases)


def _first_to_exit(procs: list[subprocess.Popen], timeout: float) -> subprocess.Popen:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for proc in procs:
            if proc.poll() is not None:
                return proc
        time.sleep(0.05)
    raise AssertionError(f"neither sync exited in {timeout} s: both are waiting on the sandbox")


def test_sync_killed_mid_run_then_rerun_equals_uninterrupted(sandbox, tmp_path, db_url) -> None:
    # uninterrupted reference
    reference_url = f"sqlite:///{tmp_path / 'reference.db'}"
    reference = open_store(reference_url)
    run_sync(sandbox_config(sandbox, reference_url, page_size=100), reference)

    config = sandbox_config(sandbox, db_url, page_size=100)
    cfg = tmp_path / "bridge.toml"
    write_config(config, cfg)
    store = open_store(db_url)
    cmd = [sys.executable, "-m", "cli", "--config", str(cfg), "sync", "--quiet"]
    # three pages of cases go through; the fourth request is held, so the process is
    # certainly mid-run (not finished) when it is killed
    with gated(sandbox, paths=r"^/api/v2/cases$", methods=("GET",)) as gate:
        gate.close_after(3)
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            gate.wait_until_held()
        finally:
            proc.send_signal(signal.SIGKILL)
        assert proc.wait(timeout=30) == -signal.SIGKILL
    interrupted = snapshot(store)
    assert 0 < len(interrupted["records"]) <= 300 < len(snapshot(reference)["records"])
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, EXIT_ATTENTION), done.stderr
    resumed, expected = snapshot(store), snapshot(reference)
    assert resumed["records"] == expected["records"]
    assert resumed["links"] == expected["links"]
    assert resumed["children"] == expected["children"]
    assert resumed["cursors"]["primero"] == expected["cursors"]["primero"]
    reference.close()
    store.close()


def test_corrupt_records_are_quarantined_and_the_rest_synced(db_url, store) -> None:
    with start_sandbox(children=60, seed=5) as sb:
        ids = sorted(sb.primero.cases)
        nameless, bad_date = ids[0], ids[1]
        sb.primero.update_case(
            nameless, {"name_first": None, "name_last": None, "name": "", "name_other": None}
        )
        sb.primero.update_case(bad_date, {"date_of_birth": "22012-01-01"})
        report = run_sync(sandbox_config(sb, db_url), store)
        assert report.exit_code == EXIT_ATTENTION
        primero = next(s for s in report.sources if s.source == "primero")
        assert primero.counts.quarantined == 1
        assert any(nameless in p and "/name" in p for p in primero.counts.problems)
        with store.session() as session:
            rows = {r.record_id: r for r in session.scalars(select(SourceRecordRow))}
        assert rows[nameless].state == "quarantined"
        assert rows[bad_date].state == "mapped"  # unknown date of birth, with a warning
        assert any(i["pointer"] == "/date_of_birth" for i in rows[bad_date].issues)
        assert {r for r, row in rows.items() if row.system == "primero"} == set(sb.primero.cases)
        # OSCaR's feed leaves out clients without names, gender or date of birth (contract)
        served = {gid for gid, c in sb.oscar.clients.items() if oscar_feed_serves(c)}
        assert {r for r, row in rows.items() if row.system == "oscar"} == served


def test_non_json_pages_fail_the_source_keep_the_cursor_and_resume(db_url, store) -> None:
    with start_sandbox(children=40, seed=6) as sb:
        config = sandbox_config(sb, db_url)
        sb.faults.set(rate=1.0, kinds=["html"], paths=r"/api/v2/cases")
        report = run_sync(config, store, source_names=["primero"])
        assert report.exit_code == EXIT_ATTENTION
        assert report.sources[0].error and "primero" in report.sources[0].error
        assert snapshot(store)["cursors"].get("primero") is None
        sb.faults.off()
        report = run_sync(config, store, source_names=["primero"])
        assert report.sources[0].error is None
        assert stored_ids(store, "primero") == set(sb.primero.cases)


def test_cli_import_without_config_file(tmp_path: Path, dev_corpus: Path) -> None:
    env = {**os.environ, "BRIDGE_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    env.pop("BRIDGE_CONFIG", None)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cli",
            "import",
            "primero",
            str(dev_corpus / "primero_cases.json"),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    assert done.returncode in (0, EXIT_ATTENTION), done.stderr
    assert "4700 pulled" in done.stdout
