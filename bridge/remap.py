"""``bridge remap``: apply the current mappings to the stored raw payloads (no re-fetch).

Records whose canonical form changed are linked again where their identity fields changed;
quarantined records that now map are released and linked; nothing is fetched or sent. The
whole remap is one transaction, and what changed is linked in one pass at its end.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Text, bindparam, delete, select, type_coerce, update
from sqlalchemy.orm import Session

from bridge.config import LimitsConfig, MatchingConfig
from bridge.ingest import Outcome, describe, map_stored
from bridge.linking import LinkCounts, Linker, LinkItem, waiting_count
from bridge.mapping import SourceMapping, load_mapping
from bridge.runlock import recorded_run, run_lock
from bridge.store.db import JsonText, Store, writes_json_text
from bridge.store.schema import LinkRow, SourceRecordRow


@dataclass
class RemapReport:
    records: int = 0
    changed: int = 0
    unchanged: int = 0
    released: int = 0
    quarantined: int = 0
    links: LinkCounts = field(default_factory=LinkCounts)
    problems: list[str] = field(default_factory=list)


def remap(
    store: Store,
    *,
    system: str | None = None,
    mappings_dir: Path | None = None,
    matching: MatchingConfig | None = None,
    limits: LimitsConfig | None = None,
    batch_size: int = 2000,
    progress: Callable[[str], None] | None = None,
) -> RemapReport:
    """Re-map every stored record of ``system`` (both by default) in one transaction (all or
    nothing: a remap that is killed leaves the store as it was), then link what changed in one
    pass."""
    report = RemapReport()
    with recorded_run(store, "remap") as run:  # a run of its own in `bridge status`
        try:
            _remap(store, run.run_id, report, system, mappings_dir, matching, limits,
                   batch_size, progress)  # fmt: skip
        finally:  # what was done, even when it failed
            run.counts = {"remap": {k: v for k, v in asdict(report).items() if isinstance(v, int)}}
            run.errors = report.problems
        run.status = "attention" if report.quarantined else "ok"
    return report


def _remap(
    store: Store,
    run_id: int,
    report: RemapReport,
    system: str | None,
    mappings_dir: Path | None,
    matching: MatchingConfig | None,
    limits: LimitsConfig | None,
    batch_size: int,
    progress: Callable[[str], None] | None,
) -> None:
    systems = [system] if system else ["primero", "oscar"]
    linker = Linker(matching or MatchingConfig())
    with run_lock(store, run_id=run_id), store.session() as session:
        touched: list[LinkItem] = []
        for kind in systems:
            mapping = load_mapping(kind, mappings_dir, (limits or LimitsConfig()).screen_limits())
            ids = list(
                session.scalars(
                    select(SourceRecordRow.id)
                    .where(
                        SourceRecordRow.system == kind,
                        SourceRecordRow.state.in_(("mapped", "quarantined")),
                    )
                    .order_by(SourceRecordRow.id)
                )
            )
            for start in range(0, len(ids), batch_size):
                _remap_batch(
                    session, ids[start : start + batch_size], mapping, linker, report, touched
                )
                if progress:
                    done = min(start + batch_size, len(ids))
                    progress(f"{kind}: {done} records re-mapped of {len(ids)}")
        if touched:  # nothing changed: the index is not even loaded
            if progress:
                progress(f"linking: {len(touched)} records that changed")
            report.links.add(linker.link(session, touched))
        if waiting_count(session):  # a backlog a killed run left: linked now too
            report.links.add(linker.link_backlog(session))


def _remap_batch(
    session: Session,
    ids: list[int],
    mapping: SourceMapping,
    linker: Linker,
    report: RemapReport,
    touched: list[LinkItem],
) -> None:
    table = SourceRecordRow.__table__
    raw_json = writes_json_text(session)
    rows = session.execute(
        select(
            table.c.id,
            table.c.system,
            table.c.record_id,
            table.c.state,
            type_coerce(table.c.payload, Text),
            type_coerce(table.c.canonical, Text),
            type_coerce(table.c.issues, Text),
        )
        .where(table.c.id.in_(ids))
        .order_by(table.c.id)
    )
    updates: list[dict[str, Any]] = []
    unlinked: list[tuple[int, str]] = []
    for row_id, system, record_id, before_state, payload, canonical, issues in rows:
        report.records += 1
        text = payload if isinstance(payload, str) else None
        stored = json.loads(text) if text is not None else payload
        # the stored text spares the screen an encoding when it is the unescaped kind
        outcome = map_stored(mapping, stored, text if text and "\\u" not in text else None)
        before = canonical
        if isinstance(canonical, str) and canonical != outcome.canonical_text:
            before = json.loads(canonical)  # another encoding of the same child, maybe
        same = outcome.state == before_state and (
            before == outcome.canonical_text
            if isinstance(before, str)
            else before == outcome.canonical
        )
        if same:
            report.unchanged += 1
            if not _same_issues(issues, outcome.issues):
                updates.append(_values(row_id, outcome, raw_json))
            continue
        report.changed += 1
        updates.append(_values(row_id, outcome, raw_json))
        if outcome.state == "mapped":
            if before_state == "quarantined":
                report.released += 1
            assert outcome.canonical is not None
            touched.append(LinkItem(row_id, outcome.canonical))
        else:
            report.quarantined += 1
            found = SimpleNamespace(system=system, record_id=record_id)
            report.problems.extend(describe(found, outcome.issues, "error"))
            unlinked.append((row_id, f"{system}:{record_id}"))
    if updates:
        session.execute(
            update(table)
            .where(table.c.id == bindparam("row_id"))
            .values(
                state=bindparam("new_state"),
                issues=bindparam("new_issues"),
                canonical=bindparam("new_canonical"),
            ),
            updates,
        )
    if unlinked:
        pks = [pk for pk, _ in unlinked]
        session.execute(delete(LinkRow).where(LinkRow.record_pk.in_(pks)))
        linker.forget_records(session, [key for _, key in unlinked])


def _same_issues(stored: Any, issues: list[dict[str, str]]) -> bool:
    """Whether the stored issues (JSON text, or already decoded by the driver) are ``issues``;
    most records have none, and "[]" is not decoded."""
    if isinstance(stored, str):
        if stored == "[]":
            return not issues
        stored = json.loads(stored)
    return bool(stored == issues)


def _values(row_id: int, outcome: Outcome, raw_json: bool) -> dict[str, Any]:
    canonical: Any = outcome.canonical
    if raw_json and outcome.canonical_text is not None:
        canonical = JsonText(outcome.canonical_text)
    return {
        "row_id": row_id,
        "new_state": outcome.state,
        "new_issues": outcome.issues,
        "new_canonical": canonical,
    }
