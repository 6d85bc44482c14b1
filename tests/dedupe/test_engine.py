from __future__ import annotations

import json

import pytest

from dedupe.engine import LinkPlan, Matcher
from dedupe.weights import ModelParams
from tests.dedupe.helpers import person

CHILD = {
    "family": "Taing",
    "sex": "female",
    "birth_date": "2016-04-09",
    "location_code": "15050703",
    "caregivers": ("Taing Bopharath",),
}


def _cluster_of(plan: LinkPlan, key: str) -> set[str]:
    return next(set(c) for c in plan.clusters if key in c)


def _every_key_once(plan: LinkPlan, keys: list[str]) -> None:
    listed = [k for c in plan.clusters for k in c]
    assert sorted(listed) == sorted(keys)


def test_same_child_linked_across_systems(matcher: Matcher) -> None:
    a = person("primero:1", "primero", given="Ponleu", **CHILD)
    b = person("oscar:1", "oscar", given="Ponlue", **{**CHILD, "caregivers": ()})
    plan = matcher.link([a, b])
    assert _cluster_of(plan, "primero:1") == {"primero:1", "oscar:1"}


def test_khmer_only_links_to_latin_only(matcher: Matcher) -> None:
    """Made-up names that are not in the dev corpus: ពន្លឺ តាំង = Ponleu Taing."""
    khmer = person(
        "oscar:7",
        "oscar",
        given="ពន្លឺ",
        family="តាំង",
        given_km="ពន្លឺ",
        family_km="តាំង",
        sex="female",
        birth_date="2016-04-09",
        location_code="15050703",
    )
    latin = person("primero:7", "primero", given="Ponleu", **CHILD)
    score, evidence = matcher.explain(khmer, latin)
    assert score >= matcher.settings.upper
    names = {e.comparison: e.level for e in evidence}
    assert names["given name"] == "exact" and names["family name"] == "exact"
    plan = matcher.link([khmer, latin])
    assert _cluster_of(plan, "oscar:7") == {"oscar:7", "primero:7"}


def test_khmer_full_name_order_unknown(matcher: Matcher) -> None:
    khmer = person("primero:8", "primero", full_km="ឈួន ធារ៉ា", **{**CHILD, "family": None})
    latin = person(
        "oscar:8",
        "oscar",
        given="Theara",
        family="Chhuon",
        **{k: v for k, v in CHILD.items() if k != "family"},
    )
    score, _ = matcher.explain(khmer, latin)
    assert score >= matcher.settings.upper


def test_siblings_never_linked(matcher: Matcher) -> None:
    one = person("primero:1", "primero", given="Ponleu", **CHILD)
    two = person("oscar:2", "oscar", given="Sovannary", **{**CHILD, "birth_date": "2018-01-20"})
    twin = person("oscar:3", "oscar", given="Reaksmey", **CHILD)  # same birth date
    plan = matcher.link([one, two, twin])
    assert all(len(c) == 1 for c in plan.clusters)


def test_no_chaining_of_weak_links(matcher: Matcher) -> None:
    """A≈B and B≈C, but A and C are siblings: B joins one of them, never both."""
    a = person("a:1", "a", given="Ponleu", **CHILD)
    b = person("b:1", "b", given="Ponleu", **{**CHILD, "caregivers": (), "birth_date": None})
    c = person("c:1", "c", given="Panha", **{**CHILD, "birth_date": "2016-04-09"})
    plan = matcher.link([a, b, c])
    assert not {"a:1", "c:1"} <= _cluster_of(plan, "a:1")
    _every_key_once(plan, ["a:1", "b:1", "c:1"])


def test_must_link_and_cannot_link(matcher: Matcher) -> None:
    a = person("a:1", "a", given="Ponleu", **CHILD)
    b = person("b:1", "b", given="Ponleu", **CHILD)
    c = person("c:1", "c", given="Chantrea", family="Meas", birth_date="2011-01-05")
    plan = matcher.link([a, b, c], must_link=[("a:1", "c:1")], cannot_link=[("a:1", "b:1")])
    assert _cluster_of(plan, "a:1") == {"a:1", "c:1"}
    assert _cluster_of(plan, "b:1") == {"b:1"}


def test_exact_ids_join_first(matcher: Matcher) -> None:
    a = person("primero:1", "primero", given="Ponleu", exact_ids=("case:1",), **CHILD)
    b = person("oscar:1", "oscar", given="Monyrath", family="Sok", exact_ids=("case:1",))
    plan = matcher.link([a, b])
    assert _cluster_of(plan, "primero:1") == {"primero:1", "oscar:1"}


def test_incremental_add_joins_existing_child(matcher: Matcher) -> None:
    old = [
        person("primero:1", "primero", given="Ponleu", **CHILD),
        person("primero:2", "primero", given="Ponleu", **{**CHILD, "birth_date": "2016-09-04"}),
        person("primero:3", "primero", given="Chantrea", family="Meas", birth_date="2011-01-05"),
    ]
    index = matcher.index(
        old, {"primero:1": "child-1", "primero:2": "child-1", "primero:3": "child-2"}
    )
    new = [
        person("oscar:1", "oscar", given="Ponleu", **{**CHILD, "caregivers": ()}),
        person("oscar:2", "oscar", given="Sophanith", family="Vong", birth_date="2019-03-03"),
    ]
    plan = index.add(new)
    assert _cluster_of(plan, "oscar:1") == {"primero:1", "primero:2", "oscar:1"}
    assert _cluster_of(plan, "oscar:2") == {"oscar:2"}
    assert all(r.key_a.startswith("oscar") or r.key_b.startswith("oscar") for r in plan.reviews)
    # the index now knows the new records: a third registration joins the same child
    again = index.add([person("oscar:9", "oscar", given="Ponleu", **CHILD)])
    assert _cluster_of(again, "oscar:9") == {"primero:1", "primero:2", "oscar:1", "oscar:9"}
    # a fresh child gets an internal label that the lead replaces
    fresh = index.labels[index.row_of_key["oscar:2"]]
    index.relabel(fresh, "child-3")
    assert index.labels[index.row_of_key["oscar:2"]] == "child-3"


def test_remove_then_add_again(matcher: Matcher) -> None:
    old = [person("primero:1", "primero", given="Ponleu", **CHILD)]
    index = matcher.index(old, {"primero:1": "child-1"})
    index.remove(["primero:1"])
    plan = index.add([person("oscar:1", "oscar", given="Ponleu", **CHILD)])
    assert plan.clusters == [["oscar:1"]]


def test_cannot_link_on_add(matcher: Matcher) -> None:
    index = matcher.index(
        [person("primero:1", "primero", given="Ponleu", **CHILD)], {"primero:1": "child-1"}
    )
    plan = index.add(
        [person("oscar:1", "oscar", given="Ponleu", **CHILD)],
        cannot_link=[("oscar:1", "primero:1")],
    )
    assert _cluster_of(plan, "oscar:1") == {"oscar:1"}


def test_params_round_trip_json(fitted_params: ModelParams) -> None:
    data = json.loads(json.dumps(fitted_params.to_dict()))
    again = ModelParams.from_dict(data)
    assert again.to_dict() == fitted_params.to_dict()
    with pytest.raises(ValueError):
        ModelParams.from_dict({**data, "version": 99})


def test_labelled_pairs_move_m(fitted_params: ModelParams) -> None:
    from tests.dedupe.synthetic import population

    records, child, _ = population(seed=11, families=60)
    keys = [r.key for r in records]
    same = [(x, y, True) for x in keys for y in keys if x < y and child[x] == child[y]]
    plain = Matcher().fit(records)
    taught = Matcher().fit(records, labelled_pairs=same)
    assert plain.to_dict() != taught.to_dict()


def test_link_without_params_fits_first() -> None:
    from tests.dedupe.synthetic import population

    records, _, _ = population(seed=3, families=40)
    matcher = Matcher()
    plan = matcher.link(records)
    assert matcher.params is not None
    assert sorted(k for c in plan.clusters for k in c) == sorted(r.key for r in records)


def test_explain_lists_every_comparison(matcher: Matcher) -> None:
    score, evidence = matcher.explain(
        person("a:1", given="Ponleu", **CHILD), person("b:1", given="Ponleu", **CHILD)
    )
    assert 0.0 <= score <= 1.0
    assert [e.comparison for e in evidence] == [
        "given name",
        "family name",
        "date of birth",
        "location",
        "sex",
        "caregiver",
        "other details",
        "rare details",
        "systems",
    ]
