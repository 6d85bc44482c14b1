"""A fingerprint of what the bridge decides on the dev corpus: children, ids, review items.

``tests/sync/test_same_decisions.py`` imports the dev corpus as the project's checker does
(``bridge import primero``, then ``bridge import oscar``) and compares the fingerprint with
``dev_fingerprint.json``, which was written by the code before the sync was made fast
(issue 18): the fast path must decide exactly what the slow one did.

When a change to the matching engine (``dedupe/``) is *meant* to change decisions, write the
file again from the code of that change and say so in its commit:

    python -m tests.sync.dev_fingerprint --write
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bridge.store.db import Store, open_store
from bridge.store.schema import ChildRow, LinkRow, ReviewItemRow, SourceRecordRow

FILE = Path(__file__).with_name("dev_fingerprint.json")


def _digest(lines: list[str]) -> str:
    return hashlib.sha256("\n".join(sorted(lines)).encode("utf-8")).hexdigest()


def fingerprint(store: Store) -> dict[str, Any]:
    """Hashes (and sizes) of: the partition of records into children; each record's child id
    and link method; the children's states; the open review pairs; every review item with its
    state; the open review pairs with their scores to four places."""
    with store.session() as session:
        links = list(
            session.execute(
                select(
                    SourceRecordRow.system,
                    SourceRecordRow.record_id,
                    LinkRow.child_id,
                    LinkRow.method,
                ).join(LinkRow, LinkRow.record_pk == SourceRecordRow.id)
            )
        )
        children = list(session.execute(select(ChildRow.child_id, ChildRow.state)))
        reviews = list(
            session.execute(
                select(
                    ReviewItemRow.key_a,
                    ReviewItemRow.key_b,
                    ReviewItemRow.state,
                    ReviewItemRow.score,
                )
            )
        )
        states = list(session.execute(select(SourceRecordRow.state)))
    groups: dict[str, list[str]] = {}
    for system, record_id, child_id, _ in links:
        groups.setdefault(child_id, []).append(f"{system}:{record_id}")
    partition = [" ".join(sorted(keys)) for keys in groups.values()]
    open_pairs = [f"{a} {b}" for a, b, state, _ in reviews if state == "open"]
    return {
        "records": len(states),
        "mapped": sum(1 for (s,) in states if s == "mapped"),
        "children": len(groups),
        "open_reviews": len(open_pairs),
        "review_items": len(reviews),
        "partition": _digest(partition),
        "child_ids": _digest([f"{s}:{r} {c} {m}" for s, r, c, m in links]),
        "child_states": _digest([f"{c} {s}" for c, s in children]),
        "open_review_pairs": _digest(open_pairs),
        "review_items_states": _digest([f"{a} {b} {s}" for a, b, s, _ in reviews]),
        "open_review_scores": _digest(
            [f"{a} {b} {score:.4f}" for a, b, state, score in reviews if state == "open"]
        ),
    }


def import_dev_corpus(store: Store, corpus: Path) -> None:
    """The checker's order: Primero's cases, then OSCaR's clients, default page size."""
    from bridge.sync import run_import

    for system, name in (("primero", "primero_cases.json"), ("oscar", "oscar_clients.json")):
        report = run_import(store, system=system, path=corpus / name)
        assert report.status in ("ok", "attention"), report.status


def main(argv: list[str] | None = None) -> int:
    from tests.conftest import DEV_CORPUS

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"write {FILE.name}")
    parser.add_argument("--corpus", type=Path, default=DEV_CORPUS)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{Path(tmp) / 'dev.db'}")
        import_dev_corpus(store, args.corpus)
        found = fingerprint(store)
        store.close()
    text = json.dumps(found, indent=2, sort_keys=True) + "\n"
    if args.write:
        FILE.write_text(text, encoding="utf-8")
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
