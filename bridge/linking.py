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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, NamedTuple

from sqlalchemy import bindparam, delete, func, insert, select, update
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
from dedupe.records import PersonRecord
from dedupe.settings import MatchSettings

if TYPE_CHECKING:  # the engine (numpy and all) is imported when linking starts
    from dedupe.engine import Matcher, MatchIndex, ModelParams, ReviewPair

log = logging.getLogger(__name__)


def _label_of(index: MatchIndex, key: str) -> str | None:
    label_of = getattr(index, "label_of", None)
    if label_of is not None:
        return label_of(key)
    row = index.row_of_key.get(key)
    return index.labels[row] if row is not None else None


def _stored_params(data: dict) -> ModelParams | None:
    """Stored weights, or None when an engine upgrade changed their shape (then refit)."""
    from dedupe.engine import ModelParams

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


def person_of(canonical: dict[str, Any]) -> PersonRecord:
    """``to_person(Child.model_validate(canonical))`` for a stored canonical child (the model's
    JSON dump), read straight from the dict; anything unexpected goes through the model."""
    try:
        names, ids, birth = canonical["names"], canonical["identifiers"], canonical["birth"]
        exact = []
        if ids["primero_case_id"]:
            exact.append(f"case:{ids['primero_case_id']}")
        if ids["oscar_global_id"]:
            exact.append(f"oscar:{ids['oscar_global_id']}")
        caregivers = tuple(
            name
            for c in canonical["caregivers"]
            for name in (c["name"], c["name_km"])
            if name and name.strip()
        )
        born = birth["value"]
        system, record_id = canonical["system"], canonical["record_id"]
        if type(system) is not str or type(record_id) is not str:
            raise TypeError("not a stored canonical child")
        return PersonRecord(
            key=f"{system}:{record_id}",
            system=system,
            organisation=canonical["organisation"],
            given=names["given"],
            family=names["family"],
            given_km=names["given_km"],
            family_km=names["family_km"],
            full_km=names["full_km"],
            nickname=names["nickname"],
            sex=canonical["sex"] or None,
            birth_date=date.fromisoformat(born) if born is not None else None,
            birth_precision=birth["precision"],
            location_code=canonical["location"]["code"],
            caregivers=caregivers,
            exact_ids=tuple(exact),
        )
    except (KeyError, TypeError, ValueError, AttributeError):
        return to_person(Child.model_validate(canonical))


class LinkItem(NamedTuple):
    """A mapped record to link: its row id and its canonical child (as stored)."""

    id: int
    canonical: dict[str, Any]


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
    """Holds the engine's index of stored records for one run (sync, import, remap).

    A backlog — pages that are many compared with what is linked — is not linked page by page:
    each page is stored and mapped in its own transaction (the cursor moves after each), and
    its new records wait, mapped but without a link, until ``link_backlog`` links every
    waiting record in one pass when the run has stored its last page. Waiting records left by
    a run that was killed are linked with the next run's backlog, so an interrupted run that is
    run again links the same records in the same pass as one that was not interrupted. A
    backlog linked into an empty store gives the children ``bridge relink`` gives."""

    config: MatchingConfig = field(default_factory=MatchingConfig)
    persons: dict[str, PersonRecord] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    _matcher: Matcher | None = None
    _index: MatchIndex | None = None
    _fitted_on: int = 0
    _loaded: bool = False
    _ids: ChildIds | None = None
    _backlog: bool = False  # this run links its new records in one pass at its end
    _waiting: int | None = None  # records waiting for the backlog pass when the run started

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
                SourceRecordRow.canonical,
                LinkRow.child_id,
            )
            .join(LinkRow, LinkRow.record_pk == SourceRecordRow.id)
            .where(SourceRecordRow.state == "mapped")
            .order_by(SourceRecordRow.id)
        )
        persons, labels = self.persons, self.labels
        for canonical, child_id in rows:
            person = person_of(canonical)
            persons[person.key] = person
            labels[person.key] = child_id
        latest = session.scalars(
            select(ModelParamsRow).order_by(ModelParamsRow.id.desc()).limit(1)
        ).first()
        params = _stored_params(latest.params) if latest is not None else None
        if params is not None and latest is not None:
            from dedupe.engine import Matcher

            self._matcher = Matcher(matcher_settings(self.config), params=params)
            self._fitted_on = latest.record_count
        self._loaded = True

    def _ensure_model(self, session: Session, incoming: Sequence[PersonRecord]) -> int:
        from dedupe.engine import Matcher

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

    # -- a backlog ---------------------------------------------------------------------------
    @property
    def deferring(self) -> bool:
        """Whether this run is leaving records for ``link_backlog``."""
        return self._backlog

    def defers(self, session: Session, incoming: int, more: Callable[[], bool]) -> bool:
        """Whether a page of ``incoming`` records waits for the backlog pass (True) or is
        linked now. A run defers from its first page that is large compared with what is
        linked (``MatchSettings.refit_share`` of it, or anything when nothing is) and is not
        its last page (``more()``; a lone page is linked in one pass anyway), and from its start
        when records wait from a run that was killed; once deferring, it defers to its end."""
        if self._backlog:
            return True
        self.load(session)
        if self._waiting is None:
            self._waiting = waiting_count(session)
        share = matcher_settings(self.config).refit_share
        if self._waiting or (incoming and incoming >= share * len(self.persons) and more()):
            self._backlog = True
        return self._backlog

    def link_backlog(self, session: Session) -> LinkCounts:
        """Link every mapped record that has no link yet, in one pass, in key order (the order
        ``bridge relink`` reads records in)."""
        rows = session.execute(
            select(SourceRecordRow.id, SourceRecordRow.canonical)
            .outerjoin(LinkRow, LinkRow.record_pk == SourceRecordRow.id)
            .where(SourceRecordRow.state == "mapped", LinkRow.record_pk.is_(None))
            .order_by(SourceRecordRow.system, SourceRecordRow.record_id)
        )
        items = [LinkItem(pk, canonical) for pk, canonical in rows]
        self._backlog, self._waiting = False, 0
        if not items:
            return LinkCounts()
        log.info("linking a backlog of %d records in one pass", len(items))
        return self.link(session, items, one_pass=True)

    # -- linking -----------------------------------------------------------------------------
    def link(self, session: Session, rows: Iterable[Any], *, one_pass: bool = False) -> LinkCounts:
        """Link mapped records that are new or whose identity fields changed. ``rows`` have
        ``id`` and ``canonical`` (``SourceRecordRow`` or ``LinkItem``). ``one_pass``: a
        backlog; into an empty index it is linked as ``bridge relink`` links (weights
        estimated on the records and the helpdesk's answers, one full link)."""
        self.load(session)
        counts = LinkCounts()
        ordered: list[tuple[int, PersonRecord, bool]] = []  # (pk, person, changed), in order
        previous_child: dict[str, str] = {}
        for row in rows:
            person = person_of(row.canonical)
            old = self.persons.get(person.key)
            if old is not None and old == person:
                continue
            ordered.append((row.id, person, old is not None))
        stays: set[str] = set()
        if any(is_changed for *_, is_changed in ordered):
            changed = [(pk, p) for pk, p, is_changed in ordered if is_changed]
            stays = self._unlink_changed(session, changed, previous_child)
        batch = [(pk, p) for pk, p, _ in ordered if p.key not in stays]
        if not batch:
            return counts
        persons = [p for _, p in batch]
        must, cannot = self.constraints(session)
        if one_pass and not self.persons:
            counts.refits += self._fit_all(session, persons, must, cannot)
            assert self._index is not None
            plan = self._index.add(persons, must_link=must, cannot_link=cannot, full=True)
        else:
            counts.refits += self._ensure_model(session, persons)
            assert self._index is not None
            plan = self._index.add(persons, must_link=must, cannot_link=cannot)
        pk_of = {p.key: pk for pk, p in batch}
        for person in persons:
            self.persons[person.key] = person
        emptied: set[str] = set(previous_child.values())
        new_links: list[dict[str, Any]] = []
        new_children: list[dict[str, Any]] = []
        in_use: set[str] | None = None  # child ids held by a record, when first needed
        for cluster in plan.clusters:
            new_keys = sorted(k for k in cluster if k in pk_of)
            existing = {self.labels[k] for k in cluster if k in self.labels and k not in pk_of}
            if not existing and any(k in previous_child for k in new_keys) and in_use is None:
                in_use = set(self.labels.values())
            child_id = self._child_for(
                session, new_keys, existing, previous_child, counts, new_children, in_use
            )
            internal = _label_of(self._index, new_keys[0]) if new_keys else None
            if internal is not None and internal != child_id:
                self._index.relabel(internal, child_id)
            method = "new" if len(cluster) == 1 else None
            for key in new_keys:
                exact = self._shares_exact_id(key, cluster)
                new_links.append(
                    {
                        "record_pk": pk_of[key],
                        "child_id": child_id,
                        "method": method or ("exact" if exact else "auto"),
                    }
                )
                self.labels[key] = child_id
                if in_use is not None:
                    in_use.add(child_id)
                counts.linked += 1
        session.flush()  # what the ORM holds (a merge, a revived child) goes first
        if new_children:  # children first: links point at them
            session.execute(insert(ChildRow), new_children)
        if new_links:
            session.execute(insert(LinkRow), new_links)
        mark_empty_children(session, emptied)
        counts.reviews += self._store_reviews(session, plan.reviews)
        session.flush()
        settings = matcher_settings(self.config)
        trim_review_queue(session, max(1, int(settings.review_budget_share * len(self.persons))))
        return counts

    def _unlink_changed(
        self,
        session: Session,
        changed: list[tuple[int, PersonRecord]],
        previous_child: dict[str, str],
    ) -> set[str]:
        """Records whose identity fields changed: a link a person made stays (the record's
        new fields are kept in the index; their keys are returned); any other link is dropped
        (its child remembered, to keep the id if the record still stands alone) and the
        record is linked again."""
        links = _links_of(session, [pk for pk, _ in changed])
        stays: set[str] = set()
        dropped: list[int] = []
        for pk, person in changed:
            link = links.get(pk)
            if link is not None and link[1] == "human":
                self.persons[person.key] = person  # a person decided: the link stays
                stays.add(person.key)
                continue
            if link is not None:
                previous_child[person.key] = link[0]
                dropped.append(pk)
            self._forget([person.key])
        for start in range(0, len(dropped), 500):
            session.execute(
                delete(LinkRow).where(LinkRow.record_pk.in_(dropped[start : start + 500]))
            )
        return stays

    def _fit_all(
        self,
        session: Session,
        persons: list[PersonRecord],
        must: list[tuple[str, str]],
        cannot: list[tuple[str, str]],
    ) -> int:
        """Weights estimated on ``persons`` and the helpdesk's answers, as ``bridge relink``
        does, and an empty index to link them into in one full pass."""
        from dedupe.engine import Matcher, MatchIndex

        labelled = [(a, b, True) for a, b in must] + [(a, b, False) for a, b in cannot]
        params = Matcher(matcher_settings(self.config)).fit(persons, labelled_pairs=labelled)
        session.add(ModelParamsRow(record_count=len(persons), params=params.to_dict()))
        self._matcher = Matcher(matcher_settings(self.config), params=params)
        self._fitted_on = len(persons)
        self._index = MatchIndex(self._matcher)
        log.info("matching weights estimated on %d records", len(persons))
        return 1

    def _child_for(
        self,
        session: Session,
        new_keys: list[str],
        existing: set[str],
        previous_child: dict[str, str],
        counts: LinkCounts,
        new_children: list[dict[str, Any]],
        in_use: set[str] | None,
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
                if in_use is not None:
                    in_use.discard(merged)
                    in_use.add(survivor)
            counts.merged_children += len(existing) - 1
            counts.joined += len(new_keys)
            return survivor
        # a record whose identity fields changed keeps its id when it still stands alone
        if in_use is not None:
            revivable = sorted(
                {previous_child[k] for k in new_keys if k in previous_child} - in_use
            )
            if revivable:
                row = session.get(ChildRow, revivable[0])
                if row is not None and row.state in ("active", "empty"):
                    row.state = "active"
                    return row.child_id
        counts.new_children += 1
        assert self._ids is not None
        child_id, seq = self._ids.mint_id(new_keys[0])
        new_children.append({"child_id": child_id, "seq": seq, "state": "active"})
        return child_id

    def _shares_exact_id(self, key: str, cluster: list[str]) -> bool:
        mine = self.persons[key].exact_ids
        if not mine:
            return False
        mine_set = set(mine)
        return any(
            other != key and mine_set.intersection(self.persons[other].exact_ids)
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
        return upsert_reviews(
            session,
            [
                review
                for review in reviews
                if tuple(sorted((review.key_a, review.key_b))) not in decided
                and self.labels.get(review.key_a) != self.labels.get(review.key_b)
            ],
            reopen_stale=True,
        )

    def forget_records(self, session: Session, keys: list[str]) -> None:
        """Drop records from the index and their links (used when a record is quarantined)."""
        self.load(session)
        self._forget(keys)


def waiting_count(session: Session) -> int:
    """Mapped records without a link: a backlog waiting for its one-pass link."""
    return (
        session.scalar(
            select(func.count())
            .select_from(SourceRecordRow)
            .outerjoin(LinkRow, LinkRow.record_pk == SourceRecordRow.id)
            .where(SourceRecordRow.state == "mapped", LinkRow.record_pk.is_(None))
        )
        or 0
    )


def _links_of(session: Session, pks: list[int]) -> dict[int, tuple[str, str]]:
    """record pk -> (child id, method) of those records that have a link."""
    found: dict[int, tuple[str, str]] = {}
    for start in range(0, len(pks), 500):
        for pk, child_id, method in session.execute(
            select(LinkRow.record_pk, LinkRow.child_id, LinkRow.method).where(
                LinkRow.record_pk.in_(pks[start : start + 500])
            )
        ):
            found[pk] = (child_id, method)
    return found


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
    from bridge.reports import child_of_keys
    from bridge.store.schema import POSSIBLE

    session.flush()
    items = list(
        session.execute(
            select(ReviewItemRow.id, ReviewItemRow.key_a, ReviewItemRow.key_b)
            .where(ReviewItemRow.state == "open", ReviewItemRow.kind == POSSIBLE)
            .order_by(ReviewItemRow.score.desc(), ReviewItemRow.id)
        )
    )
    if len(items) <= budget:
        return 0
    child = child_of_keys(session, {k for _, a, b in items for k in (a, b)})
    split = [
        row_id
        for row_id, a, b in items
        if a in child and b in child and child[a] != child[b]  # as ``open_reviews`` lists them
    ]
    extra = split[budget:]
    for start in range(0, len(extra), 500):
        session.execute(
            update(ReviewItemRow)
            .where(ReviewItemRow.id.in_(extra[start : start + 500]))
            .values(state="stale")
        )
    if extra:  # the ORM may hold some of these rows from earlier in the transaction
        for obj in list(session.identity_map.values()):
            if isinstance(obj, ReviewItemRow):
                session.expire(obj)
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


def _evidence_of(review: ReviewPair) -> list[dict[str, Any]]:
    return [
        {"comparison": e.comparison, "level": e.level, "weight": round(e.weight, 3)}
        for e in review.evidence
    ]


def upsert_reviews(
    session: Session, reviews: Sequence[ReviewPair], *, reopen_stale: bool = False
) -> int:
    """``upsert_review`` for many pairs, in a few statements; how many are newly open.
    A pair listed twice ends with its last score, as one upsert after the other would."""
    session.flush()
    wanted: dict[tuple[str, str], ReviewPair] = {}
    for review in reviews:
        a, b = sorted((review.key_a, review.key_b))
        wanted[(a, b)] = review
    if not wanted:
        return 0
    found: dict[tuple[str, str], tuple[int, str]] = {}
    firsts = sorted({a for a, _ in wanted})
    for start in range(0, len(firsts), 500):
        for row_id, a, b, state in session.execute(
            select(
                ReviewItemRow.id, ReviewItemRow.key_a, ReviewItemRow.key_b, ReviewItemRow.state
            ).where(ReviewItemRow.key_a.in_(firsts[start : start + 500]))
        ):
            if (a, b) in wanted:
                found[(a, b)] = (row_id, state)
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    newly_open = 0
    for (a, b), review in wanted.items():
        row = found.get((a, b))
        evidence = _evidence_of(review)
        if row is None:
            inserts.append({"key_a": a, "key_b": b, "score": review.score, "evidence": evidence})
            newly_open += 1
        elif row[1] == "open" or (reopen_stale and row[1] == "stale"):
            newly_open += row[1] != "open"
            updates.append({"row_id": row[0], "score": review.score, "evidence": evidence})
    if inserts:
        session.execute(insert(ReviewItemRow), inserts)
    if updates:
        table = ReviewItemRow.__table__
        session.execute(
            update(table)
            .where(table.c.id == bindparam("row_id"))
            .values(state="open", score=bindparam("score"), evidence=bindparam("evidence")),
            updates,
        )
        # the ORM may hold some of these rows from earlier in the transaction
        for obj in list(session.identity_map.values()):
            if isinstance(obj, ReviewItemRow):
                session.expire(obj)
    return newly_open
