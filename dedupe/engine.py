"""Public API of the matching engine: fit (EM), full link, incremental index, explain.

    matcher = Matcher()
    plan = matcher.link(records)                      # fits by EM first when it has no params
    index = matcher.index(records, labels)            # existing children
    plan = index.add(new_records)                     # new records against the index

Records are prepared once (``prepare.py``), blocked (``blocking.py``), compared level by level
(``comparisons.py``), weighted (``weights.py``/``scoring.py``) and clustered without chaining
(``cluster.py``).
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from dedupe.arrays import sorted_unique
from dedupe.blocking import BlockIndex
from dedupe.cluster import Clusterer
from dedupe.comparisons import COMPARISONS, SYSTEMS, level_matrix
from dedupe.competition import NONE, Competition, adjust_prob, compete, group_of
from dedupe.extra_blocking import ExtraBlocks, union_pairs
from dedupe.fastpath import FastPairView as PairView
from dedupe.fastpath import warm_up
from dedupe.pair_chunks import compare, score_kept
from dedupe.prepare import Prepared, prepare
from dedupe.records import PersonRecord
from dedupe.review_queue import implied_bits, source_penalties
from dedupe.scoring import Scored, score
from dedupe.settings import MatchSettings
from dedupe.training import fit_params
from dedupe.weights import ModelParams
from dedupe.workers import give_back_memory

KeyPair = tuple[str, str]
_SYSTEMS = COMPARISONS.index(SYSTEMS)


@dataclass(frozen=True)
class Evidence:
    comparison: str
    level: str
    weight: float


@dataclass(frozen=True)
class ReviewPair:
    key_a: str
    key_b: str
    score: float  # posterior match probability
    evidence: tuple[Evidence, ...]


@dataclass
class LinkPlan:
    clusters: list[list[str]]
    reviews: list[ReviewPair]


def _full_name(t: Prepared, row: int) -> str:
    """Order-free key of the whole name (term frequency of the given + family combination)."""
    return "|".join(sorted((t.given_key[row][0], t.family_key[row][0])))


def _freq(t: Prepared, rows: Iterable[int] | None = None) -> dict[str, Counter[str]]:
    rows = range(len(t)) if rows is None else rows
    if isinstance(rows, range) and rows.step == 1:
        span = slice(rows.start, rows.stop)
        given = [k[0] for k in t.given_key[span]]
        family = [k[0] for k in t.family_key[span]]
    else:
        given = [t.given_key[i][0] for i in rows]
        family = [t.family_key[i][0] for i in rows]
    return {
        "given": Counter(filter(None, given)),
        "family": Counter(filter(None, family)),
        # the order-free whole name, as ``_full_name``
        "full": Counter(
            "|".join(sorted(pair)) for pair in zip(given, family, strict=True) if all(pair)
        ),
    }


def _piece(comparison: str, level: str, weight: float) -> Evidence:
    """One shared (immutable) Evidence per distinct value: levels and their weights repeat, and
    a full link of 1M records queues 100k reviews of nine pieces each. The sign is part of the
    key so that -0.0 stays -0.0 (0.0 == -0.0 as a key)."""
    return _shared_piece(comparison, level, weight, math.copysign(1.0, weight))


@lru_cache(maxsize=100_000)
def _shared_piece(comparison: str, level: str, weight: float, _sign: float) -> Evidence:
    return Evidence(comparison, level, weight)


def _evidence(scored: Scored, i: int, race: Competition | None = None) -> tuple[Evidence, ...]:
    found = tuple(
        _piece(
            c.name, c.levels[int(scored.levels[i, n])].label, round(float(scored.weights[i, n]), 3)
        )
        for n, c in enumerate(COMPARISONS)
    )
    if race is not None and race.state[i] != NONE:
        found += (_piece("competition", race.state[i], round(float(race.bits[i]), 3)),)
    return found


def evidence_of(scored: Scored, i: int) -> tuple[Evidence, ...]:
    """The evidence of pair ``i`` of ``scored``: each comparison's level and weight."""
    return _evidence(scored, i)


def automatic(decided: np.ndarray, scored: Scored, settings: MatchSettings) -> np.ndarray:
    """Pairs linked automatically if their clusters are compatible: posterior (after
    competition) at or above the upper threshold, and not the sibling pattern."""
    return (decided >= settings.upper) & ~scored.sibling


class Matcher:
    def __init__(self, settings: MatchSettings | None = None, params: ModelParams | None = None):
        self.settings = settings or MatchSettings()
        self.params = params
        # name frequencies of the last records fitted, linked or indexed (for ``explain``)
        self.freq: dict[str, Counter[str]] = {}

    # -- fitting -------------------------------------------------------------------------
    def fit(
        self,
        records: Sequence[PersonRecord],
        *,
        labelled_pairs: Iterable[tuple[str, str, bool]] = (),
    ) -> ModelParams:
        """Estimate m/u/prior by EM on the candidate pairs of ``records`` (no labels needed).

        ``labelled_pairs`` (key_a, key_b, is_match) from the helpdesk enter EM with a fixed
        posterior; see ``weights.py``. The estimate is a function of the set of records, not
        of their order (they are read in key order), so the same records give the same
        weights however they arrived.
        """
        table = prepare(sorted(records, key=lambda record: record.key))
        blocks = BlockIndex()
        blocks.add(table, range(len(table)))
        extra = ExtraBlocks()
        extra.add(table, range(len(table)))
        candidates = union_pairs(
            blocks.all_pairs(self.settings.max_block_size),
            extra.pairs(table, None, self.settings.max_block_size),
        )
        rows = np.arange(len(table))
        self.freq = _freq(table)
        self.params = self._fit_pairs(table, rows, candidates, self.freq, labelled_pairs)
        return self.params

    def _fit_pairs(
        self,
        table: Prepared,
        rows: np.ndarray,
        candidates: tuple[np.ndarray, np.ndarray] | np.ndarray,
        freq: dict[str, Counter[str]],
        labelled_pairs: Iterable[tuple[str, str, bool]] = (),
    ) -> ModelParams:
        row_of = {k: i for i, k in enumerate(table.keys)}
        known = [
            (row_of[x], row_of[y], bool(m))
            for x, y, m in labelled_pairs
            if x in row_of and y in row_of
        ]
        labelled = None
        if known:
            labelled = level_matrix(
                PairView(table, np.array([k[0] for k in known]), np.array([k[1] for k in known]))
            )
        return fit_params(
            table,
            rows,
            candidates,
            self.settings,
            labelled=labelled,
            labels=[k[2] for k in known],
            freq=freq,
        )

    # -- scoring -------------------------------------------------------------------------
    def _score(
        self,
        table: Prepared,
        a: np.ndarray,
        b: np.ndarray,
        freq: dict[str, Counter[str]],
        view: PairView | None = None,
        levels: np.ndarray | None = None,
    ) -> Scored:
        if self.params is None:
            raise ValueError("the matcher has no model yet: fit or link first")
        view = view or PairView(table, a, b)
        return score(view, self.params, freq, self.settings.tf_max_adjust, levels)

    def explain(self, a: PersonRecord, b: PersonRecord) -> tuple[float, tuple[Evidence, ...]]:
        """Posterior and per-comparison evidence for one pair.

        Name frequencies are those of the records last fitted, linked or indexed (none before:
        no term-frequency adjustment).
        """
        if self.params is None:
            raise ValueError("the matcher has no model yet: fit or link first")
        table = prepare([a, b])
        scored = self._score(table, np.array([0]), np.array([1]), self.freq)
        return float(scored.prob[0]), _evidence(scored, 0)

    # -- full link -----------------------------------------------------------------------
    def link(
        self,
        records: Sequence[PersonRecord],
        *,
        must_link: Iterable[KeyPair] = (),
        cannot_link: Iterable[KeyPair] = (),
    ) -> LinkPlan:
        index = MatchIndex(self)
        return index.add(records, must_link=must_link, cannot_link=cannot_link, full=True)

    def index(self, records: Sequence[PersonRecord], labels: Mapping[str, str]) -> MatchIndex:
        """An index of existing records, each with its current child label."""
        index = MatchIndex(self)
        index.load(records, labels)
        return index


class MatchIndex:
    """Existing children, ready for new records to be matched against them."""

    def __init__(self, matcher: Matcher) -> None:
        self.matcher = matcher
        self.table = Prepared()
        self.blocks = BlockIndex()
        self.extra_blocks = ExtraBlocks()
        self.labels: list[str | None] = []
        # "system|organisation" of each row (competition, same-source rule), grown with the table
        self.groups: list[str] = []
        self.rows_of_label: dict[str, list[int]] = {}
        self.row_of_key: dict[str, int] = {}
        # exact id -> the row holding it; ids held by several rows are in ``_rows_of_id``
        # (a million one-row lists would take ~90 MB)
        self.row_of_id: dict[str, int] = {}
        self._rows_of_id: dict[str, list[int]] = {}
        self.freq: dict[str, Counter[str]] = {
            "given": Counter(),
            "family": Counter(),
            "full": Counter(),
        }
        self._fresh = itertools.count(1)
        matcher.freq = self.freq

    # -- bookkeeping ---------------------------------------------------------------------
    def _append(self, records: Sequence[PersonRecord]) -> range:
        start = len(self.table)
        self.table.extend(prepare(records))
        rows = range(start, len(self.table))
        self.labels.extend([None] * len(rows))
        self.row_of_key.update(zip(self.table.keys[start:], rows, strict=True))
        add_id = self._add_id
        for row, ids in zip(rows, self.table.exact_ids[start:], strict=True):
            for ident in ids:
                add_id(ident, row)
        systems, organisations = self.table.systems[start:], self.table.organisation[start:]
        self.groups.extend(map(group_of, systems, organisations))
        self.blocks.add(self.table, rows)
        self.extra_blocks.add(self.table, rows)
        for name, counter in _freq(self.table, rows).items():
            self.freq[name].update(counter)
        # per-row features that scoring looks up, computed now for the new rows only: left to
        # the first scoring they would be computed for the whole table inside an ``add``
        warm_up(self.table)
        return rows

    def _add_id(self, ident: str, row: int) -> None:
        many = self._rows_of_id.get(ident)
        if many is not None:
            many.append(row)
        elif ident in self.row_of_id:
            self._rows_of_id[ident] = [self.row_of_id.pop(ident), row]
        else:
            self.row_of_id[ident] = row

    def _drop_id(self, ident: str, row: int) -> None:
        many = self._rows_of_id.get(ident)
        if many is None:
            if self.row_of_id.get(ident) == row:
                del self.row_of_id[ident]
            return
        if row in many:
            many.remove(row)
        if len(many) == 1:
            self.row_of_id[ident] = many[0]
            del self._rows_of_id[ident]
        elif not many:
            del self._rows_of_id[ident]

    def _set_label(self, row: int, label: str) -> None:
        self.labels[row] = label
        self.rows_of_label.setdefault(label, []).append(row)

    def load(self, records: Sequence[PersonRecord], labels: Mapping[str, str]) -> None:
        for row in self._append(records):
            key = self.table.keys[row]
            self._set_label(row, labels.get(key) or f"new:{next(self._fresh)}")

    def relabel(self, old: str, new: str) -> None:
        rows = self.rows_of_label.pop(old, [])
        for row in rows:
            self.labels[row] = new
        self.rows_of_label.setdefault(new, []).extend(rows)

    def remove(self, keys: Iterable[str]) -> None:
        """Take records out (a changed record is removed, then added again)."""
        for key in keys:
            row = self.row_of_key.pop(key, None)
            if row is None:
                continue
            self.blocks.remove(self.table, [row])
            self.extra_blocks.remove(self.table, [row])
            label = self.labels[row]
            if label is not None:
                members = self.rows_of_label.get(label, [])
                if row in members:
                    members.remove(row)
                if not members:
                    self.rows_of_label.pop(label, None)
            self.labels[row] = None
            for ident in self.table.exact_ids[row]:
                self._drop_id(ident, row)
            for name, col in (("given", self.table.given_key), ("family", self.table.family_key)):
                if col[row][0]:
                    self.freq[name][col[row][0]] -= 1
            if self.table.given_key[row][0] and self.table.family_key[row][0]:
                self.freq["full"][_full_name(self.table, row)] -= 1

    # -- adding --------------------------------------------------------------------------
    def add(
        self,
        new_records: Sequence[PersonRecord],
        *,
        must_link: Iterable[KeyPair] = (),
        cannot_link: Iterable[KeyPair] = (),
        full: bool = False,
    ) -> LinkPlan:
        matcher, settings = self.matcher, self.matcher.settings
        must_link, cannot_link = list(must_link), list(cannot_link)  # each is read twice
        for key in [r.key for r in new_records if r.key in self.row_of_key]:
            self.remove([key])
        first = len(self.table)
        rows = self._append(new_records)
        new = np.zeros(len(self.table), bool)
        new[first:] = True
        if first == 0:
            a, b = self.blocks.all_pairs(settings.max_block_size)
            extra = self.extra_blocks.pairs(self.table, None, settings.max_block_size)
        else:
            a, b = self.blocks.pairs_with(self.table, rows, settings.max_block_size)
            extra = self.extra_blocks.pairs(self.table, rows, settings.max_block_size)
        a, b = union_pairs((a, b), extra)
        alive = new | np.fromiter((lab is not None for lab in self.labels), bool, len(self.labels))
        keep = (new[a] | new[b]) & alive[a] & alive[b]
        if not keep.all():
            a, b = a[keep], b[keep]
        del keep
        # row numbers fit in 32 bits: halves what the ~18M candidate pairs of 1M records hold
        a = a.astype(np.int32)
        b = b.astype(np.int32)
        levels, sibling = compare(self.table, a, b)
        give_back_memory()
        big_batch = len(rows) >= max(settings.refit_on_add, settings.refit_share * first)
        if matcher.params is None or (not full and big_batch):
            live = np.flatnonzero(alive)
            matcher.params = matcher._fit_pairs(self.table, live, levels, self.freq)
        # Only pairs that competition, clustering or the review queue can use are kept; any
        # other pair the clusterer meets is scored again on demand.
        floor = min(settings.compatible, settings.competition_floor, settings.lower)
        floor = min(floor, settings.upper) * (1 - 1e-9)
        kept, scored = score_kept(
            self.table,
            a,
            b,
            levels,
            sibling,
            matcher.params,
            self.freq,
            settings.tf_max_adjust,
            lambda s: s.prob >= floor,
        )
        del levels, sibling
        give_back_memory()
        every_a, every_b = a, b
        a, b = a[kept], b[kept]
        groups = self.groups
        race = compete(a, b, scored.prob, groups, self.labels, settings)
        give_back_memory()
        decided = race.adjusted(scored.prob)
        auto = automatic(decided, scored, settings)
        # the scored pairs the clusterer may meet again: those it is not given scored below
        # compatible
        pair_codes = self._scored_codes(every_a, every_b, a[auto], b[auto], must_link)
        del every_a, every_b
        clusterer = self._clusterer(
            rows, a, b, scored, must_link, cannot_link, decided, groups, pair_codes
        )
        # clustering is done: its pair scores are not needed for the plan (at 1M records they
        # are a few hundred MB)
        del pair_codes
        clusterer.scored = clusterer.scored[:0]
        clusterer.scores.clear()
        give_back_memory()
        plan = self._plan(clusterer, rows, a, b, scored, decided, race)
        return plan

    def _scored_codes(
        self,
        every_a: np.ndarray,
        every_b: np.ndarray,
        auto_a: np.ndarray,
        auto_b: np.ndarray,
        must_link: Iterable[KeyPair],
    ) -> np.ndarray:
        """Sorted codes (a << 32 | b) of the scored pairs (``every_a``/``every_b``, sorted)
        whose two rows can both end up in a cluster of several records: rows of existing
        children, rows sharing an exact id, human links and ends of automatic links. The
        clusterer only ever checks pairs across two such clusters; the other pairs (most of the
        ~18M of a 1M-record link) need not be held."""
        in_play = np.fromiter((lab is not None for lab in self.labels), bool, len(self.labels))
        in_play[auto_a] = True
        in_play[auto_b] = True
        for shared in self._rows_of_id.values():
            in_play[shared] = True
        for pair in must_link:
            for key in pair:
                row = self.row_of_key.get(key)
                if row is not None:
                    in_play[row] = True
        both = in_play[every_a] & in_play[every_b]
        return (every_a[both].astype(np.int64) << 32) | every_b[both]

    def _clusterer(
        self, rows, a, b, scored, must_link, cannot_link, decided, groups, pair_codes
    ) -> Clusterer:
        """``decided``: posteriors after competition; compatibility uses the raw ones.
        ``pair_codes``: every pair scored (see ``Clusterer.scored``)."""
        settings = self.matcher.settings

        def score_missing(xs: list[int], ys: list[int]) -> list[tuple[float, bool]]:
            s = self.matcher._score(self.table, np.array(xs), np.array(ys), self.freq)
            return list(zip(s.prob.tolist(), s.sibling.tolist(), strict=False))

        cl = Clusterer(settings.compatible, score_missing)
        cl.group = groups
        cl.same_source = settings.same_source_floor
        cl.scored = pair_codes
        # only pairs that could pass a compatibility check are kept; any other cross pair is
        # scored again on demand (clusters are small)
        keep = np.flatnonzero((scored.prob >= settings.compatible) | scored.sibling)
        cl.scores = dict(
            zip(
                zip(a[keep].tolist(), b[keep].tolist(), strict=True),
                zip(scored.prob[keep].tolist(), scored.sibling[keep].tolist(), strict=True),
                strict=True,
            )
        )
        for x, y in cannot_link:
            if x in self.row_of_key and y in self.row_of_key:
                i, j = self.row_of_key[x], self.row_of_key[y]
                cl.cannot.add((min(i, j), max(i, j)))
        cl.add_nodes(rows)
        ends = sorted_unique(np.concatenate([a, b])).tolist()
        touched = {x for x in ends if self.labels[x] is not None}
        # an exact id held by one row only (``row_of_id``) is the new row's own: it joins
        # nothing, so only ids held by several rows are looked at
        shared = self._rows_of_id
        for ids in self.table.exact_ids[rows.start : rows.stop]:
            for ident in ids:
                touched.update(r for r in shared.get(ident, ()) if self.labels[r])
        key_rows = [(self.row_of_key.get(x), self.row_of_key.get(y)) for x, y in must_link]
        touched.update(r for pair in key_rows for r in pair if r is not None and self.labels[r])
        for label in {self.labels[r] for r in touched}:
            cl.add_group(self.rows_of_label[label], label)
        # 1. system-asserted (shared exact ids) and human links
        for row, ids in zip(rows, self.table.exact_ids[rows.start : rows.stop], strict=True):
            for ident in ids:
                for other in shared.get(ident, ()):
                    if other != row and other in cl.parent:
                        cl.join_hard(row, other)
        for i, j in key_rows:
            if i is not None and j is not None and i in cl.parent and j in cl.parent:
                cl.join_hard(i, j)
        # 2. automatic links, strongest first, compatible clusters only
        auto = np.flatnonzero(automatic(decided, scored, settings))
        order = auto[np.argsort(-decided[auto], kind="stable")]
        for x, y in zip(a[order].tolist(), b[order].tolist(), strict=True):
            cl.join_scored(x, y)
        return cl

    def _plan(
        self,
        cl: Clusterer,
        rows: range,
        a,
        b,
        scored: Scored,
        decided: np.ndarray,
        race: Competition,
    ) -> LinkPlan:
        settings = self.matcher.settings
        first, end = rows.start, rows.stop  # the new rows are the last ones appended
        clusters: list[list[str]] = []
        # the clusterer is done: its union-find and member lists are given up as the clusters
        # are read (a million of each at a full link)
        cl.parent.clear()
        for root in list(cl.members):
            members = cl.members.pop(root)
            if not any(first <= row < end for row in members):
                continue
            label = cl.label.get(root) or f"new:{next(self._fresh)}"
            for row in members:
                if self.labels[row] is None:
                    self._set_label(row, label)
            clusters.append([self.table.keys[r] for r in sorted(members)])
        # best first (posterior after competition and what a merge would imply, see
        # ``review_queue``), down to ``lower``, and no more than the budget: a share of the
        # records the index holds (what the helpdesk can take)
        alive = sum(1 for label in self.labels if label is not None)
        budget = max(1, int(settings.review_budget_share * alive))
        pick = [
            k
            for k in np.flatnonzero(decided >= settings.lower).tolist()
            if self.labels[int(a[k])] != self.labels[int(b[k])]
        ]
        penalties = source_penalties(self.matcher.params.level_weights()[_SYSTEMS])

        def members(row: int) -> list[int]:
            return self.rows_of_label[self.labels[row]]

        systems, groups = self.table.systems, self.groups
        bits = np.array(
            [implied_bits(int(a[k]), int(b[k]), members, systems, groups, penalties) for k in pick]
        )
        ranked = adjust_prob(decided[pick], bits) if pick else np.zeros(0)
        reviews = []
        for n in np.argsort(-ranked, kind="stable").tolist():
            if len(reviews) >= budget or ranked[n] < settings.lower:
                break
            k = pick[n]
            evidence = _evidence(scored, k, race)
            if bits[n]:
                implied = Evidence("same system if merged", "implied", round(float(bits[n]), 3))
                evidence += (implied,)
            reviews.append(
                ReviewPair(self.table.keys[a[k]], self.table.keys[b[k]], float(ranked[n]), evidence)
            )
        return LinkPlan(clusters, reviews)
