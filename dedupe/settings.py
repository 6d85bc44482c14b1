"""Tunable settings of the matching engine, with the documented defaults.

The defaults were chosen on the synthetic Khmer development corpus (measured with its truth)
and checked on FEBRL; the model itself (m/u weights) is always re-estimated from the records
being linked, so only these few numbers carry over between datasets.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MatchSettings:
    # Posterior match probability (after competition) at or above which a pair is linked
    # automatically. Dev corpus, two-step (the import order of the project's checker) /
    # one-shot: 0.91 -> precision 0.9949 / 0.9949, recall 0.835 / 0.838; 0.92 -> 0.9952 /
    # 0.9949, 0.828 / 0.832; 0.925 -> 0.9952 / 0.9952, 0.826 / 0.829; 0.93 -> 0.9952 /
    # 0.9952, 0.822 / 0.824.
    upper: float = 0.925
    # Posterior (after competition, and after what a merge would imply: ``review_queue.py``) at
    # or above which a pair that is not linked may go to the helpdesk review queue, best first,
    # within ``review_budget_share``. Low enough that the budget, not this floor, ends the
    # queue on the dev corpus (0.1 -> 927 pairs, the full 10% of 9,270 records).
    lower: float = 0.1
    # Two clusters merge only when every cross pair scores at least this (no chaining of weak
    # links: A≈B and B≈C do not make A=C when A and C disagree).
    compatible: float = 0.05
    # Blocks larger than this are skipped for that key (a common surname + year); the other
    # keys still bring the true pairs together.
    max_block_size: int = 30
    # EM runs on at most this many candidate pairs (a random sample); all pairs are scored.
    em_max_pairs: int = 200_000
    em_iterations: int = 60
    # Random record pairs drawn to estimate u (P(level | different children)).
    u_pairs: int = 100_000
    # When at least this many records, and at least ``refit_share`` of the index size, are
    # added at once, the model is re-estimated on index + batch (a first import of another
    # system); a routine sync batch keeps the index's model.
    refit_on_add: int = 1_000
    refit_share: float = 0.2
    # Term-frequency adjustment of exact name agreement: weight bounded to this many bits
    # around the level's average weight.
    tf_max_adjust: float = 4.0
    seed: int = 1234
    # Competition between candidates (``competition.py``): a pair whose records have no other
    # candidate of similar score in each other's system/organisation gains
    # ``competition_bonus`` bits; one beaten by more than ``competition_dominated`` bits by
    # another candidate there loses ``competition_penalty`` bits. Pairs under
    # ``competition_floor`` neither compete nor count as rivals.
    competition: bool = True
    competition_floor: float = 0.01
    competition_margin: float = 3.0
    competition_dominated: float = 0.5
    competition_bonus: float = 0.5
    competition_penalty: float = 6.0
    # Review queue: pairs at or above ``lower`` (posterior after competition), best first, at
    # most ``review_budget_share`` of the records in the index (what the helpdesk can take).
    review_budget_share: float = 0.1
    # Within one child, two records of the same system and organisation must link to each
    # other at least this strongly (a child is rarely registered twice in one system). Off by
    # default: 0.9 gives one fewer sibling merge one-shot on the dev corpus but costs FEBRL3
    # (one source, several records per person) 0.9 points of F1.
    same_source_floor: float = 0.0
    # Estimates (``estimates.py``): candidate pairs for the expected number of true pairs and of
    # unique children come from blocks this wide, several times ``max_block_size``, so that the
    # namesakes linking must leave apart still count towards what the register holds.
    estimate_block_size: int = 200
    # Models fitted again from other random samples (seeds) for the interval of unique
    # children: the fit's own uncertainty is part of what the engine does not know.
    estimate_refits: int = 2
