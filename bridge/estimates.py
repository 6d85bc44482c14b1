"""The engine's estimates of the linked register, recorded with each sync, import and relink.

After a run that changed links, the store's records and children are read back, a model
fitted on all of them scores them (``dedupe.estimates``) and the figures are kept in the
run's counts under ``"estimates"``: precision and recall of the links, expected wrong merges
and the estimated number of unique children with a 95% interval. ``bridge status`` shows the
latest.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bridge.config import MatchingConfig
from bridge.linking import matcher_settings, record_key, to_person
from bridge.model import Child
from bridge.store.db import Store
from bridge.store.schema import (
    LinkRow,
    MatchConstraintRow,
    SourceRecordRow,
    SyncRunRow,
)

log = logging.getLogger(__name__)
KEYS = (
    "precision",
    "recall",
    "wrong_merges",
    "unique_children",
    "unique_children_low",
    "unique_children_high",
)


def compute(session: Session, config: MatchingConfig) -> dict[str, Any] | None:
    """Estimates for what the store holds now, or None (no model or no linked record yet)."""
    from dedupe.engine import Matcher
    from dedupe.estimates import estimate, refits

    rows = session.execute(
        select(
            SourceRecordRow.system,
            SourceRecordRow.record_id,
            SourceRecordRow.canonical,
            LinkRow.child_id,
        )
        .join(LinkRow, LinkRow.record_pk == SourceRecordRow.id)
        .where(SourceRecordRow.state == "mapped")
        .order_by(SourceRecordRow.system, SourceRecordRow.record_id)
        .execution_options(yield_per=5000)
    )
    persons, labels = [], {}
    for system, record_id, canonical, child_id in rows:
        person = to_person(Child.model_validate(canonical))
        persons.append(person)
        labels[record_key(system, record_id)] = child_id
    if not persons:
        return None
    decisions = [
        (r.key_a, r.key_b, r.kind == "must")
        for r in session.scalars(select(MatchConstraintRow).where(MatchConstraintRow.active))
    ]
    sure = [(a, b) for a, b, same in decisions if same] + _shared_id_pairs(persons, labels)
    started = time.perf_counter()
    # the model is fitted again on every record held (not the one the last page kept), so the
    # figures are a function of the register, not of the order its records arrived in
    matcher = Matcher(matcher_settings(config))
    matcher.fit(persons, labelled_pairs=decisions)
    fits = refits(persons, matcher.settings, matcher.settings.estimate_refits, decisions)
    found = estimate(matcher, persons, labels, sure_pairs=sure, other_fits=fits)
    log.info(
        "estimates for %d records in %.1f s: precision %.4f, unique children %d [%d, %d]",
        found.records,
        time.perf_counter() - started,
        found.precision,
        found.unique_children,
        found.unique_children_low,
        found.unique_children_high,
    )
    return found.to_dict()


def _shared_id_pairs(persons: list[Any], labels: dict[str, str]) -> list[tuple[str, str]]:
    """Pairs of records in one child that share an exact id (the systems say they are one)."""
    first: dict[tuple[str, str], str] = {}
    pairs = []
    for person in persons:
        child = labels.get(person.key, "")
        for ident in person.exact_ids:
            seen = first.setdefault((child, ident), person.key)
            if seen != person.key:
                pairs.append((seen, person.key))
    return pairs


def safely_compute(store: Store, config: MatchingConfig) -> dict[str, Any] | None:
    """``compute`` in a session of its own, when ``[matching] estimates`` is on. Never fails
    the run: a problem is logged (its kind, no personal data) and the run has no estimates."""
    if not config.estimates:
        return None
    try:
        with store.session() as session:
            return compute(session, config)
    except Exception as exc:  # noqa: BLE001 - figures are a report, not the run's job
        log.warning("estimates not computed: %s", type(exc).__name__)
        return None


def latest(session: Session) -> dict[str, Any] | None:
    """The estimates of the newest finished run that has them."""
    runs = session.scalars(
        select(SyncRunRow)
        .where(SyncRunRow.finished_at.is_not(None))
        .order_by(SyncRunRow.id.desc())
        .limit(50)
    )
    for run in runs:
        found = (run.counts or {}).get("estimates")
        if isinstance(found, dict):
            return {**found, "run_id": run.id}
    return None
