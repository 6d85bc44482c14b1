"""Children and their ids in the store: minting, joining, merging, aliases."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bridge.identity import mint_child_id, normalise_child_id
from bridge.store.schema import ChildRow, LinkRow, SourceRecordRow


class ChildIds:
    """Every child id ever handed out, and the next creation number, read once per run.

    A run holds the sync lock, so nobody else mints ids meanwhile; minting thousands of
    children then costs no query each."""

    def __init__(self, session: Session) -> None:
        self.taken: set[str] = set(session.scalars(select(ChildRow.child_id)))
        self.next_seq = (session.scalar(select(func.max(ChildRow.seq))) or 0) + 1

    def mint(self, session: Session, founder_key: str) -> ChildRow:
        child_id, seq = self.mint_id(founder_key)
        row = ChildRow(child_id=child_id, seq=seq, state="active")
        session.add(row)
        return row

    def mint_id(self, founder_key: str) -> tuple[str, int]:
        """A new child's id and creation number, taken; the caller writes the row."""
        child_id = mint_child_id(founder_key, self.taken.__contains__)
        seq = self.next_seq
        self.taken.add(child_id)
        self.next_seq += 1
        return child_id, seq


def new_child(session: Session, founder_key: str) -> ChildRow:
    """A child with a never-used id derived from the founding record's key."""
    row = ChildIds(session).mint(session, founder_key)
    session.flush()
    return row


def resolve(session: Session, child_id: str) -> ChildRow | None:
    """The child an id names now, following merges (an old id is an alias of the survivor)."""
    row = session.get(ChildRow, normalise_child_id(child_id))
    seen: set[str] = set()
    while (
        row is not None and row.state == "merged" and row.merged_into and row.child_id not in seen
    ):
        seen.add(row.child_id)
        row = session.get(ChildRow, row.merged_into)
    return row


def merge_children(session: Session, child_ids: set[str]) -> str:
    """Merge several children into the oldest; the others become aliases. Returns the survivor."""
    rows = [session.get(ChildRow, cid) for cid in child_ids]
    alive = sorted((r for r in rows if r is not None), key=lambda r: r.seq)
    survivor = alive[0]
    for other in alive[1:]:
        session.execute(
            update(LinkRow)
            .where(LinkRow.child_id == other.child_id)
            .values(child_id=survivor.child_id)
        )
        other.state = "merged"
        other.merged_into = survivor.child_id
        # earlier aliases of the merged child now point at the survivor too
        session.execute(
            update(ChildRow)
            .where(ChildRow.merged_into == other.child_id)
            .values(merged_into=survivor.child_id)
        )
    return survivor.child_id


def members(session: Session, child_id: str) -> list[SourceRecordRow]:
    return list(
        session.scalars(
            select(SourceRecordRow)
            .join(LinkRow, LinkRow.record_pk == SourceRecordRow.id)
            .where(LinkRow.child_id == child_id)
            .order_by(SourceRecordRow.system, SourceRecordRow.record_id)
        )
    )


def mark_empty_children(session: Session, child_ids: set[str]) -> None:
    """Children left with no record (their records moved) are kept as ``empty``, never reused."""
    for child_id in child_ids:
        count = session.scalar(select(func.count()).where(LinkRow.child_id == child_id))
        row = session.get(ChildRow, child_id)
        if row is not None and not count and row.state == "active":
            row.state = "empty"
