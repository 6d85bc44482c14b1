"""The review queue: open possible duplicates, filtered and ordered for the helpdesk."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bridge.linking import split_key
from bridge.reports import open_reviews
from bridge.store.schema import ReviewItemRow, SourceRecordRow

CSV_HEADER = ["system_a", "record_id_a", "system_b", "record_id_b", "score"]


@dataclass(frozen=True)
class QueueFilter:
    province: str | None = None  # NCDD province code ("12") of either record
    min_score: float | None = None
    max_score: float | None = None
    older_than_days: float | None = None  # waiting at least this long
    system: str | None = None  # either record from this system
    oldest_first: bool = False
    limit: int | None = None


@dataclass(frozen=True)
class QueueItem:
    id: int
    key_a: str
    key_b: str
    score: float
    created_at: datetime
    provinces: tuple[str, ...]

    def csv_row(self) -> list[str]:
        return [*split_key(self.key_a), *split_key(self.key_b), f"{self.score:.4f}"]

    def as_dict(self) -> dict[str, Any]:
        system_a, record_a = split_key(self.key_a)
        system_b, record_b = split_key(self.key_b)
        return {
            "id": self.id,
            "system_a": system_a,
            "record_id_a": record_a,
            "system_b": system_b,
            "record_id_b": record_b,
            "score": round(self.score, 4),
            "created_at": self.created_at.isoformat(),
            "provinces": list(self.provinces),
        }


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; the bridge stores UTC
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _provinces(session: Session, keys: set[str]) -> dict[str, str]:
    by_id: dict[str, set[str]] = {}
    for key in keys:
        system, record_id = split_key(key)
        by_id.setdefault(record_id, set()).add(system)
    out: dict[str, str] = {}
    ids = sorted(by_id)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = session.execute(
            select(
                SourceRecordRow.system, SourceRecordRow.record_id, SourceRecordRow.canonical
            ).where(SourceRecordRow.record_id.in_(chunk))
        )
        for system, record_id, canonical in rows:
            if system not in by_id.get(record_id, ()):
                continue
            loc = (canonical or {}).get("location") or {}
            code = loc.get("province_code") or (loc.get("code") or "")[:2]
            if code:
                out[f"{system}:{record_id}"] = code
    return out


def review_queue(
    session: Session, filters: QueueFilter | None = None, *, now: datetime | None = None
) -> list[QueueItem]:
    """Open review items (records still in different children), filtered and ordered."""
    f = filters or QueueFilter()
    items: list[ReviewItemRow] = open_reviews(session)
    if f.min_score is not None:
        items = [i for i in items if i.score >= f.min_score]
    if f.max_score is not None:
        items = [i for i in items if i.score <= f.max_score]
    if f.system:
        items = [i for i in items if f.system in (split_key(i.key_a)[0], split_key(i.key_b)[0])]
    if f.older_than_days is not None:
        cutoff = (now or datetime.now(UTC)) - timedelta(days=f.older_than_days)
        items = [i for i in items if _aware(i.created_at) <= cutoff]
    provinces = _provinces(session, {k for i in items for k in (i.key_a, i.key_b)})
    out = [
        QueueItem(
            id=i.id,
            key_a=i.key_a,
            key_b=i.key_b,
            score=i.score,
            created_at=_aware(i.created_at),
            provinces=tuple(
                dict.fromkeys(p for p in (provinces.get(i.key_a), provinces.get(i.key_b)) if p)
            ),
        )
        for i in items
    ]
    if f.province:
        wanted = f.province.strip().zfill(2)
        out = [q for q in out if wanted in q.provinces]
    if f.oldest_first:
        out.sort(key=lambda q: (q.created_at, q.id))
    return out[: f.limit] if f.limit is not None else out
