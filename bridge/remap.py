"""``bridge remap``: apply the current mappings to the stored raw payloads (no re-fetch).

Records whose canonical form changed are linked again where their identity fields changed;
quarantined records that now map are released and linked; nothing is fetched or sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from bridge.config import LimitsConfig, MatchingConfig
from bridge.ingest import apply_mapping, describe
from bridge.linking import LinkCounts, Linker
from bridge.mapping import load_mapping
from bridge.runlock import run_lock
from bridge.store.db import Store
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
    batch_size: int = 1000,
) -> RemapReport:
    report = RemapReport()
    systems = [system] if system else ["primero", "oscar"]
    linker = Linker(matching or MatchingConfig())
    with run_lock(store):
        for kind in systems:
            mapping = load_mapping(kind, mappings_dir, (limits or LimitsConfig()).screen_limits())
            with store.session() as session:
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
                with store.session() as session:
                    _remap_batch(session, ids[start : start + batch_size], mapping, linker, report)
    return report


def _remap_batch(session, ids, mapping, linker: Linker, report: RemapReport) -> None:  # type: ignore[no-untyped-def]
    rows = list(session.scalars(select(SourceRecordRow).where(SourceRecordRow.id.in_(ids))))
    touched = []
    for row in rows:
        report.records += 1
        before_state, before = row.state, row.canonical
        apply_mapping(row, mapping)
        if row.state == before_state and row.canonical == before:
            report.unchanged += 1
            continue
        report.changed += 1
        if row.state == "mapped":
            if before_state == "quarantined":
                report.released += 1
            touched.append(row)
        else:
            report.quarantined += 1
            report.problems.extend(describe(row, row.issues, "error"))
            link = session.get(LinkRow, row.id)
            if link is not None:
                session.delete(link)
            linker.forget_records(session, [row.key])
    session.flush()
    report.links.add(linker.link(session, touched))
