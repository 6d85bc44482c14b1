"""``bridge demo``: the whole path on the embedded default, for a first look.

Starts the sandbox Primero and OSCaR servers in this process (loopback, ephemeral ports),
seeds them with synthetic children, syncs both into a fresh SQLite database and says what
happened.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bridge.config import Config, MatchingConfig, SourceConfig
from bridge.reports import Status, status
from bridge.store.db import Store, open_store
from bridge.sync import Progress, RunReport, run_sync

PRIMERO_ENV = "BRIDGE_DEMO_PRIMERO_PASSWORD"
OSCAR_ENV = "BRIDGE_DEMO_OSCAR_PASSWORD"


@dataclass
class DemoResult:
    report: RunReport
    status: Status
    store: Store
    served: dict[str, int]


def sandbox_config(
    sandbox: Any, database_url: str, *, page_size: int = 1000, max_attempts: int = 5
) -> Config:
    """A configuration for a running sandbox; its passwords go into environment variables,
    as a real deployment's would."""
    os.environ[PRIMERO_ENV] = sandbox.primero_password
    os.environ[OSCAR_ENV] = sandbox.oscar_password
    return Config(
        database_url=database_url,
        sources=[
            SourceConfig(
                name="primero",
                kind="primero",
                base_url=sandbox.primero_url,
                username=sandbox.primero_user,
                password_env=PRIMERO_ENV,
                page_size=page_size,
                max_attempts=max_attempts,
            ),
            SourceConfig(
                name="oscar",
                kind="oscar",
                base_url=sandbox.oscar_url,
                email=sandbox.oscar_email,
                password_env=OSCAR_ENV,
                max_attempts=max_attempts,
            ),
        ],
        matching=MatchingConfig(),
    )


def run_demo(
    *, children: int, seed: int, database: Path, progress: Progress | None = None
) -> DemoResult:
    from bridge.sandbox import start_sandbox

    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    with start_sandbox(children=children, seed=seed) as sandbox:
        config = sandbox_config(sandbox, f"sqlite:///{database}")
        from bridge.sandbox.oscar import complete

        served = {
            "primero": len(sandbox.primero.cases),
            "oscar": len(sandbox.oscar.clients),
            "oscar_feed": sum(1 for c in sandbox.oscar.clients.values() if complete(c)),
        }
        store = open_store(config.database_url)
        report = run_sync(config, store, progress=progress)
    return DemoResult(report=report, status=status(store), store=store, served=served)


DEMO_USERS = (("demo", "helpdesk"), ("demo-admin", "admin"), ("demo-viewer", "viewer"))


def demo_logins(store: Store) -> str:
    """Desk logins for the demo's database (one per role), all with one fresh random
    password, which is returned: the demo prints it, it is stored only as a hash."""
    import secrets

    from bridge.helpdesk.users import add_user

    password = secrets.token_urlsafe(12)
    with store.session() as session:
        for name, role in DEMO_USERS:
            add_user(session, name, role, password, by="bridge demo")
    return password
