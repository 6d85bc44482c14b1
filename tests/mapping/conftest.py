"""Fixtures for the mapping tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(
    os.environ.get("BRIDGE_SHARED_DIR", Path(__file__).resolve().parents[2] / ".." / "shared")
)
CORPUS = SHARED / "data" / "khmer-children-dev"


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"dev corpus not found at {CORPUS}")
    return CORPUS
