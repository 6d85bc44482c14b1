"""`bridge relink` is a function of the records and decisions: not of the order they arrived in,
nor of what was linked before. Child ids carry over, so a repeated relink moves nothing."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from sqlalchemy import select

from bridge.config import MatchingConfig
from bridge.relink import relink
from bridge.sandbox.generator import generate
from bridge.store.db import Store, open_store
from bridge.store.schema import LinkRow, SourceRecordRow
from bridge.sync import run_import


def partition(store: Store) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for key, child_id in child_of_record(store).items():
        groups.setdefault(child_id, set()).add(key)
    return {frozenset(g) for g in groups.values()}


def child_of_record(store: Store) -> dict[str, str]:
    with store.session() as session:
        rows = session.execute(
            select(SourceRecordRow.system, SourceRecordRow.record_id, LinkRow.child_id).join(
                LinkRow, LinkRow.record_pk == SourceRecordRow.id
            )
        )
        return {f"{system}:{record_id}": child_id for system, record_id, child_id in rows}


def import_in_order(store: Store, files: list[tuple[str, Path]]) -> None:
    for system, path in files:
        report = run_import(store, system=system, path=path)
        assert report.status in ("ok", "attention"), report


def write(path: Path, records: list[dict]) -> Path:
    path.write_text(json.dumps({"data": records}), encoding="utf-8")
    return path


def _relinked_twice(store: Store) -> tuple[set[frozenset[str]], dict[str, str]]:
    """Relink, then relink again: the second changes no link and keeps every child id."""
    relink(store, MatchingConfig())
    ids = child_of_record(store)
    again = relink(store, MatchingConfig())
    assert again.moved == 0 and again.new_children == 0
    assert child_of_record(store) == ids
    return partition(store), ids


def test_shuffled_arrivals_relink_to_the_same_children(tmp_path: Path) -> None:
    corpus = generate(400, 21)
    cases, clients = list(corpus.primero_cases), list(corpus.oscar_clients)
    results = []
    for n, seed in enumerate((1, 2, 3)):
        rng = random.Random(seed)
        rng.shuffle(cases)
        rng.shuffle(clients)
        half = len(cases) // 2
        # three orders: interleaved halves of each system, then the other system first
        files = [
            ("primero", write(tmp_path / f"p1-{n}.json", cases[:half])),
            ("oscar", write(tmp_path / f"o-{n}.json", clients)),
            ("primero", write(tmp_path / f"p2-{n}.json", cases[half:])),
        ]
        if seed == 3:
            files = [files[1], files[0], files[2]]
        store = open_store(f"sqlite:///{tmp_path / f'order-{n}.db'}")
        import_in_order(store, files)
        results.append(_relinked_twice(store)[0])
        store.close()
    assert results[0] == results[1] == results[2]
    assert len(results[0]) < len(cases) + len(clients)  # something was linked


@pytest.mark.slow
def test_dev_corpus_imported_in_two_orders_relinks_to_identical_partitions(
    tmp_path: Path, dev_corpus: Path, db_url: str
) -> None:
    primero = ("primero", dev_corpus / "primero_cases.json")
    oscar = ("oscar", dev_corpus / "oscar_clients.json")
    first = open_store(db_url)
    import_in_order(first, [primero, oscar])
    second = open_store(f"sqlite:///{tmp_path / 'oscar-first.db'}")
    import_in_order(second, [oscar, primero])
    before, ids_before = partition(first), child_of_record(first)
    one, ids = _relinked_twice(first)
    two, _ = _relinked_twice(second)
    assert one == two
    # ids carry over: a child whose records relink keeps together keeps its id
    kept = before & one
    assert len(kept) > len(one) // 2, "relink kept few children of the incremental link whole"
    assert all(ids[key] == ids_before[key] for group in kept for key in group)
    first.close()
    second.close()
