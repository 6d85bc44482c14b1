"""What the store holds, for people and scripts: status, exports."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from bridge.store.db import Store
from bridge.store.schema import (
    ChildRow,
    LinkRow,
    ReviewItemRow,
    SourceRecordRow,
    SyncCursorRow,
    SyncRunRow,
)

SYSTEMS = ("primero", "oscar")


def children_export_rows(session: Session) -> Iterator[tuple[str, str, str]]:
    """``(system, record_id, child_id)`` for every stored record that belongs to a child."""
    rows = session.execute(
        select(SourceRecordRow.system, SourceRecordRow.record_id, LinkRow.child_id)
        .join(LinkRow, LinkRow.record_pk == SourceRecordRow.id)
        .where(SourceRecordRow.system.in_(SYSTEMS))
        .order_by(SourceRecordRow.system, SourceRecordRow.record_id)
        .execution_options(yield_per=5000)
    )
    yield from ((system, record_id, child_id) for system, record_id, child_id in rows)


def open_reviews(session: Session) -> list[ReviewItemRow]:
    """Open review items whose two records are still in different children."""
    rec_a, rec_b = aliased(SourceRecordRow), aliased(SourceRecordRow)
    link_a, link_b = aliased(LinkRow), aliased(LinkRow)
    key_a = rec_a.system + ":" + rec_a.record_id
    key_b = rec_b.system + ":" + rec_b.record_id
    query = (
        select(ReviewItemRow)
        .join(rec_a, key_a == ReviewItemRow.key_a)
        .join(rec_b, key_b == ReviewItemRow.key_b)
        .join(link_a, link_a.record_pk == rec_a.id)
        .join(link_b, link_b.record_pk == rec_b.id)
        .where(ReviewItemRow.state == "open", link_a.child_id != link_b.child_id)
        .order_by(ReviewItemRow.score.desc(), ReviewItemRow.id)
    )
    return list(session.scalars(query))


@dataclass
class Status:
    database: str
    records: dict[str, dict[str, int]] = field(default_factory=dict)  # system -> state -> n
    children: int = 0
    linked_across_systems: int = 0
    open_reviews: int = 0
    cursors: list[tuple[str, str, str]] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)


def status(store: Store, *, last_runs: int = 5) -> Status:
    with store.session() as session:
        out = Status(database=store.where)
        for system, state, count in session.execute(
            select(SourceRecordRow.system, SourceRecordRow.state, func.count()).group_by(
                SourceRecordRow.system, SourceRecordRow.state
            )
        ):
            out.records.setdefault(system, {})[state] = count
        out.children = session.scalar(select(func.count(func.distinct(LinkRow.child_id)))) or 0
        both = (
            select(LinkRow.child_id)
            .join(SourceRecordRow, SourceRecordRow.id == LinkRow.record_pk)
            .group_by(LinkRow.child_id)
            .having(func.count(func.distinct(SourceRecordRow.system)) > 1)
            .subquery()
        )
        out.linked_across_systems = session.scalar(select(func.count()).select_from(both)) or 0
        out.open_reviews = len(open_reviews(session))
        out.cursors = [
            (c.source, c.cursor, f"{c.updated_at:%Y-%m-%d %H:%M:%S}")
            for c in session.scalars(select(SyncCursorRow).order_by(SyncCursorRow.source))
        ]
        for run in session.scalars(
            select(SyncRunRow).order_by(SyncRunRow.id.desc()).limit(last_runs)
        ):
            out.runs.append(
                {
                    "id": run.id,
                    "command": run.command,
                    "status": run.status,
                    "started_at": f"{run.started_at:%Y-%m-%d %H:%M:%S}",
                    "finished_at": f"{run.finished_at:%Y-%m-%d %H:%M:%S}"
                    if run.finished_at
                    else "",
                    "counts": run.counts,
                    "errors": len(run.errors or []),
                }
            )
        return out


def child_count(session: Session) -> int:
    return (
        session.scalar(select(func.count()).select_from(ChildRow).where(ChildRow.state == "active"))
        or 0
    )
