"""Measured precision: a random sample of automatic links, answered by the helpdesk.

A deployment has no truth, but it has a helpdesk. ``sample_links`` puts pairs of records that
the engine linked into one child into the review queue as *audit* items, drawn uniformly
from all such pairs (so their answers estimate the pairwise precision, as
``score_links.py`` counts it). Pairs a person decided, and pairs joined by a shared exact id,
are not drawn. Audit items are answered like any pair (``bridge review merge`` = the same
child, ``bridge review distinct`` = not the same child; the desk's two buttons), and
``audited_precision`` turns the answers into a precision with a 95% Wilson interval.

A "not the same child" answer splits the link: the child's records are scored pairwise by the
stored model, and the weakest link of the strongest-link tree on the path between the two
records is cut; the records on the second record's side become a new child.
"""

from __future__ import annotations

import itertools
import math
import random
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from bridge.linking import record_key
from bridge.model import Child
from bridge.store.schema import (
    AUDIT,
    LinkRow,
    MatchConstraintRow,
    ModelParamsRow,
    ReviewItemRow,
    SourceRecordRow,
)
from dedupe.estimates import strongest_tree

Z95 = 1.959964


@dataclass(frozen=True)
class Sampled:
    added: int  # audit items queued now
    linked_pairs: int  # pairs of records in one child, drawn from
    open_audits: int  # audit items waiting for an answer, these included


def _linked_pairs(session: Session) -> list[tuple[str, str]]:
    """Every pair of mapped records in one child (key_a < key_b), in a stable order."""
    rows = session.execute(
        select(LinkRow.child_id, SourceRecordRow.system, SourceRecordRow.record_id)
        .join(SourceRecordRow, SourceRecordRow.id == LinkRow.record_pk)
        .where(SourceRecordRow.state == "mapped")
        .order_by(LinkRow.child_id, SourceRecordRow.system, SourceRecordRow.record_id)
    )
    by_child: dict[str, list[str]] = defaultdict(list)
    for child_id, system, record_id in rows:
        by_child[child_id].append(record_key(system, record_id))
    return [
        (a, b) if a < b else (b, a)
        for keys in by_child.values()
        for a, b in itertools.combinations(keys, 2)
    ]


def sample_links(session: Session, count: int, *, seed: int | None = None) -> Sampled:
    """Queue ``count`` automatic links drawn at random (``seed`` makes the draw repeatable)
    as audit items. Pairs already queued or decided by a person are never drawn again."""
    if count < 1:
        raise ValueError("sample at least one link")
    pairs = _linked_pairs(session)
    decided = {
        (min(r.key_a, r.key_b), max(r.key_a, r.key_b))
        for r in session.scalars(select(MatchConstraintRow).where(MatchConstraintRow.active))
    }
    queued = {(r.key_a, r.key_b) for r in session.scalars(select(ReviewItemRow))}
    shared_ids = _exact_id_pairs(session, pairs)
    eligible = [p for p in pairs if p not in decided and p not in queued and p not in shared_ids]
    drawn = random.Random(seed).sample(eligible, min(count, len(eligible)))
    scores = pair_scores(session, drawn)
    for (a, b), (score, evidence) in zip(drawn, scores, strict=True):
        session.add(ReviewItemRow(key_a=a, key_b=b, score=score, evidence=evidence, kind=AUDIT))
    session.flush()
    waiting = session.scalars(
        select(ReviewItemRow).where(ReviewItemRow.kind == AUDIT, ReviewItemRow.state == "open")
    ).all()
    return Sampled(len(drawn), len(pairs), len(waiting))


def _canonical(session: Session, keys: set[str]) -> dict[str, Child]:
    out: dict[str, Child] = {}
    if not keys:
        return out
    query = select(
        SourceRecordRow.system, SourceRecordRow.record_id, SourceRecordRow.canonical
    ).where(SourceRecordRow.state == "mapped")
    if len(keys) <= 500:  # else read them all: one query, no limit on bound parameters
        query = query.where(SourceRecordRow.record_id.in_({k.split(":", 1)[1] for k in keys}))
    rows = session.execute(query)
    for system, record_id, canonical in rows:
        key = record_key(system, record_id)
        if key in keys and canonical:
            out[key] = Child.model_validate(canonical)
    return out


def _exact_id_pairs(session: Session, pairs: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """Linked pairs whose two records share an exact id: the systems say they are one."""
    from bridge.linking import to_person

    keys = {k for p in pairs for k in p}
    ids = {k: set(to_person(c).exact_ids) for k, c in _canonical(session, keys).items()}
    return {(a, b) for a, b in pairs if ids.get(a, set()) & ids.get(b, set())}


def pair_scores(
    session: Session, pairs: list[tuple[str, str]]
) -> list[tuple[float, list[dict[str, Any]]]]:
    """Match probability and evidence of each pair under the stored model (no name-frequency
    adjustment: the pairs are scored out of the register). (0.0, []) without a model."""
    from bridge.linking import to_person
    from dedupe.engine import evidence_of
    from dedupe.fastpath import FastPairView
    from dedupe.prepare import prepare
    from dedupe.scoring import score
    from dedupe.weights import ModelParams

    latest = session.scalars(select(ModelParamsRow).order_by(ModelParamsRow.id.desc())).first()
    if latest is None or not pairs:
        return [(0.0, []) for _ in pairs]
    params = ModelParams.from_dict(latest.params)
    children = _canonical(session, {k for p in pairs for k in p})
    keys = sorted(children)
    row = {k: n for n, k in enumerate(keys)}
    table = prepare([to_person(children[k]) for k in keys])
    known = [(a, b) for a, b in pairs if a in row and b in row]
    pa = np.array([row[a] for a, _ in known], np.int32)
    pb = np.array([row[b] for _, b in known], np.int32)
    scored = score(FastPairView(table, pa, pb), params, {}, 0.0)
    found = {
        pair: (
            round(float(scored.prob[n]), 4),
            [
                {"comparison": e.comparison, "level": e.level, "weight": e.weight}
                for e in evidence_of(scored, n)
            ],
        )
        for n, pair in enumerate(known)
    }
    return [found.get(p, (0.0, [])) for p in pairs]


def side_of_second(session: Session, keys: list[str], key_a: str, key_b: str) -> list[str]:
    """The records of one child (``keys``) that go with ``key_b`` when the link between
    ``key_a`` and ``key_b`` is wrong: the strongest-link tree of the child's pairs is cut at
    its weakest link on the path between the two, and ``key_b``'s side is returned."""
    pairs = [(x, y) if x < y else (y, x) for x, y in itertools.combinations(keys, 2)]
    probs = [s for s, _ in pair_scores(session, pairs)]
    edges = [(p, x, y) for p, (x, y) in zip(probs, pairs, strict=True)]
    tree: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for p, x, y in strongest_tree(keys, edges):
        tree[x].append((y, p))
        tree[y].append((x, p))
    # the path from a to b, then the weakest link on it
    came: dict[str, tuple[str, float] | None] = {key_a: None}
    stack = [key_a]
    while stack:
        node = stack.pop()
        for other, p in tree[node]:
            if other not in came:
                came[other] = (node, p)
                stack.append(other)
    path: list[tuple[str, str, float]] = []
    node = key_b
    while came.get(node) is not None:
        prev, p = came[node]  # type: ignore[misc]
        path.append((prev, node, p))
        node = prev
    if not path:
        return [key_b]
    cut = min(path, key=lambda e: (e[2], e[0], e[1]))
    # b's side: everything reachable from b without crossing the cut
    side, stack = {key_b}, [key_b]
    while stack:
        node = stack.pop()
        for other, _ in tree[node]:
            crossing = {node, other} == {cut[0], cut[1]}
            if other not in side and not crossing:
                side.add(other)
                stack.append(other)
    return sorted(side)


@dataclass(frozen=True)
class Audited:
    pairs: int
    same: int
    precision: float
    low: float
    high: float

    def to_dict(self) -> dict[str, float | int]:
        return {
            "audited_precision": round(self.precision, 4),
            "audited_low": round(self.low, 4),
            "audited_high": round(self.high, 4),
            "audited_pairs": self.pairs,
        }


def wilson(same: int, pairs: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion ``same / pairs``."""
    if pairs <= 0:
        return 0.0, 1.0
    share = same / pairs
    middle = (share + z * z / (2 * pairs)) / (1 + z * z / pairs)
    half = z * math.sqrt(share * (1 - share) / pairs + z * z / (4 * pairs * pairs))
    half /= 1 + z * z / pairs
    # at a share of 0 or 1 the bound is exactly 0 or 1 (rounding would put it just inside)
    low = 0.0 if same == 0 else max(0.0, middle - half)
    high = 1.0 if same == pairs else min(1.0, middle + half)
    return low, high


def audited_precision(session: Session) -> Audited | None:
    """Precision measured from the answered audit items (their decisions not undone)."""
    from bridge.store.schema import DecisionRow

    answered = session.execute(
        select(DecisionRow.kind)
        .join(ReviewItemRow, ReviewItemRow.id == DecisionRow.review_item_id)
        .where(ReviewItemRow.kind == AUDIT, DecisionRow.undone_by.is_(None))
        .where(DecisionRow.kind.in_(("confirm", "split")))
    ).all()
    if not answered:
        return None
    same = sum(1 for (kind,) in answered if kind == "confirm")
    low, high = wilson(same, len(answered))
    return Audited(len(answered), same, same / len(answered), low, high)
