"""A worker killed with SIGKILL mid-delivery; a restarted one delivers the rest, no duplicate."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

from bridge.sandbox import FAULT_KINDS, start_sandbox
from bridge.store.db import open_store
from tests.gate import gated
from tests.referrals import helpers as h

REPO = Path(__file__).resolve().parents[2]
N = 30
WRITES = r"^(?!/api/v2/tokens|/api/v1/admin_auth)"  # every write but sign-in


def _worker(db: str, sb) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.referrals.kill_worker", db, sb.primero_url, sb.oscar_url],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def _arrived(sb) -> int:
    with sb.oscar.lock, sb.primero.lock:
        return len(sb.oscar.referrals) - N + len(h.primero_rows_from_oscar(sb))


def test_killed_worker_restarted_delivers_the_rest_once(db_url: str) -> None:
    sb = start_sandbox()
    try:
        cases = [h.add_primero_referral(sb, n)[0] for n in range(N)]
        clients = [h.add_oscar_referral(sb, n)[1] for n in range(N)]
        sb.faults.set(0.2, FAULT_KINDS, seed=5, retry_after=1)
        db = db_url
        open_store(db).close()  # migrated before two processes share it
        # the gate lets N // 2 deliveries through, then lets the receivers act on the next
        # ones but holds their answers: the worker is killed with requests the receivers
        # have acted on and it never heard back from (certainly mid-delivery, not finished)
        with gated(sb, paths=WRITES, methods=("POST", "PATCH", "PUT"), hold="after") as gate:
            gate.close_after(N // 2)
            first = _worker(db, sb)
            try:
                gate.wait_until_held(timeout=120)
            finally:
                first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        assert first.returncode == -signal.SIGKILL, "the worker finished before it was killed"
        assert 0 < _arrived(sb) < 2 * N
        second = _worker(db, sb)
        out, err = second.communicate(timeout=120)
        assert second.returncode == 0, err.decode()[-2000:]
        into_oscar = Counter(
            r.get("external_id") for r in sb.oscar.referrals if r.get("external_id")
        )
        assert set(into_oscar) == set(cases) and max(into_oscar.values()) == 1
        rows = Counter(r["oscar_referral_id_a4ac8a5"] for r in h.primero_rows_from_oscar(sb))
        assert set(rows) == {str(c) for c in clients} and max(rows.values()) == 1
    finally:
        sb.stop()
