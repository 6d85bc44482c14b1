"""References the fast engine is checked against: the string-keyed blocking the integer codes
replaced (a dict of key -> rows), and the add pipeline that held every candidate pair at once."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

import numpy as np

from dedupe.blocking import block_keys
from dedupe.comparisons import level_matrix
from dedupe.competition import compete
from dedupe.dates import EXACT
from dedupe.engine import LinkPlan, MatchIndex
from dedupe.extra_blocking import union_pairs
from dedupe.fastpath import FastPairView
from dedupe.prepare import Prepared
from dedupe.records import PersonRecord


def _pairs(groups: Iterable[list[int]], max_block: int) -> tuple[np.ndarray, np.ndarray]:
    codes: set[int] = set()
    for members in groups:
        if 2 <= len(members) <= max_block:
            for i, x in enumerate(members):
                for y in members[i + 1 :]:
                    codes.add(min(x, y) << 32 | max(x, y))
    code = np.array(sorted(codes), np.int64)
    return code >> 32, code & ((1 << 32) - 1)


class ReferenceBlocks:
    def __init__(self) -> None:
        self.rows: dict[str, list[int]] = defaultdict(list)

    def add(self, t: Prepared, rows: Iterable[int]) -> None:
        for row in rows:
            for key in block_keys(t, row):
                self.rows[key].append(row)

    def remove(self, t: Prepared, rows: Iterable[int]) -> None:
        for row in rows:
            for key in block_keys(t, row):
                if row in self.rows.get(key, []):
                    self.rows[key].remove(row)

    def all_pairs(self, max_block: int) -> tuple[np.ndarray, np.ndarray]:
        return _pairs(self.rows.values(), max_block)

    def pairs_with(
        self, t: Prepared, new_rows: Iterable[int], max_block: int
    ) -> tuple[np.ndarray, np.ndarray]:
        keys = {key for row in new_rows for key in block_keys(t, row)}
        return _pairs((self.rows.get(key, []) for key in keys), max_block)


def rule_key(t: Prepared, row: int, rule: str) -> list[str]:
    if rule == "names":
        return [
            "|".join(sorted((g, f)))
            for g in {x for x in t.given_key[row] if x}
            for f in {x for x in t.family_key[row] if x}
        ]
    if int(t.precision[row]) != EXACT:
        return []
    return [f"{t.year[row]}-{t.month[row]}-{t.day[row]}|{t.location[row][:2]}"]


def rule_pairs(
    t: Prepared, rows: Iterable[int], rule: str, max_block: int
) -> tuple[np.ndarray, np.ndarray]:
    groups: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        for key in rule_key(t, int(row), rule):
            groups[key].append(int(row))
    return _pairs(groups.values(), max_block)


def one_shot_add(
    index: MatchIndex,
    new_records: Sequence[PersonRecord],
    *,
    must_link: Iterable[tuple[str, str]] = (),
    cannot_link: Iterable[tuple[str, str]] = (),
    full: bool = False,
) -> LinkPlan:
    """``MatchIndex.add`` as it was before chunking: the features, levels and scores of every
    candidate pair at once, competition and clustering over all of them (the reference the
    chunked, parallel engine is checked against)."""
    matcher, settings = index.matcher, index.matcher.settings
    for key in [r.key for r in new_records if r.key in index.row_of_key]:
        index.remove([key])
    first = len(index.table)
    rows = index._append(new_records)
    new = np.zeros(len(index.table), bool)
    new[first:] = True
    if first == 0:
        a, b = index.blocks.all_pairs(settings.max_block_size)
        extra = index.extra_blocks.pairs(index.table, None, settings.max_block_size)
    else:
        a, b = index.blocks.pairs_with(index.table, rows, settings.max_block_size)
        extra = index.extra_blocks.pairs(index.table, rows, settings.max_block_size)
    a, b = union_pairs((a, b), extra)
    alive = np.array([lab is not None or n for lab, n in zip(index.labels, new, strict=True)])
    keep = (new[a] | new[b]) & alive[a] & alive[b]
    a, b = a[keep], b[keep]
    view = FastPairView(index.table, a, b)
    levels = level_matrix(view)
    big_batch = len(rows) >= max(settings.refit_on_add, settings.refit_share * first)
    if matcher.params is None or (not full and big_batch):
        matcher.params = matcher._fit_pairs(index.table, np.flatnonzero(alive), levels, index.freq)
    scored = matcher._score(index.table, a, b, index.freq, view, levels)
    race = compete(a, b, scored.prob, index.groups, index.labels, settings)
    decided = race.adjusted(scored.prob)
    nothing = np.zeros(0, np.int64)  # no pair known weak: every missing pair is scored again
    cl = index._clusterer(
        rows, a, b, scored, must_link, cannot_link, decided, index.groups, nothing
    )
    return index._plan(cl, rows, a, b, scored, decided, race)
