"""Shared fixtures. The database is SQLite in a temporary folder unless
``BRIDGE_TEST_DATABASE_URL`` names a PostgreSQL server (``.ci/run`` sets it for the second
pass): then each test gets a fresh database of its own on that server."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from bridge.store.db import Store, open_store

SHARED = Path(
    os.environ.get("BRIDGE_SHARED_DIR", Path(__file__).resolve().parents[1] / ".." / "shared")
).resolve()
DEV_CORPUS = SHARED / "data" / "khmer-children-dev"


@pytest.fixture
def db_url(tmp_path: Path) -> Iterator[str]:
    server = os.environ.get("BRIDGE_TEST_DATABASE_URL")
    if not server:
        yield f"sqlite:///{tmp_path / 'bridge.db'}"
        return
    name = f"bridge_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :n AND pid <> pg_backend_pid()"
                ),
                {"n": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = open_store(db_url)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def dev_corpus() -> Path:
    if not (DEV_CORPUS / "truth.csv").is_file():
        pytest.skip("the shared dev corpus is not next to this checkout")
    return DEV_CORPUS
