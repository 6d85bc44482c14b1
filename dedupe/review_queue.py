"""Ranking the helpdesk's review queue by what a "same child" answer would really mean.

A review item is one pair of records, but saying "same child" merges their two children. When
those children already hold records of the same system, the answer also says that those
records are one child: a child registered twice in one system (or once more by an organisation
it is already registered with), which is rare. A pair whose records agree by name and birth
year but whose children would collide like that is most often two namesakes.

So each candidate pair's log-odds get, for every *implied* pair (a record of one child with a
record of the other, other than the pair itself), the weight the model already gives two records
of those sources (the ``systems`` comparison: "same organisation", "same system, other
organisation"), when it is negative. The weights come from the fitted model (no labels), and
the adjustment only orders the queue: it never links anything.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from dedupe.comparisons import COMPARISONS, SYSTEMS

_SYSTEMS = COMPARISONS.index(SYSTEMS)
_SAME_ORGANISATION = SYSTEMS.labels.index("same organisation")
_OTHER_ORGANISATION = SYSTEMS.labels.index("same system, other organisation")


def source_penalties(systems_weights: Sequence[float]) -> tuple[float, float]:
    """(bits for an implied pair in one organisation, in one system but two organisations);
    zero where the model's weight is not negative."""
    return (
        min(float(systems_weights[_SAME_ORGANISATION]), 0.0),
        min(float(systems_weights[_OTHER_ORGANISATION]), 0.0),
    )


def implied_bits(
    x: int,
    y: int,
    members_of: Callable[[int], Sequence[int]],
    system: Sequence[str],
    group: Sequence[str],
    penalties: tuple[float, float],
) -> float:
    """Bits added to the pair (x, y) for the pairs its merge implies (see the module doc)."""
    same_org, other_org = penalties
    bits = 0.0
    for p in members_of(x):
        for q in members_of(y):
            if (p, q) == (x, y) or system[p] != system[q]:
                continue
            bits += same_org if group[p] == group[q] else other_org
    return bits
