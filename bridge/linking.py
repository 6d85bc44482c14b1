"""Linking stored records to children with the matching engine, keeping ids stable.

The engine (``dedupe``) decides which records are the same child; this module turns its plan
into child ids in the store: a record joining a child takes its id, several existing children
found to be one are merged into the oldest (the others become aliases), a new child gets a
new, never-used id. Human decisions (``match_constraints``) are passed to the engine as
must-link / cannot-link pairs, so automatic matching never undoes them.

Weights are estimated from the stored records themselves (no labels) and re-estimated when
the number of records has grown by ``refit_growth`` since the last estimate. Refits happen at
page boundaries only, so a sync that is killed and run again takes the same steps as one that
was not.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bridge.children import ChildIds, mark_empty_children, merge_children
from bridge.config import MatchingConfig
from bridge.model import Child
from bridge.store.schema import (
    ChildRow,
    LinkRow,
    MatchConstraintRow,
    ModelParamsRow,
    ReviewItemRow,
    SourceRecordRow,
)
from dedupe.engine import Matcher, MatchIndex, ModelParams, ReviewPair
from dedupe.records import PersonRecord
from dedupe.settings import MatchSettings

log = logging.getLogger(__name__)


def _label_of(index: MatchIndex, key: str) -> str | None:
    label_of = getattr(index, "label_of", None)
    if label_of is not None:
        return label_of(key)
    row = index.row_of_key.get(key)
    return index.labels[row] if row is not None else None


def _stored_params(data: dict) -> ModelParams | None:
    """Stored weights, or None when an engine upgrade changed their shape (then refit)."""
    try:
        return ModelParams.from_dict(data)
    except (ValueError, KeyError, TypeError):
        log.info("stored matching weights are of an older engine: estimating them again")
        return None


def record_key(system: str, record_id: str) -> str:
    return f"{system}:{record_id}"


def split_key(key: str) -> tuple[str, str]:
    system, _, record_id = key.partition(":")
    return system, record_id


def to_person(child: Child) -> PersonRecord:
    """The engine's view of a canonical child record."""
    names = child.names
    ids = child.identifiers
    exact = []
    if ids.primero_case_id:
        exact.append(f"case:{ids.primero_case_id}")
    if ids.oscar_global_id:
        exact.append(f"oscar:{ids.oscar_global_id}")
    caregivers = tuple(
        name for c in child.caregivers for name in (c.name, c.name_km) if name and name.strip()
    )
    return PersonRecord(
        key=record_key(child.system, child.record_id),
        system=child.system,
        organisation=child.organisation,
        given=names.given,
        family=names.family,
        given_km=names.given_km,
        family_km=names.family_km,
        full_km=names.full_km,
        nickname=names.nickname,
        sex=child.sex.value if child.sex else None,
        birth_date=child.birth.value,
        birth_precision=child.birth.precision.value,
        location_code=child.location.code,
        caregivers=caregivers,
        exact_ids=tuple(exact),
    )


def matcher_settings(config: MatchingConfig) -> MatchSettings:
    settings = MatchSettings()
    overrides = {k: v for k, v in (("upper", config.upper), ("lower", config.lower)) if v}
    if overrides:
        settings = settings.__class__(**{**settings.__dict__, **overrides})
    return settings


@dataclass
class LinkCounts:
    linked: int = 0
    new_children: int = 0
    joined: int = 0
    merged_children: int = 0
    reviews: int = 0
    refits: int = 0

    def add(self, other: LinkCounts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Linker:
    """Holds the engine's index of stored records for one run (sync, import, remap)."""

    config: MatchingConfig = field(default_factory=MatchingConfig)
    persons: dict[str, PersonRecord] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    _matcher: Matcher | None = None
    _index: MatchIndex | None = None
    _fitted_on: int = 0
    _loaded: bool = False
    _ids: ChildIds | None = None

    # -- loading -----------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget the index: the next use reloads it from the database (after a rolled-back
        transaction, whose records the in-memory index may already hold)."""
        self.persons, self.labels = {}, {}
        self._matcher = self._index = self._ids = None
        self._fitted_on, self._loaded = 0, False

    def load(self, session: Session) -> None:
        if self._loaded:
            return
        self._ids = ChildIds(session)
        rows = session.execute(
            select(
                SourceRecordRow.system,
                SourceRecordRow.record_id,
                SourceRecordRow.canonical,
                LinkRow.child_id,
            )
            .join(LinkRow, LinkRow.record_pk == SourceRecordRow.id)
            .where(SourceRecordRow.state == "mapped")
            .order_by(SourceRecordRow.id)
        )
        for system, record_id, canonical, child_id in rows:
            person = to_person(Child.model_validate(canonical))
            key = record_key(system, record_id)
            self.persons[key] = person
            self.labels[key] = child_id
        latest = session.scalars(
            select(ModelParamsRow).order_by(ModelParamsRow.id.desc()).limit(1)
        ).first()
        params = _stored_params(latest.params) if latest is not None else None
        if params is not None and latest is not None:
            self._matcher = Matcher(matcher_settings(self.config), params=params)
            self._fitted_on = latest.record_count
        self._loaded = True

    def _ensure_model(self, session: Session, incoming: Sequence[PersonRecord]) -> int:
        total = len(self.persons) + len(incoming)
        if self._matcher is not None and total < self.config.refit_growth * self._fitted_on:
            if self._index is None:
                self._index = self._matcher.index(list(self.persons.values()), self.labels)
            return 0
        sample = list(self.persons.values()) + list(incoming)
        matcher = Matcher(matcher_settings(self.config))
        params = matcher.fit(sample, labelled_pairs=self._labelled_pairs(session))
        session.add(ModelParamsRow(record_count=total, params=params.to_dict()))
        self._matcher = Matcher(matcher_settings(self.config), params=params)
        self._fitted_on = total
        self._index = self._matcher.index(list(self.persons.values()), self.labels)
        log.info("matching weights estimated on %d records", total)
        return 1

    def _labelled_pairs(self, session: Session) -> list[tuple[str, str, bool]]:
        rows = session.scalars(select(MatchConstraintRow).where(MatchConstraintRow.active))
        return [(r.key_a, r.key_b, r.kind == "must") for r in rows]

    @staticmethod
    def constraints(session: Session) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        must, cannot = [], []
        for row in session.scalars(select(MatchConstraintRow).where(MatchConstraintRow.active)):
            (must if row.kind == "must" else cannot).append((row.key_a, row.key_b))
        return must, cannot

    # -- linking -----------------------------------------------------------------------------
    def link(self, session: Session, rows: Iterable[SourceRecordRow]) -> LinkCounts:
        """Link mapped records that are new or whose identity fields changed."""
        self.load(session)
        counts = LinkCounts()
        batch: list[tuple[SourceRecordRow, PersonRecord]] = []
        previous_child: dict[str, str] = {}
        for row in rows:
            person = to_person(Child.model_validate(row.canonical))
            key = person.key
            old = self.persons.get(key)
            if old is not None:
                if old == person:
                    continue
                link = session.get(LinkRow, row.id)
                if link is not None and link.method == "human":
                    self.persons[key] = person  # a person decided: the link stays
                    continue
                if link is not None:
                    previous_child[key] = link.child_id
                    session.delete(link)
                self._forget([key])
            batch.append((row, person))
        if not batch:
            return counts
        session.flush()
        persons = [p for _, p in batch]
        counts.refits += self._ensure_model(session, persons)
        assert self._index is not None
        must, cannot = self.constraints(session)
        plan = self._index.add(persons, must_link=must, cannot_link=cannot)
        pk_of = {p.key: row.id for row, p in batch}
        for person in persons:
            self.persons[person.key] = person
        emptied: set[str] = set(previous_child.values())
        new_links: list[LinkRow] = []
        for cluster in plan.clusters:
            new_keys = sorted(k for k in cluster if k in pk_of)
            existing = {self.labels[k] for k in cluster if k in self.labels and k not in pk_of}
            child_id = self._child_for(session, new_keys, existing, previous_child, counts)
            internal = _label_of(self._index, new_keys[0]) if new_keys else None
            if internal is not None and internal != child_id:
                self._index.relabel(internal, child_id)
            for key in new_keys:
                exact = self._shares_exact_id(key, cluster)
                new_links.append(
                    LinkRow(
                        record_pk=pk_of[key],
                        child_id=child_id,
                        method="new" if len(cluster) == 1 else ("exact" if exact else "auto"),
                    )
                )
                self.labels[key] = child_id
                counts.linked += 1
        session.flush()  # children first: links point at them
        session.add_all(new_links)
        session.flush()
        mark_empty_children(session, emptied)
        counts.reviews += self._store_reviews(session, plan.reviews)
        session.flush()
        settings = matcher_settings(self.config)
        trim_review_queue(session, max(1, int(settings.review_budget_share * len(self.persons))))
        return counts

    def _child_for(
        self,
        session: Session,
        new_keys: list[str],
        existing: set[str],
        previous_child: dict[str, str],
        counts: LinkCounts,
    ) -> str:
        if len(existing) == 1:
            counts.joined += len(new_keys)
            return next(iter(existing))
        if len(existing) > 1:
            survivor = merge_children(session, existing)
            for merged in existing - {survivor}:
                assert self._index is not None
                self._index.relabel(merged, survivor)
                for key, label in self.labels.items():
                    if label == merged:
                        self.labels[key] = survivor
            counts.merged_children += len(existing) - 1
            counts.joined += len(new_keys)
            return survivor
        # a record whose identity fields changed keeps its id when it still stands alone
        revivable = sorted(
            {previous_child[k] for k in new_keys if k in previous_child} - set(self.labels.values())
        )
        if revivable:
            row = session.get(ChildRow, revivable[0])
            if row is not None and row.state in ("active", "empty"):
                row.state = "active"
                return row.child_id
        counts.new_children += 1
        assert self._ids is not None
        return self._ids.mint(session, new_keys[0]).child_id

    def _shares_exact_id(self, key: str, cluster: list[str]) -> bool:
        mine = set(self.persons[key].exact_ids)
        return any(
            other != key and mine & set(self.persons[other].exact_ids)
            for other in cluster
            if other in self.persons
        )

    def _forget(self, keys: list[str]) -> None:
        if self._index is not None:
            self._index.remove(keys)
        for key in keys:
            self.persons.pop(key, None)
            self.labels.pop(key, None)

    def _store_reviews(self, session: Session, reviews: Sequence) -> int:
        decided = decided_pairs(session)
        return sum(
            upsert_review(session, review, reopen_stale=True)
            for review in reviews
            if tuple(sorted((review.key_a, review.key_b))) not in decided
            and self.labels.get(review.key_a) != self.labels.get(review.key_b)
        )

    def forget_records(self, session: Session, keys: list[str]) -> None:
        """Drop records from the index and their links (used when a record is quarantined)."""
        self.load(session)
        self._forget(keys)


def clear_links(session: Session) -> None:
    session.execute(delete(LinkRow))


def decided_pairs(session: Session) -> set[tuple[str, str]]:
    """Record pairs a person has decided about: never queued for review again."""
    return {
        (min(r.key_a, r.key_b), max(r.key_a, r.key_b))
        for r in session.scalars(select(MatchConstraintRow).where(MatchConstraintRow.active))
    }


def trim_review_queue(session: Session, budget: int) -> int:
    """Keep the queue within what the helpdesk can take: the best ``budget`` open items (of
    those whose two records are still in two children) stay open, the others become stale.
    Each sync ranks its own new pairs; this makes the queue one best-first list across syncs.
    A later sync or relink that proposes a stale pair again reopens it. Returns how many."""
    from bridge.reports import open_reviews
    from bridge.store.schema import POSSIBLE

    extra = open_reviews(session, POSSIBLE)[budget:]
    for item in extra:
        item.state = "stale"
    return len(extra)


def upsert_review(session: Session, review: ReviewPair, *, reopen_stale: bool = False) -> bool:
    """Queue a possible duplicate, or refresh its score; True when it is newly open."""
    a, b = sorted((review.key_a, review.key_b))
    evidence = [
        {"comparison": e.comparison, "level": e.level, "weight": round(e.weight, 3)}
        for e in review.evidence
    ]
    row = session.scalars(
        select(ReviewItemRow).where(ReviewItemRow.key_a == a, ReviewItemRow.key_b == b)
    ).first()
    if row is None:
        session.add(ReviewItemRow(key_a=a, key_b=b, score=review.score, evidence=evidence))
        return True
    if row.state == "open" or (reopen_stale and row.state == "stale"):
        newly_open = row.state != "open"
        row.state, row.score, row.evidence = "open", review.score, evidence
        return newly_open
    return False
