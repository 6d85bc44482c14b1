"""The fast sync decides what the slow one did, and links a backlog as ``bridge relink`` would.

- The dev corpus imported as the checker imports it (Primero's cases, then OSCaR's clients)
  gives the children, child ids and review items that the code before issue 18 gave
  (``dev_fingerprint.json``, written by that code).
- A backlog of several pages into an empty store is linked in one pass: its children are the
  children ``bridge relink`` makes of the same records, so a relink right after moves no record
  and mints no id.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bridge.config import MatchingConfig
from bridge.relink import relink
from bridge.sandbox import start_sandbox
from bridge.store.db import Store, open_store
from bridge.sync import run_import, run_sync
from cli import app
from tests.core.test_relink_order import child_of_record, partition
from tests.sync.dev_fingerprint import FILE, fingerprint, import_dev_corpus
from tests.sync.helpers import sandbox_config


@pytest.mark.slow
def test_dev_corpus_decisions_are_those_of_the_code_before(dev_corpus: Path, store: Store) -> None:
    import_dev_corpus(store, dev_corpus)
    assert fingerprint(store) == json.loads(FILE.read_text(encoding="utf-8"))


def relinked_moves_nothing(store: Store) -> None:
    before_partition, before_ids = partition(store), child_of_record(store)
    report = relink(store, MatchingConfig())
    assert partition(store) == before_partition
    assert child_of_record(store) == before_ids
    assert report.moved == 0 and report.new_children == 0 and report.merged_children == 0


@pytest.mark.slow
def test_a_backlog_of_pages_is_linked_as_relink_links_it(dev_corpus: Path, store: Store) -> None:
    report = run_import(
        store, system="primero", path=dev_corpus / "primero_cases.json", page_size=1000
    )
    assert report.sources[0].pages == 5
    assert report.backlog is not None and report.backlog.linked == 4700
    assert sum(s.counts.links.linked for s in report.sources) == 0  # no page linked alone
    relinked_moves_nothing(store)


def test_bridge_import_takes_its_page_size_and_prints_the_backlog_pass(
    tmp_path: Path, dev_corpus: Path, db_url: str
) -> None:
    cases = json.loads((dev_corpus / "primero_cases.json").read_text(encoding="utf-8"))[:600]
    path = tmp_path / "cases.json"
    path.write_text(json.dumps(cases), encoding="utf-8")
    result = CliRunner().invoke(
        app,
        ["import", "primero", str(path), "--page-size", "200"],
        env={"BRIDGE_DATABASE_URL": db_url},
        catch_exceptions=False,
    )
    assert result.exit_code in (0, 3), result.output
    assert "file:primero: 600 pulled in 3 page(s)" in result.output
    assert "backlog linked in one pass: 600 records" in result.output


def test_a_first_sync_of_both_systems_is_linked_as_relink_links_it(
    store: Store, db_url: str
) -> None:
    with start_sandbox(children=500, seed=17) as sandbox:
        report = run_sync(sandbox_config(sandbox, db_url, page_size=100), store, referrals=False)
    assert report.status in ("ok", "attention")
    assert sum(s.pages for s in report.sources) > 2
    assert report.backlog is not None and report.backlog.linked > 0
    relinked_moves_nothing(store)


def test_a_later_small_sync_links_page_by_page(store: Store, db_url: str) -> None:
    with start_sandbox(children=300, seed=18) as sandbox:
        config = sandbox_config(sandbox, db_url, page_size=100)
        run_sync(config, store, referrals=False)
        changed = sorted(sandbox.primero.cases)[:30]
        for case_id in changed:
            sandbox.primero.update_case(case_id, {"name_nickname": "Nok"})
        again = run_sync(config, store, referrals=False)
    assert again.backlog is None  # one small page: linked as it is stored
    primero = next(s for s in again.sources if s.source == "primero")
    assert primero.counts.changed == 30


def test_records_left_waiting_by_a_killed_run_are_linked_by_the_next(
    tmp_path: Path, dev_corpus: Path
) -> None:
    """Pages of a backlog commit without links; a run killed before its one-pass link leaves
    them waiting, and the next run links them with its own records: the same children as a
    run that was not killed."""
    import bridge.sync as sync

    cases = json.loads((dev_corpus / "primero_cases.json").read_text(encoding="utf-8"))[:1500]
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    first.write_text(json.dumps(cases[:1000]), encoding="utf-8")
    second.write_text(json.dumps(cases[1000:]), encoding="utf-8")
    whole = tmp_path / "whole.json"
    whole.write_text(json.dumps(cases), encoding="utf-8")

    reference = open_store(f"sqlite:///{tmp_path / 'reference.db'}")
    run_import(reference, system="primero", path=whole, page_size=250)

    killed = open_store(f"sqlite:///{tmp_path / 'killed.db'}")
    real = sync.link_backlog

    def dies(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt  # the process is killed before the one-pass link

    sync.link_backlog = dies  # type: ignore[assignment]
    try:
        with pytest.raises(KeyboardInterrupt):
            run_import(killed, system="primero", path=first, page_size=250)
    finally:
        sync.link_backlog = real
    assert child_of_record(killed) == {}  # stored, mapped, waiting
    report = run_import(killed, system="primero", path=second, page_size=250)
    assert report.backlog is not None and report.backlog.linked == 1500
    assert child_of_record(killed) == child_of_record(reference)
    reference.close()
    killed.close()
