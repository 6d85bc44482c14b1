"""Each import, sync and relink keeps the engine's estimates in its run, and ``bridge status``
shows them (table and JSON); switched off by ``[matching] estimates = false``; a failure
while estimating never fails the run."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bridge.config import Config, MatchingConfig
from bridge.relink import relink
from bridge.reports import status
from bridge.sandbox.generator import generate, write_corpus
from bridge.store.db import Store
from bridge.sync import run_import
from cli import app

KEYS = {
    "precision",
    "recall",
    "wrong_merges",
    "unique_children",
    "unique_children_low",
    "unique_children_high",
}
CHILDREN = 300


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    write_corpus(generate(CHILDREN, seed=11), folder)
    return folder


def import_both(store: Store, folder: Path, config: Config | None = None) -> list[int]:
    runs = []
    for system, name in (("primero", "primero_cases.json"), ("oscar", "oscar_clients.json")):
        report = run_import(store, system=system, path=folder / name, config=config)
        runs.append(report.run_id)
    return runs


def test_imports_record_estimates_and_status_shows_them(
    store: Store, corpus_dir: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_both(store, corpus_dir)
    found = status(store).estimates
    assert found is not None and set(found) >= KEYS
    assert found["run_id"] == status(store).runs[0]["id"]  # the newest run's
    assert found["unique_children_low"] <= found["unique_children"]
    assert found["unique_children"] <= found["unique_children_high"]
    assert found["unique_children_low"] <= CHILDREN <= found["unique_children_high"]
    assert found["children"] == status(store).children
    assert 0.9 <= found["precision"] <= 1 and 0 < found["recall"] <= 1
    monkeypatch.setenv("BRIDGE_DATABASE_URL", db_url)
    table = CliRunner().invoke(app, ["status"])
    assert table.exit_code == 0, table.output
    assert "unique children" in table.output and "95%" in table.output
    as_json = CliRunner().invoke(app, ["status", "--format", "json"])
    assert set(json.loads(as_json.output)["estimates"]) >= KEYS


def test_relink_is_a_run_with_estimates(store: Store, corpus_dir: Path) -> None:
    import_both(store, corpus_dir)
    report = relink(store, MatchingConfig())
    last = status(store).runs[0]
    assert last["command"] == "relink" and last["status"] == "ok"
    assert last["counts"]["relink"]["records"] == report.records
    assert set(last["counts"]["estimates"]) >= KEYS


def test_estimates_can_be_switched_off(store: Store, corpus_dir: Path) -> None:
    config = Config(matching=MatchingConfig(estimates=False))
    import_both(store, corpus_dir, config)
    assert status(store).estimates is None


def test_a_failure_while_estimating_leaves_the_run_ok(
    store: Store,
    corpus_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    import bridge.estimates

    def broken(*_args: object, **_kwargs: object) -> None:
        raise MemoryError("Sok Dara 2015-01-01")

    monkeypatch.setattr(bridge.estimates, "compute", broken)
    with caplog.at_level(logging.WARNING):
        import_both(store, corpus_dir)
    assert [r["status"] for r in status(store).runs] == ["ok", "ok"]
    assert status(store).estimates is None
    assert "estimates not computed: MemoryError" in caplog.text
    assert "Sok Dara" not in caplog.text
