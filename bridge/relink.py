"""``bridge relink``: link every stored record again from scratch, after a rule change.

Weights are re-estimated from all stored records; human decisions (``match_constraints``) are
passed to the engine as must-link / cannot-link pairs, so every decision still stands. Ids
stay as stable as the new clustering allows: each new cluster keeps the id most of its
records had (the older child on a tie); a child whose records all moved into another becomes
an alias of it; a cluster with no id of its own gets a new, never-used one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.orm import Session

from bridge.children import ChildIds
from bridge.config import MatchingConfig
from bridge.estimates import safely_compute
from bridge.linking import Linker, decided_pairs, matcher_settings, person_of, upsert_reviews
from bridge.runlock import recorded_run, run_lock
from bridge.store.db import Store
from bridge.store.schema import (
    POSSIBLE,
    ChildRow,
    LinkRow,
    ModelParamsRow,
    ReviewItemRow,
    SourceRecordRow,
)


@dataclass
class RelinkReport:
    records: int = 0
    children_before: int = 0
    children_after: int = 0
    moved: int = 0
    new_children: int = 0
    merged_children: int = 0
    reviews: int = 0


def relink(
    store: Store, config: MatchingConfig, progress: Callable[[str], None] | None = None
) -> RelinkReport:
    """Relink everything, as a run of its own in ``bridge status`` (command ``relink``) whose
    counts hold the report and the engine's estimates afterwards."""
    report = RelinkReport()
    estimates = None
    with recorded_run(store, "relink") as run:
        try:
            with run_lock(store, run_id=run.run_id):
                with store.session() as session:
                    if progress:
                        progress("relink: linking every stored record again")
                    _relink(session, config, report)
                if progress:
                    done = f"relink: {report.records} records linked"
                    progress(f"{done}; estimating from the model")
                estimates = safely_compute(store, config)
        finally:  # what was done, even when it failed
            run.counts = {"relink": asdict(report)}
            if estimates is not None:
                run.counts["estimates"] = estimates
    return report


def _relink(session: Session, config: MatchingConfig, report: RelinkReport) -> None:
    from dedupe.engine import Matcher

    rows = list(
        session.execute(
            select(
                SourceRecordRow.id,
                SourceRecordRow.system,
                SourceRecordRow.record_id,
                SourceRecordRow.canonical,
            )
            .where(SourceRecordRow.state == "mapped")
            .order_by(SourceRecordRow.system, SourceRecordRow.record_id)  # not arrival
        )
    )
    persons = [person_of(canonical) for *_, canonical in rows]
    pk_of = {p.key: row[0] for p, row in zip(persons, rows, strict=True)}
    links = {
        pk: (child_id, method)
        for pk, child_id, method in session.execute(
            select(LinkRow.record_pk, LinkRow.child_id, LinkRow.method)
        )
    }
    current = {key: links[pk][0] for key, pk in pk_of.items() if pk in links}
    report.records = len(persons)
    report.children_before = len(set(current.values()))
    must, cannot = Linker.constraints(session)
    matcher = Matcher(matcher_settings(config))
    labelled = [(a, b, True) for a, b in must] + [(a, b, False) for a, b in cannot]
    params = matcher.fit(persons, labelled_pairs=labelled)
    session.add(ModelParamsRow(record_count=len(persons), params=params.to_dict()))
    matcher = Matcher(matcher_settings(config), params=params)
    plan = matcher.link(persons, must_link=must, cannot_link=cannot)
    seq = {c: n for c, n in session.execute(select(ChildRow.child_id, ChildRow.seq))}
    ids = ChildIds(session)
    minted: list[dict] = []
    taken: set[str] = set()
    assigned: dict[str, str] = {}
    # biggest clusters choose first, so a split keeps the id with most of its records
    for cluster in sorted(plan.clusters, key=lambda c: (-len(c), min(c))):
        votes = Counter(current[k] for k in cluster if k in current)
        choices = sorted(
            (cid for cid in votes if cid not in taken),
            key=lambda cid: (-votes[cid], seq.get(cid, 0)),
        )
        if choices:
            child_id = choices[0]
        else:
            child_id, number = ids.mint_id(min(cluster))
            minted.append({"child_id": child_id, "seq": number, "state": "active"})
            report.new_children += 1
        taken.add(child_id)
        for key in cluster:
            assigned[key] = child_id
    if minted:
        session.execute(insert(ChildRow), minted)
    added: list[dict] = []
    moved: list[dict] = []
    for key, child_id in assigned.items():
        link = links.get(pk_of[key])
        if link is None:
            added.append({"record_pk": pk_of[key], "child_id": child_id, "method": "auto"})
        elif link[0] != child_id:
            # a link a person made stays marked as theirs: the constraints moved it here
            method = "human" if link[1] == "human" else "auto"
            moved.append({"pk": pk_of[key], "new_child": child_id, "new_method": method})
    report.moved = len(added) + len(moved)
    if added:
        session.execute(insert(LinkRow), added)
    if moved:
        table = LinkRow.__table__
        session.execute(
            update(table)
            .where(table.c.record_pk == bindparam("pk"))
            .values(child_id=bindparam("new_child"), method=bindparam("new_method")),
            moved,
        )
    report.merged_children = _retire_children(session, current, assigned, taken)
    report.children_after = len(taken)
    report.reviews = _replace_reviews(session, plan.reviews, assigned)


def _retire_children(
    session: Session, before: dict[str, str], after: dict[str, str], alive: set[str]
) -> int:
    """A child id no cluster kept becomes an alias of where its records went (or empty)."""
    merged = 0
    went: dict[str, set[str]] = {}
    for key, old in before.items():
        went.setdefault(old, set()).add(after.get(key, ""))
    retired = [old for old in went if old not in alive]
    existing = {
        child_id
        for start in range(0, len(retired), 500)
        for child_id in session.scalars(
            select(ChildRow.child_id).where(ChildRow.child_id.in_(retired[start : start + 500]))
        )
    }
    for old in retired:
        if old not in existing:
            continue
        targets = went[old]
        targets.discard("")
        if len(targets) == 1:
            into = next(iter(targets))
            session.execute(
                update(ChildRow)
                .where(ChildRow.child_id == old)
                .values(state="merged", merged_into=into)
            )
            session.execute(
                update(ChildRow).where(ChildRow.merged_into == old).values(merged_into=into)
            )
            merged += 1
        else:
            session.execute(update(ChildRow).where(ChildRow.child_id == old).values(state="empty"))
    return merged


def _replace_reviews(session: Session, reviews: list, assigned: dict[str, str]) -> int:
    session.execute(
        update(ReviewItemRow)
        .where(ReviewItemRow.state == "open", ReviewItemRow.kind == POSSIBLE)
        .values(state="stale")
    )
    decided = decided_pairs(session)
    return upsert_reviews(
        session,
        [
            review
            for review in reviews
            if tuple(sorted((review.key_a, review.key_b))) not in decided
            and assigned.get(review.key_a) != assigned.get(review.key_b)
        ],
        reopen_stale=True,
    )
