"""Constrained clustering: strongest links first, merge only compatible clusters.

Rules, in order:
1. System-asserted and human links (shared exact ids, must_link) join first, unless a
   cannot_link says otherwise (a human "different children" beats everything).
2. Pairs above the upper threshold and without the sibling pattern are taken strongest first.
   Two clusters merge only when EVERY cross pair is compatible: posterior at least the
   "compatible" floor, no sibling pattern, no cannot_link. So A≈B and B≈C never make A=C
   when A and C disagree; the B–C link then goes to review instead. Two records of the same
   system and organisation (``group``) must moreover score at least ``same_source``: a child
   is rarely registered twice in one system, so a weak same-source pair is two children.
3. Clusters that carry an existing child label (incremental add) never merge with each other:
   joining two existing children is a helpdesk decision, not an automatic one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

# (rows_a, rows_b) -> (posterior, sibling pattern) for pairs not scored yet
ScoreMissing = Callable[[list[int], list[int]], list[tuple[float, bool]]]


@dataclass
class Clusterer:
    compatible: float
    score_missing: ScoreMissing
    scores: dict[tuple[int, int], tuple[float, bool]] = field(default_factory=dict)
    cannot: set[tuple[int, int]] = field(default_factory=set)
    parent: dict[int, int] = field(default_factory=dict)
    members: dict[int, list[int]] = field(default_factory=dict)
    label: dict[int, str] = field(default_factory=dict)  # root -> existing child label
    group: Sequence[str] = ()  # node -> "system|organisation" (empty: no same-source rule)
    same_source: float = 0.0
    # Sorted codes (x << 32 | y, x < y) of pairs already scored: any of them missing from
    # ``scores`` scored below ``compatible``. A full link scores millions of weak candidate
    # pairs; they are known incompatible without keeping their scores or scoring them again.
    scored: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    def add_node(self, node: int, label: str | None = None) -> None:
        if node in self.parent:
            return
        self.parent[node] = node
        self.members[node] = [node]
        if label is not None:
            self.label[node] = label

    def add_nodes(self, nodes: Iterable[int]) -> None:
        """``add_node`` of each node without a label, in order (a million at a full link)."""
        parent, members = self.parent, self.members
        fresh = [node for node in dict.fromkeys(nodes) if node not in parent]
        parent.update(zip(fresh, fresh, strict=True))
        members.update((node, [node]) for node in fresh)

    def add_group(self, nodes: Sequence[int], label: str) -> None:
        """Existing child: nodes already together under one label."""
        for node in nodes:
            self.add_node(node, label)
        for node in nodes[1:]:
            self._union(self.find(nodes[0]), self.find(node))

    def find(self, node: int) -> int:
        root = node
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[node] != root:
            self.parent[node], node = root, self.parent[node]
        return root

    def _union(self, ra: int, rb: int) -> int:
        if len(self.members[ra]) < len(self.members[rb]):
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.members[ra].extend(self.members.pop(rb))
        if rb in self.label:
            self.label.setdefault(ra, self.label.pop(rb))
        return ra

    def _forbidden(self, ra: int, rb: int) -> bool:
        if ra in self.label and rb in self.label and self.label[ra] != self.label[rb]:
            return True
        return any(
            (min(x, y), max(x, y)) in self.cannot
            for x in self.members[ra]
            for y in self.members[rb]
        )

    def join_hard(self, a: int, b: int) -> bool:
        """System or human link: joins unless forbidden by cannot_link or two existing labels."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        if self._forbidden(ra, rb):
            return False
        self._union(ra, rb)
        return True

    def _compatible(self, ra: int, rb: int) -> bool:
        cross = [(min(x, y), max(x, y)) for x in self.members[ra] for y in self.members[rb]]
        missing = [p for p in cross if p not in self.scores]
        if missing:
            if self._scored_weak(missing):
                return False
            found = self.score_missing([p[0] for p in missing], [p[1] for p in missing])
            self.scores.update(zip(missing, found, strict=False))
        return all(self._fits(p) for p in cross)

    def _scored_weak(self, pairs: list[tuple[int, int]]) -> bool:
        """Whether any of ``pairs`` (none in ``scores``) is in ``scored``: below compatible."""
        if len(self.scored) == 0:
            return False
        codes = np.fromiter((x << 32 | y for x, y in pairs), np.int64, len(pairs))
        at = np.minimum(np.searchsorted(self.scored, codes), len(self.scored) - 1)
        return bool((self.scored[at] == codes).any())

    def _fits(self, pair: tuple[int, int]) -> bool:
        prob, sibling = self.scores[pair]
        if prob < self.compatible or sibling:
            return False
        x, y = pair
        if self.same_source and self.group and self.group[x] == self.group[y]:
            return prob >= self.same_source
        return True

    def join_scored(self, a: int, b: int) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        if self._forbidden(ra, rb) or not self._compatible(ra, rb):
            return False
        self._union(ra, rb)
        return True

    def clusters(self) -> Iterable[list[int]]:
        return self.members.values()
