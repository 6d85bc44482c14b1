"""Tunable settings of the matching engine, with the documented defaults.

The defaults were chosen on the synthetic Khmer development corpus (measured with its truth)
and checked on FEBRL; the model itself (m/u weights) is always re-estimated from the records
being linked, so only these few numbers carry over between datasets.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MatchSettings:
    # Posterior match probability at or above which a pair is linked automatically. On the dev
    # corpus (one-shot): 0.95 -> precision 0.996 recall 0.78; 0.9 -> 0.994 / 0.80;
    # 0.98 -> 0.997 / 0.75.
    upper: float = 0.95
    # Posterior at or above which a pair that is not linked goes to the helpdesk review queue;
    # 0.4 keeps the queue under 10% of the records on the dev corpus.
    lower: float = 0.4
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
