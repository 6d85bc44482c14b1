"""The review queue as the desk works it: every open item with what the desk filters and
orders on (kind, systems, provinces, age, and why its answer matters now), counts per
filter, and the order that puts first the pairs whose answer matters now.

An answer matters now when one of the pair's children has a referral still on its way (in the
outbox, not yet delivered or dead) or an open case. Building the list reads every open item's
records once; :class:`Worklists` keeps it per store until the store changes (a new or resolved
item, a decision, a sync run), so paging and filtering a national queue costs no database work.
Nothing here is personal data: ids, scores, province codes, states.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bridge.linking import split_key
from bridge.referrals.tables import DEAD, DELIVERED, REFERRAL, OutboxRow
from bridge.reports import child_of_keys
from bridge.store.schema import (
    AUDIT,
    DecisionRow,
    LinkRow,
    ReviewItemRow,
    SourceRecordRow,
    SyncRunRow,
)

OPEN_CASE = frozenset({"open", "active", "accepted", "referred", "identified"})
ORDERS = ("urgent", "score", "oldest")
AGE_BANDS = ((1, "under a day"), (7, "under a week"), (30, "under a month"), (None, "older"))


@dataclass(frozen=True)
class WorkItem:
    id: int
    kind: str  # possible | audit
    key_a: str
    key_b: str
    score: float
    created_at: datetime
    rank: int  # the engine's order (best first)
    systems: tuple[str, ...]
    provinces: tuple[str, ...]
    children: tuple[str, ...]
    child_a: str  # the child of key_a, of key_b
    child_b: str
    referral: bool  # a child of the pair has a referral on its way
    open_case: bool  # a record of the pair is an open case

    @property
    def urgent(self) -> bool:
        return self.referral or self.open_case

    def age_days(self, now: datetime) -> float:
        return (now - self.created_at).total_seconds() / 86400


@dataclass(frozen=True)
class WorkFilter:
    province: str | None = None
    min_score: float | None = None
    max_score: float | None = None
    older_than_days: float | None = None
    system: str | None = None
    kind: str | None = None  # possible | audit
    order: str = "urgent"

    def keeps(self, item: WorkItem, now: datetime) -> bool:
        return (
            (self.province is None or self.province in item.provinces)
            and (self.min_score is None or item.score >= self.min_score)
            and (self.max_score is None or item.score <= self.max_score)
            and (self.older_than_days is None or item.age_days(now) >= self.older_than_days)
            and (self.system is None or self.system in item.systems)
            and (self.kind is None or item.kind == self.kind)
        )


@dataclass
class Counts:
    total: int = 0
    shown: int = 0
    urgent: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    by_system: Counter[str] = field(default_factory=Counter)
    by_province: Counter[str] = field(default_factory=Counter)
    by_age: Counter[str] = field(default_factory=Counter)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _record_facts(session: Session) -> dict[str, tuple[str, str, str]]:
    """Every linked record's key -> (child id, province code, case status), in one pass with
    the two fields extracted by the database (no canonical document is decoded)."""
    c = SourceRecordRow.canonical
    rows = session.execute(
        select(
            SourceRecordRow.system,
            SourceRecordRow.record_id,
            LinkRow.child_id,
            c["location"]["province_code"].as_string(),
            c["location"]["code"].as_string(),
            c["status"].as_string(),
        ).join(LinkRow, LinkRow.record_pk == SourceRecordRow.id)
    )
    return {
        f"{system}:{record_id}": (child, province or (code or "")[:2], status or "")
        for system, record_id, child, province, code, status in rows
    }


def _referring_children(session: Session) -> set[str]:
    rows = session.scalars(
        select(OutboxRow.child_id).where(
            OutboxRow.kind == REFERRAL,
            OutboxRow.state.not_in((DELIVERED, DEAD)),
            OutboxRow.child_id.is_not(None),
        )
    )
    return {c for c in rows if c}


def build_worklist(session: Session) -> list[WorkItem]:
    """Every open item still worth an answer (as `bridge review list` has them: possible
    duplicates whose records are in two children, audits whose records are in one), in the
    engine's order."""
    facts = _record_facts(session)
    referring = _referring_children(session)
    rows = session.execute(
        select(
            ReviewItemRow.id,
            ReviewItemRow.kind,
            ReviewItemRow.key_a,
            ReviewItemRow.key_b,
            ReviewItemRow.score,
            ReviewItemRow.created_at,
        )
        .where(ReviewItemRow.state == "open")
        .order_by(ReviewItemRow.score.desc(), ReviewItemRow.id)
    )
    out: list[WorkItem] = []
    for item_id, kind, key_a, key_b, score, created_at in rows:
        a, b = facts.get(key_a), facts.get(key_b)
        if a is None or b is None or (a[0] == b[0]) != (kind == AUDIT):
            continue
        kids = tuple(dict.fromkeys((a[0], b[0])))
        out.append(
            WorkItem(
                id=item_id,
                kind=kind,
                key_a=key_a,
                key_b=key_b,
                score=score,
                created_at=_aware(created_at),
                rank=len(out),
                systems=tuple(dict.fromkeys(split_key(k)[0] for k in (key_a, key_b))),
                provinces=tuple(dict.fromkeys(p for p in (a[1], b[1]) if p)),
                children=kids,
                child_a=a[0],
                child_b=b[0],
                referral=any(c in referring for c in kids),
                open_case=a[2] in OPEN_CASE or b[2] in OPEN_CASE,
            )
        )
    return out


def _age_band(days: float) -> str:
    for limit, label in AGE_BANDS:
        if limit is None or days < limit:
            return label
    return AGE_BANDS[-1][1]


def select_work(
    items: list[WorkItem], wanted: WorkFilter, *, now: datetime | None = None
) -> tuple[list[WorkItem], Counts]:
    """The items ``wanted`` keeps, in its order, and the counts of the whole queue."""
    now = now or datetime.now(UTC)
    counts = Counts(total=len(items))
    for item in items:
        counts.by_kind[item.kind] += 1
        counts.urgent += item.urgent
        counts.by_age[_age_band(item.age_days(now))] += 1
        for system in item.systems:
            counts.by_system[system] += 1
        for province in item.provinces:
            counts.by_province[province] += 1
    kept = [i for i in items if wanted.keeps(i, now)]
    if wanted.order == "oldest":
        kept.sort(key=lambda i: (i.created_at, i.id))
    elif wanted.order == "urgent":
        kept.sort(key=lambda i: (not i.referral, not i.open_case, i.rank))
    counts.shown = len(kept)
    return kept, counts


def store_version(session: Session) -> tuple[Any, ...]:
    """A cheap fingerprint that changes whenever the worklist may have."""
    reviews = session.execute(
        select(func.max(ReviewItemRow.id), func.count(), func.max(ReviewItemRow.resolved_at))
    ).one()
    return (
        *reviews,
        session.scalar(select(func.max(DecisionRow.id))),
        session.scalar(select(func.max(SyncRunRow.id))),
        session.scalar(select(func.max(SyncRunRow.finished_at))),
        *session.execute(select(func.count(), func.max(OutboxRow.updated_at))).one(),
    )


class Worklists:
    """The worklist of one store, rebuilt when :func:`store_version` changes (and at most
    ``max_age`` old, for changes the fingerprint cannot see)."""

    def __init__(self, max_age: timedelta = timedelta(minutes=5)) -> None:
        self._lock = threading.Lock()
        self._version: tuple[Any, ...] | None = None
        self._built: datetime | None = None
        self._items: list[WorkItem] = []
        self.max_age = max_age

    def get(self, session: Session) -> list[WorkItem]:
        version = store_version(session)
        now = datetime.now(UTC)
        with self._lock:
            fresh = self._built is not None and now - self._built < self.max_age
            if version != self._version or not fresh:
                self._items = build_worklist(session)
                self._version, self._built = version, now
            return self._items

    def after_decision(
        self, session: Session, before: tuple[Any, ...], item_id: int, decision_id: int,
        moved: Collection[str] = (),
    ) -> bool:  # fmt: skip
        """Bring the kept list up to a decision just made here (item ``item_id`` answered by
        decision ``decision_id``, the records ``moved`` linked anew) without reading the
        whole queue again. Only when the list was current at ``before`` (the store's version
        just before the decision) and the store changed since by that decision alone (and
        the outbox its write-back filled); else the next :meth:`get` rebuilds it."""
        after = store_version(session)
        own = (
            after[:2] == before[:2]  # no review item added or removed
            and after[3] == decision_id
            and after[4:6] == before[4:6]  # no run meanwhile
        )
        with self._lock:
            if self._version != before or not own:
                return False
            child = child_of_keys(session, set(moved)) if moved else {}
            items = []
            for item in self._items:
                if item.id == item_id:
                    continue
                a, b = child.get(item.key_a, item.child_a), child.get(item.key_b, item.child_b)
                if (a, b) != (item.child_a, item.child_b):
                    if (a == b) != (item.kind == AUDIT):
                        continue  # answered by this decision too
                    kids = tuple(dict.fromkeys((a, b)))
                    item = replace(item, child_a=a, child_b=b, children=kids)
                items.append(item)
            self._items, self._version = items, after
            return True

    def next_after(self, session: Session, item_id: int, wanted: WorkFilter) -> int | None:
        """The item after ``item_id`` in the order ``wanted`` gives (else the first)."""
        kept, _ = select_work(self.get(session), wanted)
        ids = [i.id for i in kept if i.id != item_id]
        order = [i.id for i in kept]
        if item_id in order:
            after = order[order.index(item_id) + 1 :]
            if after:
                return after[0]
        return ids[0] if ids else None
