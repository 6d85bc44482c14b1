"""A faster ``PairView``: the same features of candidate pairs, computed per distinct value.

``comparisons.PairView`` sorts every pair's word ids once per spelling combination (32 sorts
of all pairs for the four name similarities) and loops in Python over caregiver pairs. Here a
record's name is first reduced to a *signature* (its four spellings' word ids, one small int
per distinct name in the table), so each name similarity sorts the pairs once and computes
the Jaro-Winkler of each distinct name pair once; caregivers likewise go by distinct caregiver
list. Results are identical to ``PairView`` (checked by tests/dedupe_perf).
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
from rapidfuzz.distance import JaroWinkler
from rapidfuzz.process import cpdist

from dedupe.arrays import unique_inverse
from dedupe.comparisons import PairView, _column_codes, _contains
from dedupe.prepare import Prepared


def _distinct(code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values of ``code`` and, per element, the index of its value."""
    return unique_inverse(code)


_SPELLINGS = ((0, 0), (0, 1), (1, 0), (1, 1))  # the order of comparisons._best


# Distinct word pairs are found with a dense (words x words) table instead of a sort (tens of
# millions of pair codes sort slowly) when the table is at most this big, or twice the number
# of codes (it then costs no more memory than the codes themselves).
_DENSE_PAIRS = 1 << 22


def _jaro_winkler(words: list[str], left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """The call of ``comparisons._sim_ids`` (float32 results, as float64)."""
    return np.asarray(
        cpdist(
            [words[i] for i in left.tolist()],
            [words[i] for i in right.tolist()],
            scorer=JaroWinkler.normalized_similarity,
            workers=-1,
        ),
        dtype=np.float64,
    )


def _word_sims(words: list[str], id_pairs: list[tuple[np.ndarray, np.ndarray]]) -> list[np.ndarray]:
    """``comparisons._sim_ids`` of each (left, right) word-id array pair, with one Jaro-Winkler
    per distinct word pair over all of them (same scorer call, same values); -1 if empty."""
    # renumber the words in use (0 stays the empty word) so that a dense table fits
    used = np.zeros(len(words), bool)
    for x, y in id_pairs:
        used[x] = True
        used[y] = True
    used[0] = True
    word_of = np.flatnonzero(used)
    compact = np.cumsum(used) - 1
    size = len(word_of)
    codes = [compact[x] * size + compact[y] for x, y in id_pairs]
    if size * size <= max(_DENSE_PAIRS, 2 * sum(len(code) for code in codes)):
        needed = np.zeros(size * size, bool)
        for code in codes:
            needed[code] = True
        distinct = np.flatnonzero(needed)
        del needed
        la, lb = distinct // size, distinct % size
        both = (la > 0) & (lb > 0)
        # cpdist gives float32: a float32 table holds its values exactly
        table = np.full(size * size, -1.0, np.float32)
        table[distinct[both]] = _jaro_winkler(words, word_of[la[both]], word_of[lb[both]])
        return [table[code].astype(np.float64) for code in codes]
    out = []
    for code in codes:
        values = np.full(len(code), -1.0)
        known = np.flatnonzero((code // size > 0) & (code % size > 0))
        out.append((values, known, code[known]))
    distinct, inverse = unique_inverse(np.concatenate([c for _, _, c in out]))
    la, lb = distinct // size, distinct % size
    sims = _jaro_winkler(words, word_of[la], word_of[lb])[inverse]
    start = 0
    for values, known, _ in out:
        values[known] = sims[start : start + len(known)]
        start += len(known)
    return [values for values, _, _ in out]


def warm_up(table: Prepared) -> None:
    """Compute the table's cached per-row features (name signatures, word ids, locations,
    caregivers, systems) up to its last row, so that scoring only looks them up (and threads
    scoring chunks of pairs never build them concurrently)."""
    for name in ("given", "family"):
        table.name_signatures(name)
    table.name_ids("nick_key")
    table.skeleton_ids()
    table.word_lengths()
    table.location_levels()
    table.home_known()
    table.caregiver_groups()
    for column in ("systems", "organisation"):
        _column_codes(table, column)


class FastPairView(PairView):
    """Drop-in replacement of ``PairView`` (same inputs, same attribute values)."""

    def _signature_pairs(self, left: str, right: str) -> tuple[np.ndarray, ...]:
        """(inverse, spellings of the left names, of the right names) of the distinct
        pairs of name signatures (see ``Prepared.name_signatures``), computed once."""
        cache = self.__dict__.setdefault("_pairs_cache", {})
        found = cache.get((left, right))
        if found is None:
            sig_left, spellings_left = self.t.name_signatures(left)
            sig_right, spellings_right = self.t.name_signatures(right)
            width = len(spellings_right)
            distinct, inverse = _distinct(sig_left[self.a] * width + sig_right[self.b])
            # int32 halves what a view holds (ids stay far below 2**31)
            found = cache[(left, right)] = (
                inverse.astype(np.int32),
                spellings_left[distinct // width].astype(np.int32),
                spellings_right[distinct % width].astype(np.int32),
            )
        return found

    def _name_sim(self, left: str, right: str) -> np.ndarray:
        """Best of phonetic-key and cleaned-Latin similarity between two name fields."""
        if len(self.a) == 0:
            return np.zeros(0)
        sims = self.__dict__.get("_name_sims")
        if sims is None:
            sims = self.__dict__["_name_sims"] = self._all_name_sims()
        return sims[(left, right)]

    def _all_name_sims(self) -> dict[tuple[str, str], np.ndarray]:
        """The four name similarities (given/family both ways), with one Jaro-Winkler per
        distinct word pair over all of them."""
        combos = [("given", "given"), ("family", "family"), ("given", "family")]
        combos.append(("family", "given"))
        sims: list[np.ndarray] = [np.zeros(0)] * 32
        # columns of a signature: key Latin, key Khmer, clean Latin, clean Khmer
        for kind in (0, 2):
            id_pairs, slots = [], []
            for c, (left, right) in enumerate(combos):
                _, sl, sr = self._signature_pairs(left, right)
                for s, (x, y) in enumerate(_SPELLINGS):
                    id_pairs.append((sl[:, kind + x], sr[:, kind + y]))
                    slots.append(c * 8 + kind * 2 + s)
            for slot, values in zip(slots, _word_sims(self.t.words, id_pairs), strict=True):
                sims[slot] = values
        out = {}
        for c, (left, right) in enumerate(combos):
            inverse = self._signature_pairs(left, right)[0]
            best = sims[c * 8]
            for values in sims[c * 8 + 1 : c * 8 + 8]:
                best = np.maximum(best, values)
            out[(left, right)] = best[inverse]
        return out

    def _same_skeleton(self, left: str, right: str) -> np.ndarray:
        """Same consonants in some spelling of both names (Yeum / Yim), vowels being unstable."""
        if len(self.a) == 0:
            return np.zeros(0, bool)
        inverse, sl, sr = self._signature_pairs(left, right)
        skeleton = self.t.skeleton_ids()
        sa, sb = skeleton[sl[:, 0:2]], skeleton[sr[:, 0:2]]
        out = np.zeros(len(sl), bool)
        for x in (0, 1):
            for y in (0, 1):
                out |= (sa[:, x] > 0) & (sa[:, x] == sb[:, y])
        return out[inverse]

    def dates(self) -> tuple[np.ndarray, ...]:
        found = self.__dict__.get("_dates")
        if found is None:
            found = self.__dict__["_dates"] = super().dates()
        return found

    @cached_property
    def given_contained(self) -> np.ndarray:
        """One given name's key inside the other's (Neang / Sreyneang), or nickname = name."""
        words, size = self.t.words, len(self.t.words)
        lengths = self.t.word_lengths()
        given = self.t.name_ids("given_key")[:, 0]
        nick = self.t.name_ids("nick_key")[:, 0]
        out = np.zeros(len(self.a), bool)
        combos = (("given", "given"), ("given", "family"), ("family", "given"))
        for n, (left, right) in enumerate(combos):
            if len(self.a) == 0:
                break
            inverse, sl, sr = self._signature_pairs(left, right)
            # the primary phonetic keys (signature column 0) of the distinct name pairs;
            # containment needs two different non-empty words, the shorter of 3+ letters and
            # strictly shorter (a same-length word inside another is the same word)
            wl, wr = sl[:, 0], sr[:, 0]
            ll, lr = lengths[wl], lengths[wr]
            maybe = np.flatnonzero((np.minimum(ll, lr) >= 3) & (ll != lr))
            found = np.zeros(len(sl), bool)
            if len(maybe):
                code = wl[maybe].astype(np.int64) * size + wr[maybe]
                distinct, back = _distinct(code)
                hits = np.fromiter(
                    (_contains(words[c // size], words[c % size]) for c in distinct.tolist()),
                    bool,
                    len(distinct),
                )
                found[maybe] = hits[back]
            hit = found[inverse]
            out |= hit if n == 0 else (hit & self.swapped)
        na, nb = nick[self.a], nick[self.b]
        ga, gb = given[self.a], given[self.b]
        return out | ((na > 0) & ((na == gb) | (na == nb))) | ((nb > 0) & (nb == ga))

    @cached_property
    def location_depth(self) -> np.ndarray:
        """Shared levels: 4 village, 3 commune, 2 district, 1 province, 0 none, -1 unknown."""
        levels = self.t.location_levels()
        depth = np.zeros(len(self.a), np.int8)
        agree = np.ones(len(self.a), bool)
        unknown = None
        for level in range(4):
            la, lb = levels[self.a, level], levels[self.b, level]
            if unknown is None:
                unknown = (la == 0) | (lb == 0)
            agree &= (la == lb) & (la > 0)
            depth += agree
        if unknown is not None:
            depth[unknown] = -1
        return depth

    @cached_property
    def caregiver_sim(self) -> np.ndarray:
        """Best Jaro-Winkler between the caregivers of two records; -1 when either has none."""
        out = np.full(len(self.a), -1.0)
        group, lists = self.t.caregiver_groups()
        ga, gb = group[self.a], group[self.b]
        both = np.flatnonzero((ga > 0) & (gb > 0))
        if len(both) == 0:
            return out
        width = len(lists)
        distinct, inverse = _distinct(ga[both] * width + gb[both])
        # the scalar scorer, as in PairView (cpdist can differ in the last bit)
        similarity = JaroWinkler.normalized_similarity
        best = np.fromiter(
            (
                max(similarity(p, q) for p in lists[x] for q in lists[y])
                for x, y in zip(
                    (distinct // width).tolist(), (distinct % width).tolist(), strict=True
                )
            ),
            np.float64,
            len(distinct),
        )
        out[both] = best[inverse]
        return out
