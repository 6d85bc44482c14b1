"""How far can any ranking of the review queue go on the dev corpus's evidence?

    python bench/review_ceiling.py [--budget-share 0.1] [--folds 5]

The target "recall counting review >= 0.97 with a queue of at most 10% of the records" asks
the review queue to hold the true pairs the automatic links missed. This benchmark asks how
much of that any ranking of the candidate pairs could reach from the evidence the engine sees
(the comparison levels and weights of each pair): it ranks the same candidates

- by the engine's own score (what `bridge review export` lists, before the queue budget),
- by a supervised model trained on the truth (gradient boosting over the levels and weights,
  cross-validated by child so that no child is in the training and the scoring folds), and
- by each level pattern's true share measured on the scored records themselves (an
  in-sample oracle: it knows the answer it is scored on),

and prints recall counting review at the budget for each, with the queue each one needs for
0.97. The truth is used here to measure only; nothing in it ships with the engine.
Needs the `bench` extra (scikit-learn comes with recordlinkage).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.common import load_dev_corpus, true_pairs  # noqa: E402
from bench.matching_quality import two_step  # noqa: E402
from dedupe.engine import ReviewPair  # noqa: E402
from dedupe.settings import MatchSettings  # noqa: E402

TARGET = 0.97


@dataclasses.dataclass
class Candidates:
    """The candidate pairs the automatic links left apart, with what the engine saw."""

    reviews: list[ReviewPair]
    is_true: np.ndarray
    child: list[str]
    true_pairs: int
    linked_true: int
    records: int


def candidates(settings: MatchSettings) -> Candidates:
    corpus = load_dev_corpus()
    # every scored pair, not only the queue: lower bound near zero, no budget
    wide = dataclasses.replace(settings, lower=0.001, review_budget_share=1e6)
    plan = two_step(corpus.records, wide)
    label = {key: n for n, members in enumerate(plan.clusters) for key in members}
    truth_pairs = true_pairs(corpus.truth)
    linked_true = sum(label[a] == label[b] for a, b in truth_pairs)
    seen: set[tuple[str, str]] = set()
    reviews: list[ReviewPair] = []
    for review in plan.reviews:
        pair = tuple(sorted((review.key_a, review.key_b)))
        if pair in seen or label[pair[0]] == label[pair[1]]:
            continue
        seen.add(pair)
        reviews.append(review)
    return Candidates(
        reviews=reviews,
        is_true=np.array([tuple(sorted((r.key_a, r.key_b))) in truth_pairs for r in reviews]),
        child=[corpus.truth[r.key_a] for r in reviews],
        true_pairs=len(truth_pairs),
        linked_true=linked_true,
        records=len(corpus.records),
    )


def features(reviews: Sequence[ReviewPair]) -> tuple[np.ndarray, list[tuple[str, ...]]]:
    """(score, weight and level code of every comparison) per pair; and its level pattern."""
    comparisons = sorted({e.comparison for r in reviews for e in r.evidence})
    level_code: dict[str, int] = {}
    rows, patterns = [], []
    for review in reviews:
        evidence = {e.comparison: e for e in review.evidence}
        levels = [evidence[c].level if c in evidence else "" for c in comparisons]
        weights = [evidence[c].weight if c in evidence else 0.0 for c in comparisons]
        codes = [level_code.setdefault(level, len(level_code)) for level in levels]
        rows.append([review.score, *weights, *codes])
        patterns.append(tuple(levels))
    return np.array(rows, dtype=float), patterns


def cross_validated(x: np.ndarray, y: np.ndarray, groups: Sequence[str], folds: int) -> np.ndarray:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import GroupKFold

    out = np.zeros(len(y))
    for train, test in GroupKFold(folds).split(x, y, groups):
        model = HistGradientBoostingClassifier(max_iter=300, learning_rate=0.05, random_state=0)
        out[test] = model.fit(x[train], y[train]).predict_proba(x[test])[:, 1]
    return out


def pattern_oracle(patterns: Sequence[tuple[str, ...]], y: np.ndarray) -> np.ndarray:
    counts: dict[tuple[str, ...], list[int]] = defaultdict(lambda: [0, 0])
    for pattern, true in zip(patterns, y, strict=True):
        counts[pattern][int(true)] += 1
    return np.array([counts[p][1] / sum(counts[p]) for p in patterns])


def recall_at(c: Candidates, ranking: np.ndarray, budget: int) -> tuple[float, int | None]:
    """(recall counting the top `budget` pairs, queue length that reaches the target)."""
    order = np.argsort(-ranking, kind="stable")
    found = c.linked_true + np.cumsum(c.is_true[order])
    need = np.nonzero(found >= TARGET * c.true_pairs)[0]
    at_budget = found[min(budget, len(found)) - 1] if len(found) else c.linked_true
    return at_budget / c.true_pairs, (int(need[0]) + 1 if len(need) else None)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    ap.add_argument("--budget-share", type=float, default=0.1, help="queue / records")
    ap.add_argument("--folds", type=int, default=5)
    args = ap.parse_args(argv)
    c = candidates(MatchSettings())
    budget = int(args.budget_share * c.records)
    x, patterns = features(c.reviews)
    print(
        f"records {c.records}, true pairs {c.true_pairs}, linked automatically {c.linked_true}, "
        f"candidates left apart {len(c.reviews)} (true {int(c.is_true.sum())}); "
        f"every candidate reviewed: recall {(c.linked_true + c.is_true.sum()) / c.true_pairs:.4f}"
    )
    print(f"queue budget {budget} pairs; recall counting review at the budget, queue for {TARGET}:")
    rankings = {
        "engine score": x[:, 0],
        f"supervised, {args.folds}-fold by child": cross_validated(
            x, c.is_true, c.child, args.folds
        ),
        "level-pattern oracle (in-sample)": pattern_oracle(patterns, c.is_true),
    }
    for name, ranking in rankings.items():
        recall, need = recall_at(c, ranking, budget)
        print(f"  {name:<36} {recall:.4f}   {need if need is not None else 'never'}")


if __name__ == "__main__":
    main()
