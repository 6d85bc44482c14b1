"""Filling a store directly: records, children, links and review items, no sync needed."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select

from adapters.base import payload_hash
from bridge.children import new_child
from bridge.model import BirthDate, Child, DatePrecision, Identifiers, Location, Names, Sex
from bridge.store.db import Store
from bridge.store.schema import LinkRow, ReviewItemRow, SourceRecordRow


def child_record(
    system: str,
    record_id: str,
    given: str = "Dara",
    family: str = "Sok",
    *,
    km: str | None = "សុខ ដារា",
    born: date | None = date(2015, 3, 1),
    location: str = "12010203",
    ids: dict[str, str] | None = None,
) -> Child:
    return Child(
        system=system,
        record_id=record_id,
        organisation="mosvy" if system == "primero" else "ngo-a",
        names=Names(given=given, family=family, full_km=km),
        sex=Sex.male,
        birth=BirthDate(value=born, precision=DatePrecision.exact if born else "unknown"),
        location=Location(code=location, province_code=location[:2]),
        identifiers=Identifiers(**(ids or {})),
    )


def add_record(store: Store, child: Child, child_id: str | None = None) -> str:
    """Store a mapped record in its own new child (or in ``child_id``); returns the child id."""
    payload: dict[str, Any] = {"id": child.record_id}
    with store.session() as session:
        row = SourceRecordRow(
            source=child.system,
            system=child.system,
            record_id=child.record_id,
            payload=payload,
            payload_hash=payload_hash(payload),
            state="mapped",
            issues=[],
            canonical=child.model_dump(mode="json"),
        )
        session.add(row)
        session.flush()
        if child_id is None:
            child_id = new_child(session, row.key).child_id
        session.add(LinkRow(record_pk=row.id, child_id=child_id, method="new"))
    return child_id


def add_review(store: Store, key_a: str, key_b: str, score: float = 0.7) -> int:
    a, b = sorted((key_a, key_b))
    with store.session() as session:
        item = ReviewItemRow(
            key_a=a,
            key_b=b,
            score=score,
            evidence=[{"comparison": "given_name", "level": "phonetic", "weight": 2.5}],
        )
        session.add(item)
        session.flush()
        return item.id


def child_of(store: Store, key: str) -> str:
    system, _, record_id = key.partition(":")
    with store.session() as session:
        return session.scalars(
            select(LinkRow.child_id)
            .join(SourceRecordRow, SourceRecordRow.id == LinkRow.record_pk)
            .where(SourceRecordRow.system == system, SourceRecordRow.record_id == record_id)
        ).one()
