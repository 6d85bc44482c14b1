"""The review queue: open possible duplicates, filtered and ordered for the helpdesk."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bridge.helpdesk.worklist import WorkFilter, build_worklist, select_work
from bridge.linking import split_key

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


def review_queue(
    session: Session, filters: QueueFilter | None = None, *, now: datetime | None = None
) -> list[QueueItem]:
    """Open review items (records still in different children, or audits still in one),
    filtered and ordered: the desk's worklist (``bridge.helpdesk.worklist``), as the
    command line shows it (the engine's order, or the oldest first)."""
    f = filters or QueueFilter()
    wanted = WorkFilter(
        province=f.province.strip().zfill(2) if f.province else None,
        min_score=f.min_score,
        max_score=f.max_score,
        older_than_days=f.older_than_days,
        system=f.system,
        order="oldest" if f.oldest_first else "score",
    )
    kept, _ = select_work(build_worklist(session), wanted, now=now)
    out = [QueueItem(i.id, i.key_a, i.key_b, i.score, i.created_at, i.provinces) for i in kept]
    return out[: f.limit] if f.limit is not None else out
