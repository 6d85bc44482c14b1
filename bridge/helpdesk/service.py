"""Helpdesk decisions: merge, distinct, split, undo. Each is attributed, explained, reversible.

A decision is stored three ways, in one transaction: match constraints (must / cannot link)
that the linker and ``relink`` pass to the engine, so no later sync or re-link undoes it; the
links it moved, marked ``human``; and a ``decisions`` row whose ``details`` keep the state
before and after, so ``undo`` can put it back. Every decision also writes audit rows, one per
child it touched. Messages and details carry ids only, never personal data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from adapters.errors import BridgeError
from bridge.children import members, merge_children, new_child, resolve
from bridge.helpdesk.audit import record_audit
from bridge.identity import normalise_child_id
from bridge.linking import split_key
from bridge.store.schema import (
    AUDIT,
    ChildRow,
    DecisionRow,
    LinkRow,
    MatchConstraintRow,
    ReviewItemRow,
    SourceRecordRow,
)


class HelpdeskError(BridgeError):
    """A decision that cannot be made as asked; the message says why and what to do."""


@dataclass
class DecisionResult:
    decision_id: int
    kind: str
    message: str
    children: list[str] = field(default_factory=list)  # children whose records changed
    involved: list[str] = field(default_factory=list)  # record keys the decision moved


def require_attribution(by: str | None, reason: str | None) -> tuple[str, str]:
    """Who and why are both required for every decision."""
    missing = [opt for opt, value in (("--by NAME", by), ("--reason TEXT", reason)) if not value]
    if missing or not (by or "").strip() or not (reason or "").strip():
        raise HelpdeskError(
            f"{' and '.join(missing) or '--by and --reason'} required: every decision records "
            "who made it and why"
        )
    by, reason = (by or "").strip(), (reason or "").strip()
    if any(ch < " " and ch not in "\t\n" for ch in by + reason):
        raise HelpdeskError("--by and --reason may not contain control characters")
    return by, reason


def require_actor(by: str | None) -> str:
    """Who is looking: required for every view of a child's records."""
    if not by or not by.strip():
        raise HelpdeskError("--by NAME required: every view of a child's records is recorded")
    if any(ch < " " for ch in by):
        raise HelpdeskError("--by may not contain control characters")
    return by.strip()


# -- small helpers -----------------------------------------------------------------------
def find_record(session: Session, key: str) -> SourceRecordRow | None:
    system, record_id = split_key(key)
    return session.scalars(
        select(SourceRecordRow).where(
            SourceRecordRow.system == system, SourceRecordRow.record_id == record_id
        )
    ).first()


def _link_of(session: Session, key: str) -> tuple[SourceRecordRow, LinkRow]:
    row = find_record(session, key)
    link = session.get(LinkRow, row.id) if row is not None else None
    if row is None or link is None:
        raise HelpdeskError(f"record {key} is not stored or belongs to no child")
    return row, link


def _active_child(session: Session, child_id: str) -> ChildRow:
    row = resolve(session, child_id)
    if row is None:
        raise HelpdeskError(f"no child {normalise_child_id(child_id)}")
    if row.state != "active":
        raise HelpdeskError(f"child {row.child_id} is {row.state}: it has no records")
    return row


def _open_review(session: Session, review_id: int) -> ReviewItemRow:
    item = session.get(ReviewItemRow, review_id)
    if item is None:
        raise HelpdeskError(f"no review item {review_id}")
    if item.state != "open":
        decided = session.scalars(
            select(DecisionRow.id).where(DecisionRow.review_item_id == review_id)
        ).all()
        by = f" (decision {', '.join(map(str, decided))})" if decided else ""
        raise HelpdeskError(f"review item {review_id} is {item.state}{by}, not open")
    return item


def _links_before(session: Session, rows: list[SourceRecordRow]) -> dict[str, dict[str, Any]]:
    out = {}
    for row in rows:
        link = session.get(LinkRow, row.id)
        if link is not None:
            out[row.key] = {
                "child_id": link.child_id,
                "method": link.method,
                "decided_by": link.decided_by,
            }
    return out


def _child_state(row: ChildRow) -> dict[str, Any]:
    return {"state": row.state, "merged_into": row.merged_into}


def _constrain(session: Session, a: str, b: str, kind: str, decision_id: int) -> None:
    key_a, key_b = sorted((a, b))
    session.add(MatchConstraintRow(key_a=key_a, key_b=key_b, kind=kind, decision_id=decision_id))


def _set_link(session: Session, row: SourceRecordRow, child_id: str, by: str) -> None:
    link = session.get(LinkRow, row.id)
    assert link is not None
    link.child_id, link.method, link.decided_by = child_id, "human", by
    link.linked_at = datetime.now(UTC)


def _decision(
    session: Session, kind: str, by: str, reason: str, details: dict[str, Any], review: int | None
) -> DecisionRow:
    row = DecisionRow(
        kind=kind, decided_by=by, reason=reason, details=details, review_item_id=review
    )
    session.add(row)
    session.flush()
    return row


def _audit_children(
    session: Session, decision: DecisionRow, children: list[str], extra: dict[str, Any]
) -> None:
    for child_id in dict.fromkeys(children):
        record_audit(
            session,
            actor=decision.decided_by,
            action=decision.kind,
            child_id=child_id,
            reason=decision.reason,
            details={"decision": decision.id, **extra},
        )


# -- merge ---------------------------------------------------------------------------------
def merge_children_decision(
    session: Session,
    child_a: str,
    child_b: str,
    *,
    by: str | None,
    reason: str | None,
    review_item: ReviewItemRow | None = None,
) -> DecisionResult:
    """Two children are one: the older id survives, the other becomes its alias."""
    by, reason = require_attribution(by, reason)
    first, second = _active_child(session, child_a), _active_child(session, child_b)
    if first.child_id == second.child_id:
        raise HelpdeskError(f"{child_a} and {child_b} are already the same child {first.child_id}")
    rows_a, rows_b = members(session, first.child_id), members(session, second.child_id)
    ids = [first.child_id, second.child_id]
    aliases = {
        cid: sorted(session.scalars(select(ChildRow.child_id).where(ChildRow.merged_into == cid)))
        for cid in ids
    }
    before: dict[str, Any] = {
        "links": _links_before(session, rows_a + rows_b),
        "children": {first.child_id: _child_state(first), second.child_id: _child_state(second)},
        "aliases": aliases,
    }
    if review_item is not None:
        before["review"] = {"id": review_item.id, "state": review_item.state}
    survivor = merge_children(session, set(ids))
    keys = [r.key for r in rows_a + rows_b]
    details = {"records": keys, "children": ids, "survivor": survivor, "before": before}
    decision = _decision(
        session, "merge", by, reason, details, review_item.id if review_item else None
    )
    for row in rows_a + rows_b:
        _set_link(session, row, survivor, by)
    for x in rows_a:
        for y in rows_b:
            _constrain(session, x.key, y.key, "must", decision.id)
    if review_item is not None:
        review_item.state, review_item.resolved_at = "resolved", datetime.now(UTC)
    merged = next(cid for cid in ids if cid != survivor)
    decision.details = {**details, "after": {"links": dict.fromkeys(keys, survivor)}}
    _audit_children(session, decision, [survivor, merged], {"survivor": survivor, "merged": merged})
    return DecisionResult(
        decision.id,
        "merge",
        f"decision {decision.id}: merged {merged} into {survivor} ({len(keys)} records); "
        f"{merged} is now an alias of {survivor}",
        children=[survivor],
        involved=keys,
    )


def merge_review(
    session: Session, review_id: int, *, by: str | None, reason: str | None
) -> DecisionResult:
    """The two records of a review item are the same child: merge their children."""
    require_attribution(by, reason)
    item = _open_review(session, review_id)
    if item.kind == AUDIT:
        return confirm_audit(session, item, by=by, reason=reason)
    _, link_a = _link_of(session, item.key_a)
    _, link_b = _link_of(session, item.key_b)
    if link_a.child_id == link_b.child_id:
        raise HelpdeskError(
            f"review item {review_id}: both records are already child {link_a.child_id}"
        )
    return merge_children_decision(
        session, link_a.child_id, link_b.child_id, by=by, reason=reason, review_item=item
    )


# -- distinct ------------------------------------------------------------------------------
def mark_distinct(
    session: Session, review_id: int, *, by: str | None, reason: str | None
) -> DecisionResult:
    """The two records are different children: never suggested or linked together again."""
    by, reason = require_attribution(by, reason)
    item = _open_review(session, review_id)
    if item.kind == AUDIT:
        return split_audit(session, item, by=by, reason=reason)
    rec_a, link_a = _link_of(session, item.key_a)
    rec_b, link_b = _link_of(session, item.key_b)
    if link_a.child_id == link_b.child_id:
        raise HelpdeskError(
            f"review item {review_id}: both records are in child {link_a.child_id}; "
            "use `bridge children split` to pull one out"
        )
    keys = [rec_a.key, rec_b.key]
    children = [link_a.child_id, link_b.child_id]
    details = {
        "records": keys,
        "children": children,
        "before": {"review": {"id": item.id, "state": item.state}},
    }
    decision = _decision(session, "distinct", by, reason, details, item.id)
    _constrain(session, rec_a.key, rec_b.key, "cannot", decision.id)
    item.state, item.resolved_at = "resolved", datetime.now(UTC)
    _audit_children(session, decision, children, {"records": keys})
    return DecisionResult(
        decision.id,
        "distinct",
        f"decision {decision.id}: {rec_a.key} and {rec_b.key} are different children "
        f"({children[0]}, {children[1]}); they will not be suggested again",
        children=[],
        involved=[],
    )


# -- audits of automatic links ------------------------------------------------------------
def _audited_link(session: Session, item: ReviewItemRow) -> tuple[str, list[SourceRecordRow]]:
    _, link_a = _link_of(session, item.key_a)
    _, link_b = _link_of(session, item.key_b)
    if link_a.child_id != link_b.child_id:
        raise HelpdeskError(
            f"review item {item.id}: the audited records are no longer one child "
            f"({link_a.child_id}, {link_b.child_id}); nothing to check"
        )
    return link_a.child_id, members(session, link_a.child_id)


def confirm_audit(
    session: Session, item: ReviewItemRow, *, by: str | None, reason: str | None
) -> DecisionResult:
    """An audited automatic link is right: it is kept, and sticks (a must-link)."""
    by, reason = require_attribution(by, reason)
    child_id, _ = _audited_link(session, item)
    keys = [item.key_a, item.key_b]
    details = {
        "records": keys,
        "children": [child_id],
        "before": {"review": {"id": item.id, "state": item.state}},
    }
    decision = _decision(session, "confirm", by, reason, details, item.id)
    _constrain(session, item.key_a, item.key_b, "must", decision.id)
    item.state, item.resolved_at = "resolved", datetime.now(UTC)
    _audit_children(session, decision, [child_id], {"records": keys, "audit": True})
    return DecisionResult(
        decision.id,
        "confirm",
        f"decision {decision.id}: the link of {item.key_a} and {item.key_b} in {child_id} is "
        "right (audited)",
        children=[],
        involved=[],
    )


def split_audit(
    session: Session, item: ReviewItemRow, *, by: str | None, reason: str | None
) -> DecisionResult:
    """An audited automatic link is wrong: the child is split between the two records (at
    the weakest link of its strongest-link tree on the path between them), and the two
    records are never linked again."""
    from bridge.helpdesk.link_audit import side_of_second

    by, reason = require_attribution(by, reason)
    child_id, rows = _audited_link(session, item)
    side = set(side_of_second(session, [r.key for r in rows], item.key_a, item.key_b))
    out = [r for r in rows if r.key in side]
    stay = [r for r in rows if r.key not in side]
    child = _active_child(session, child_id)
    before = {
        "links": _links_before(session, rows),
        "children": {child_id: _child_state(child)},
        "review": {"id": item.id, "state": item.state},
    }
    fresh = new_child(session, min(side))
    keys = [r.key for r in rows]
    details: dict[str, Any] = {
        "records": keys,
        "children": [child_id, fresh.child_id],
        "created": [fresh.child_id],
        "split_off": sorted(side),
        "before": before,
    }
    decision = _decision(session, "split", by, reason, details, item.id)
    for row in out:
        _set_link(session, row, fresh.child_id, by)
    for row in stay:
        _set_link(session, row, child_id, by)
    _constrain(session, item.key_a, item.key_b, "cannot", decision.id)
    item.state, item.resolved_at = "resolved", datetime.now(UTC)
    after = {r.key: (fresh.child_id if r.key in side else child_id) for r in rows}
    decision.details = {**details, "after": {"links": after}}
    _audit_children(
        session,
        decision,
        [child_id, fresh.child_id],
        {"new_child": fresh.child_id, "audit": True},
    )
    return DecisionResult(
        decision.id,
        "split",
        f"decision {decision.id}: {item.key_a} and {item.key_b} are different children; "
        f"{len(out)} record(s) split from {child_id} into new child {fresh.child_id}",
        children=[child_id, fresh.child_id],
        involved=keys,
    )


# -- split ---------------------------------------------------------------------------------
def _pick_members(
    rows: list[SourceRecordRow], refs: list[str], child_id: str
) -> list[SourceRecordRow]:
    picked: dict[str, SourceRecordRow] = {}
    for ref in refs:
        matches = [r for r in rows if ref in (r.key, r.record_id)]
        if not matches:
            raise HelpdeskError(f"record {ref} is not in child {child_id}")
        if len(matches) > 1:
            raise HelpdeskError(f"record {ref} is ambiguous in child {child_id}: write system:id")
        picked[matches[0].key] = matches[0]
    return list(picked.values())


def split_child(
    session: Session,
    child_id: str,
    record_refs: list[str],
    *,
    by: str | None,
    reason: str | None,
) -> DecisionResult:
    """Pull records out of a wrongly merged child into a new child with a fresh id."""
    by, reason = require_attribution(by, reason)
    child = _active_child(session, child_id)
    rows = members(session, child.child_id)
    out = _pick_members(rows, record_refs, child.child_id)
    if not out:
        raise HelpdeskError("name at least one record to split off (system:record_id)")
    out_keys = {r.key for r in out}
    stay = [r for r in rows if r.key not in out_keys]
    if not stay:
        raise HelpdeskError(
            f"child {child.child_id} would keep no record: leave at least one in it"
        )
    before = {
        "links": _links_before(session, rows),
        "children": {child.child_id: _child_state(child)},
    }
    fresh = new_child(session, min(out_keys))
    keys = [r.key for r in rows]
    details: dict[str, Any] = {
        "records": keys,
        "children": [child.child_id, fresh.child_id],
        "created": [fresh.child_id],
        "split_off": sorted(out_keys),
        "before": before,
    }
    decision = _decision(session, "split", by, reason, details, None)
    for row in out:
        _set_link(session, row, fresh.child_id, by)
    for row in stay:
        _set_link(session, row, child.child_id, by)
    for x in out:
        for y in stay:
            _constrain(session, x.key, y.key, "cannot", decision.id)
    anchor = min(out, key=lambda r: r.key)
    for row in out:
        if row is not anchor:
            _constrain(session, anchor.key, row.key, "must", decision.id)
    after = {r.key: (fresh.child_id if r.key in out_keys else child.child_id) for r in rows}
    decision.details = {**details, "after": {"links": after}}
    _audit_children(
        session, decision, [child.child_id, fresh.child_id], {"new_child": fresh.child_id}
    )
    return DecisionResult(
        decision.id,
        "split",
        f"decision {decision.id}: {len(out)} record(s) split from {child.child_id} into new "
        f"child {fresh.child_id}",
        children=[child.child_id, fresh.child_id],
        involved=keys,  # the records left behind may still point at those split off
    )


# -- undo ----------------------------------------------------------------------------------
def _dependants(session: Session, decision: DecisionRow) -> list[int]:
    mine = set(decision.details.get("records", []))
    later = session.scalars(
        select(DecisionRow).where(
            DecisionRow.id > decision.id,
            DecisionRow.undone_by.is_(None),
            DecisionRow.kind != "undo",
        )
    )
    return [d.id for d in later if mine & set(d.details.get("records", []))]


def undo_decision(
    session: Session, decision_id: int, *, by: str | None, reason: str | None
) -> DecisionResult:
    """Put back what a decision changed and lift its constraints (the engine decides again)."""
    by, reason = require_attribution(by, reason)
    target = session.get(DecisionRow, decision_id)
    if target is None:
        raise HelpdeskError(f"no decision {decision_id}")
    if target.kind == "undo":
        raise HelpdeskError(
            f"decision {decision_id} is itself an undo; make a new decision instead"
        )
    if target.undone_by is not None:
        raise HelpdeskError(f"decision {decision_id} was already undone by {target.undone_by}")
    blocking = _dependants(session, target)
    if blocking:
        raise HelpdeskError(
            f"decision {decision_id} cannot be undone: later decision(s) "
            f"{', '.join(map(str, blocking))} changed the same records; undo those first"
        )
    details = target.details or {}
    before = details.get("before", {})
    after_links: dict[str, str] = details.get("after", {}).get("links", {})
    session.execute(
        update(MatchConstraintRow)
        .where(MatchConstraintRow.decision_id == target.id)
        .values(active=False)
    )
    for cid, state in before.get("children", {}).items():
        row = session.get(ChildRow, cid)
        if row is not None:
            row.state, row.merged_into = state["state"], state["merged_into"]
    for cid, alias_ids in before.get("aliases", {}).items():
        for alias in alias_ids:
            row = session.get(ChildRow, alias)
            if row is not None and row.state == "merged":
                row.merged_into = cid
    restored, moved_since = [], []
    for key, was in before.get("links", {}).items():
        found = find_record(session, key)
        link = session.get(LinkRow, found.id) if found is not None else None
        if link is None or link.child_id != after_links.get(key):
            moved_since.append(key)
            continue
        link.child_id, link.method, link.decided_by = (
            was["child_id"],
            was["method"],
            was["decided_by"],
        )
        restored.append(key)
    origin = details.get("children", [None])[0]
    for cid in details.get("created", []):
        row = session.get(ChildRow, cid)
        left = session.scalar(select(func.count()).where(LinkRow.child_id == cid))
        if row is not None and not left:
            row.state, row.merged_into = "merged", origin
    review = before.get("review")
    if review:
        item = session.get(ReviewItemRow, review["id"])
        if item is not None:
            item.state, item.resolved_at = review["state"], None
    children = list(dict.fromkeys(details.get("children", []) + details.get("created", [])))
    undo = _decision(
        session,
        "undo",
        by,
        reason,
        {
            "undoes": target.id,
            "undone_kind": target.kind,
            "records": [],
            "children": children,
            "restored": restored,
            "moved_since": moved_since,
        },
        target.review_item_id,
    )
    target.undone_by = undo.id
    _audit_children(session, undo, children, {"undoes": target.id, "kind": target.kind})
    note = f"; {len(moved_since)} record(s) had moved since and were left" if moved_since else ""
    return DecisionResult(
        undo.id,
        "undo",
        f"decision {undo.id}: undid {target.kind} decision {target.id} "
        f"({len(restored)} record(s) restored){note}",
        children=[c for c in children if _is_active(session, c)],
        involved=restored,
    )


def _is_active(session: Session, child_id: str) -> bool:
    row = session.get(ChildRow, child_id)
    return row is not None and row.state == "active"
