"""What the helpdesk's answers do to the next link, on the dev corpus.

    python bench/helpdesk_rounds.py [--rounds 3] [--corpus DIR] [--audit N]

Round 0 links the corpus as the bridge's two imports do (Primero, then OSCaR into the index)
and proposes a review queue of 10% of the records. In each further round a simulated helpdesk
answers every pair in the queue from the truth (same child or not), and the corpus is
re-linked as `bridge relink` does: the answers enter the model's estimation as labelled pairs
and bind the clustering (a "same" answer is a must-link, a "different" one a cannot-link);
then a new queue of the same size is proposed from the pairs nobody has answered yet.

Per round it prints the automatic links' precision, recall, F1 and sibling merges, the answers
given so far, and recall counting both the answered pairs and the new queue.

With ``--audit N`` it also simulates ``bridge review sample --links N`` on the round-0 links:
N pairs drawn at random from the pairs linked into one child, answered from the truth, give
a measured precision with its 95% Wilson interval, printed beside the true precision.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import sys
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.common import (  # noqa: E402
    Corpus,
    dev_corpus_dir,
    load_corpus,
    pairwise_score,
    true_pairs,
)
from bench.matching_quality import two_step  # noqa: E402
from dedupe.engine import LinkPlan, Matcher, ReviewPair  # noqa: E402
from dedupe.settings import MatchSettings  # noqa: E402

Pair = tuple[str, str]


def _pair(a: str, b: str) -> Pair:
    return (a, b) if a < b else (b, a)


@dataclasses.dataclass
class Round:
    number: int
    precision: float
    recall: float
    f1: float
    sibling_merges: int
    answered: int
    queue: int
    recall_with_review: float

    def line(self) -> str:
        return (
            f"round {self.number}  P {self.precision:.4f}  R {self.recall:.4f}  "
            f"F1 {self.f1:.4f}  siblings {self.sibling_merges:>2}  answered {self.answered:>5}  "
            f"queue {self.queue:>4}  R+answers+queue {self.recall_with_review:.4f}"
        )


def sibling_merges(corpus: Corpus, clusters: Sequence[Sequence[str]]) -> int:
    return sum(
        1
        for members in clusters
        for a, b in itertools.combinations(members, 2)
        if corpus.truth[a] != corpus.truth[b] and corpus.family[a] == corpus.family[b]
    )


def next_queue(plan: LinkPlan, answered: dict[Pair, bool], budget: int) -> list[ReviewPair]:
    label = {key: n for n, members in enumerate(plan.clusters) for key in members}
    fresh = (
        r
        for r in sorted(plan.reviews, key=lambda r: -r.score)
        if label[r.key_a] != label[r.key_b] and _pair(r.key_a, r.key_b) not in answered
    )
    return list(itertools.islice(fresh, budget))


def score_round(
    number: int,
    corpus: Corpus,
    truth_pairs: set[Pair],
    plan: LinkPlan,
    queue: Sequence[ReviewPair],
    answered: dict[Pair, bool],
) -> Round:
    score = pairwise_score(plan.clusters, corpus.truth)
    label = {key: n for n, members in enumerate(plan.clusters) for key in members}
    found = {p for p in truth_pairs if label[p[0]] == label[p[1]]}
    found |= {p for p, same in answered.items() if same}
    found |= truth_pairs & {_pair(r.key_a, r.key_b) for r in queue}
    return Round(
        number=number,
        precision=score.precision,
        recall=score.recall,
        f1=score.f1,
        sibling_merges=sibling_merges(corpus, plan.clusters),
        answered=len(answered),
        queue=len(queue),
        recall_with_review=len(found) / len(truth_pairs),
    )


def audit_line(corpus: Corpus, plan: LinkPlan, count: int, seed: int = 1) -> str:
    """A random sample of linked pairs answered from the truth (``bridge review sample``)."""
    import random

    from bridge.helpdesk.link_audit import wilson

    linked = sorted(
        _pair(a, b) for members in plan.clusters for a, b in itertools.combinations(members, 2)
    )
    drawn = random.Random(seed).sample(linked, min(count, len(linked)))
    same = sum(corpus.truth[a] == corpus.truth[b] for a, b in drawn)
    true_same = sum(corpus.truth[a] == corpus.truth[b] for a, b in linked)
    low, high = wilson(same, len(drawn))
    return (
        f"audit of {len(drawn)} random links: measured precision {same / len(drawn):.4f} "
        f"(95% {low:.4f}-{high:.4f}); true precision of all {len(linked)} linked pairs "
        f"{true_same / len(linked):.4f}"
    )


def run(
    rounds: int, settings: MatchSettings, corpus_dir: Path | None = None, audit: int = 0
) -> list[Round]:
    corpus = load_corpus(corpus_dir or dev_corpus_dir())
    truth_pairs = true_pairs(corpus.truth)
    budget = int(settings.review_budget_share * len(corpus.records))
    # the queue is cut here, after the pairs already answered are taken out
    uncapped = dataclasses.replace(settings, review_budget_share=1e6)
    answered: dict[Pair, bool] = {}
    plan = two_step(corpus.records, uncapped)
    queue = next_queue(plan, answered, budget)
    out = [score_round(0, corpus, truth_pairs, plan, queue, answered)]
    if audit:
        print(audit_line(corpus, plan, audit), flush=True)
    for number in range(1, rounds + 1):
        for review in queue:
            pair = _pair(review.key_a, review.key_b)
            answered[pair] = pair in truth_pairs
        must = [p for p, same in answered.items() if same]
        cannot = [p for p, same in answered.items() if not same]
        labelled = [(a, b, same) for (a, b), same in answered.items()]
        params = Matcher(uncapped).fit(corpus.records, labelled_pairs=labelled)
        plan = Matcher(uncapped, params=params).link(
            corpus.records, must_link=must, cannot_link=cannot
        )
        queue = next_queue(plan, answered, budget)
        out.append(score_round(number, corpus, truth_pairs, plan, queue, answered))
    return out


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[1])
    ap.add_argument("--rounds", type=int, default=3, help="helpdesk rounds after the first link")
    ap.add_argument("--corpus", type=Path, default=None, help="corpus folder (default: dev)")
    ap.add_argument("--audit", type=int, default=0, help="simulate an audit of N random links")
    args = ap.parse_args(argv)
    for result in run(args.rounds, MatchSettings(), args.corpus, args.audit):
        print(result.line(), flush=True)


if __name__ == "__main__":
    main()
