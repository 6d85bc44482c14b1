"""The parts benchmark deals whole families into disjoint parts that cover the corpus."""

from __future__ import annotations

from bench.common import Corpus
from bench.matching_parts import deal_families


def _corpus(families: dict[str, str]) -> Corpus:
    return Corpus(records=[], truth={k: k for k in families}, family=families)


def test_each_family_goes_whole_to_exactly_one_part() -> None:
    families = {f"r{n}": f"f{n % 7}" for n in range(40)}
    parts = deal_families(_corpus(families), 3, seed=5)
    assert len(parts) == 3
    assert set().union(*parts) == set(families.values())
    assert sum(len(p) for p in parts) == 7  # disjoint
    assert sorted(len(p) for p in parts) == [2, 2, 3]  # nearly equal counts


def test_a_deal_is_the_same_for_the_same_seed_and_differs_between_seeds() -> None:
    families = {f"r{n}": f"f{n}" for n in range(30)}
    corpus = _corpus(families)
    assert deal_families(corpus, 2, seed=1) == deal_families(corpus, 2, seed=1)
    assert deal_families(corpus, 2, seed=1) != deal_families(corpus, 2, seed=2)
