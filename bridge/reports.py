"""What the store holds, for people and scripts: status, exports."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bridge.runlock import is_live_run
from bridge.store.db import Store
from bridge.store.schema import (
    AUDIT,
    POSSIBLE,
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


FEW_KEYS = 2000  # up to this many keys are looked up by id, more in one pass over the links


def child_of_keys(session: Session, keys: set[str]) -> dict[str, str]:
    """``system:record_id`` -> child id, for the given record keys: by id for a few keys,
    else in one pass over the links."""
    out: dict[str, str] = {}
    if len(keys) <= FEW_KEYS:
        by_id: dict[str, set[str]] = {}
        for key in keys:
            system, _, record_id = key.partition(":")
            by_id.setdefault(record_id, set()).add(system)
        ids = sorted(by_id)
        for start in range(0, len(ids), 500):
            for system, record_id, child_id in session.execute(
                select(SourceRecordRow.system, SourceRecordRow.record_id, LinkRow.child_id)
                .join(LinkRow, LinkRow.record_pk == SourceRecordRow.id)
                .where(SourceRecordRow.record_id.in_(ids[start : start + 500]))
            ):
                if system in by_id.get(record_id, ()):
                    out[f"{system}:{record_id}"] = child_id
        return out
    rows = session.execute(
        select(SourceRecordRow.system, SourceRecordRow.record_id, LinkRow.child_id)
        .join(LinkRow, LinkRow.record_pk == SourceRecordRow.id)
        .execution_options(yield_per=10000)
    )
    for system, record_id, child_id in rows:
        key = f"{system}:{record_id}"
        if key in keys:
            out[key] = child_id
    return out


def open_reviews(session: Session, kind: str | None = None) -> list[ReviewItemRow]:
    """Open review items still worth an answer, best first: possible duplicates whose two
    records are still in different children, and audits of automatic links whose two
    records are still in one child. ``kind`` ("possible" or "audit") keeps one kind."""
    query = select(ReviewItemRow).where(ReviewItemRow.state == "open")
    if kind is not None:
        query = query.where(ReviewItemRow.kind == kind)
    items = list(session.scalars(query.order_by(ReviewItemRow.score.desc(), ReviewItemRow.id)))
    child = child_of_keys(session, {k for i in items for k in (i.key_a, i.key_b)})
    return [
        i
        for i in items
        if i.key_a in child
        and i.key_b in child
        and (child[i.key_a] == child[i.key_b]) == (i.kind == AUDIT)
    ]


@dataclass
class Status:
    database: str
    records: dict[str, dict[str, int]] = field(default_factory=dict)  # system -> state -> n
    children: int = 0
    linked_across_systems: int = 0
    open_reviews: int = 0  # possible duplicates
    open_audits: int = 0  # automatic links sampled for a person to check
    cursors: list[tuple[str, str, str]] = field(default_factory=list)
    runs: list[dict[str, Any]] = field(default_factory=list)
    # the engine's latest estimates (``bridge.estimates``), with the run they came from
    estimates: dict[str, Any] | None = None


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
        out.open_reviews = len(open_reviews(session, POSSIBLE))
        out.open_audits = len(open_reviews(session, AUDIT))
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
                    "status": "interrupted"
                    if run.status == "running" and not is_live_run(session, run)
                    else run.status,
                    "started_at": f"{run.started_at:%Y-%m-%d %H:%M:%S}",
                    "finished_at": f"{run.finished_at:%Y-%m-%d %H:%M:%S}"
                    if run.finished_at
                    else "",
                    "counts": run.counts,
                    "errors": len(run.errors or []),
                }
            )
        out.estimates = status_estimates(session)
        return out


def status_estimates(session: Session) -> dict[str, Any] | None:
    """The latest run's estimates (None before the first run that made them), with the
    precision measured by the helpdesk's answers to audit items when there are any
    (``audited_precision``, ``audited_low``, ``audited_high``, ``audited_pairs``)."""
    from bridge.estimates import latest
    from bridge.helpdesk.link_audit import audited_precision

    found = latest(session)
    audited = audited_precision(session)
    if audited is None:
        return found
    return {**(found or {}), **audited.to_dict()}


def child_count(session: Session) -> int:
    return (
        session.scalar(select(func.count()).select_from(ChildRow).where(ChildRow.state == "active"))
        or 0
    )
