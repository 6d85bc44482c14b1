from __future__ import annotations

import os
from pathlib import Path

import pytest

from dedupe.prepare import Prepared, prepare
from dedupe.records import PersonRecord


def _shared() -> Path:
    env = os.environ.get("BRIDGE_SHARED_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[2] / ".." / "shared"


@pytest.fixture(scope="session")
def dev_records() -> list[PersonRecord]:
    if not (_shared() / "data" / "khmer-children-dev" / "primero_cases.json").exists():
        pytest.skip("shared dev corpus not available")
    from bench.common import load_dev_corpus

    return load_dev_corpus(_shared()).records


@pytest.fixture(scope="session")
def dev_table(dev_records: list[PersonRecord]) -> Prepared:
    return prepare(dev_records)
