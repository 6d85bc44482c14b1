"""`bridge serve` as a real process, for the process-level service tests: a configuration
for a sandbox in this test process, the process started on a free port and stopped by a
signal, its sync runs read from the store, and a gate that holds a sync mid-run."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import IO, Any

import httpx
from sqlalchemy import select

from adapters.primero import IDENTIFIER_FILTERS
from bridge.sandbox import SandboxHandle
from bridge.store.db import Store
from bridge.store.schema import SyncRunRow
from tests.referrals.helpers import RULES_TOML
from tests.service.helpers import wait_for

REPO = Path(__file__).resolve().parents[2]
PRIMERO_ENV, OSCAR_ENV = "TEST_SERVE_PRIMERO_PASSWORD", "TEST_SERVE_OSCAR_PASSWORD"
DONE = ("ok", "attention")  # a sync run that ran to its end


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(
    path: Path,
    sb: SandboxHandle,
    db_url: str,
    *,
    sync: str,
    deliver: str | None = None,
    lease_seconds: float = 10.0,
) -> Path:
    """A configuration for ``bridge serve`` against the sandbox: both sources, a schedule, and
    referral routing in both directions with short waits (a test's time scale). A lease
    outlives an attempt (a feed read, a look-up and a send of ``timeout_seconds`` each): a
    shorter one would let a second worker send a row whose first attempt is still on its way."""
    schedule = [f'sync = "{sync}"'] + ([f'deliver = "{deliver}"'] if deliver else [])
    path.write_text(
        f"""
[database]
url = "{db_url}"

[schedule]
{chr(10).join(schedule)}

[service]
max_sync_age_minutes = 5

[logging]
level = "info"

[matching]
estimates = false

[referrals]
max_attempts = 20
backoff_initial_seconds = 0.05
backoff_max_seconds = 0.5
lease_seconds = {lease_seconds}
workers = 4
timeout_seconds = 2
referee_phone = "023 000 000"

{RULES_TOML}
[[sources]]
name = "primero"
kind = "primero"
base_url = "{sb.primero_url}"
username = "{sb.primero_user}"
password_env = "{PRIMERO_ENV}"
max_attempts = 2
timeout_seconds = 30

[[sources]]
name = "oscar"
kind = "oscar"
base_url = "{sb.oscar_url}"
email = "{sb.oscar_email}"
password_env = "{OSCAR_ENV}"
max_attempts = 2
timeout_seconds = 30
""",
        encoding="utf-8",
    )
    return path


class Serve:
    """One `bridge --config FILE serve --port N` process, its stderr kept in a file."""

    def __init__(
        self, config: Path, sb: SandboxHandle, log: Path, *, database: Path | None = None
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        env = {
            **os.environ,
            PRIMERO_ENV: sb.primero_password,
            OSCAR_ENV: sb.oscar_password,
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("BRIDGE_DATABASE_URL", None)  # the configuration file says which database
        env.pop("BRIDGE_CONFIG", None)
        cmd = [sys.executable, "-m", "cli", "--config", str(config), "serve"]
        cmd += ["--host", "127.0.0.1", "--port", str(self.port)]
        if database is not None:
            cmd += ["--database", str(database)]
        self._err: IO[bytes] = open(log, "wb")  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(
            cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=self._err
        )
        self.client = httpx.Client(base_url=self.url, timeout=30)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def tail(self, chars: int = 3000) -> str:
        self._err.flush()
        return self.log.read_text(encoding="utf-8", errors="replace")[-chars:]

    def get(self, path: str) -> httpx.Response:
        return self.client.get(path)

    def wait_up(self, timeout: float = 30.0) -> None:
        def answers() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"bridge serve exited {self.proc.returncode}:\n{self.tail()}")
            try:
                return self.get("/healthz").status_code == 200
            except httpx.TransportError:
                return False

        assert wait_for(answers, timeout=timeout, every=0.1), f"no /healthz:\n{self.tail()}"

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        """Send ``sig`` and wait for the process to end; its exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
            raise AssertionError(f"bridge serve did not stop on {sig!r}:\n{self.tail()}") from None

    def kill9(self) -> int:
        """SIGKILL, then reap the process (a zombie would still answer ``kill(pid, 0)``)."""
        self.proc.send_signal(signal.SIGKILL)
        return self.proc.wait(timeout=10)

    def close(self) -> None:
        self.client.close()
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self._err.close()


@contextmanager
def serving(*procs: Serve) -> Iterator[tuple[Serve, ...]]:
    try:
        yield procs
    finally:
        for proc in procs:
            proc.close()


def sync_runs(store: Store) -> list[SyncRunRow]:
    with store.session() as session:
        rows = list(
            session.scalars(
                select(SyncRunRow).where(SyncRunRow.command == "sync").order_by(SyncRunRow.id)
            )
        )
        session.expunge_all()
        return rows


def done_runs(store: Store) -> list[SyncRunRow]:
    return [r for r in sync_runs(store) if r.status in DONE]


def assert_disjoint(runs: list[SyncRunRow], slack: timedelta = timedelta(0)) -> None:
    """No two runs that did work (held the run lock) overlap in time. A run found ``locked``
    did no work; an ``interrupted`` one counts up to when its lock was taken over."""
    worked = sorted(
        (r for r in runs if r.status != "locked" and r.finished_at is not None),
        key=lambda r: r.started_at,
    )
    for before, after in zip(worked, worked[1:], strict=False):
        assert after.started_at >= before.finished_at - slack, (
            f"sync runs {before.id} ({before.started_at} .. {before.finished_at}) and "
            f"{after.id} (from {after.started_at}) overlap"
        )


class SyncGate:
    """Holds the sync's page reads of Primero's case list (not the look-ups the referral
    delivery makes with an identifier filter) until opened: the process whose sync waits on
    it is certainly mid-run, holding the run lock."""

    def __init__(self, sb: SandboxHandle) -> None:
        self._app: Any = next(s.app for s in sb._servers if s.url == sb.primero_url)
        self._cond = threading.Condition()
        self._closed = False
        self.held = 0
        original: Callable[[Any], Any] = self._app.dispatch

        def dispatch(request: Any) -> Any:
            if self._is_sync_page(request):
                with self._cond:
                    if self._closed:
                        self.held += 1
                        self._cond.notify_all()
                        self._cond.wait_for(lambda: not self._closed)
                        self.held -= 1
            return original(request)

        self._app.dispatch = dispatch

    @staticmethod
    def _is_sync_page(request: Any) -> bool:
        return (
            request.method == "GET"
            and request.path == "/api/v2/cases"
            and not set(request.query) & set(IDENTIFIER_FILTERS)
        )

    def close(self) -> None:
        with self._cond:
            self._closed = True

    def open(self) -> None:
        with self._cond:
            self._closed = False
            self._cond.notify_all()

    def wait_until_held(self, timeout: float = 60.0) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: self.held > 0, timeout):
                raise AssertionError(f"no sync reached the gate in {timeout} s")

    def remove(self) -> None:
        self.open()
        self._app.__dict__.pop("dispatch", None)


def settle(
    check: Callable[[], bool],
    timeout: float,
    what: str,
    *procs: Serve,
    state: Callable[[], str] | None = None,
) -> None:
    """Wait for ``check``; on a timeout fail with ``state()`` and the processes' last logs."""
    if not wait_for(check, timeout=timeout, every=0.25):
        logs = "\n".join(f"--- serve {p.pid}:\n{p.tail(1500)}" for p in procs)
        seen = f"\n{state()}" if state is not None else ""
        raise AssertionError(f"{what} (waited {timeout:.0f} s){seen}\n{logs}")
