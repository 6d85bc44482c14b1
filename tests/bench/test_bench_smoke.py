"""Smoke tests for the comparison benchmarks: record conversion, scoring, Splink on a slice."""

from __future__ import annotations

import importlib.util
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.common import (
    dev_corpus_dir,
    load_dev_corpus,
    oscar_to_person,
    pad_location,
    pairwise_score,
    parse_birth_date,
    primero_to_person,
    split_name,
)
from bench.febrl import febrl_birth_date, febrl_person

HAS_SPLINK = importlib.util.find_spec("splink") is not None


def test_primero_case_converts_with_mixed_script_name_and_lost_zero() -> None:
    case = {
        "id": "u1",
        "name_first": "រិទ្ធី (Rithi)",
        "name_last": "CHHAY",
        "sex": "male",
        "date_of_birth": "2014-01-01",
        "estimated": True,
        "location_current": "8030201",
        "family_details_section": [{"relation_name": "Chhay Tola", "relation_is_caregiver": True}],
    }
    person = primero_to_person(case)
    assert person.key == "primero:u1"
    assert (person.given, person.given_km, person.family) == ("Rithi", "រិទ្ធី", "CHHAY")
    assert person.birth_date == date(2014, 1, 1) and person.birth_precision == "estimated"
    assert person.location_code == "08030201"
    assert person.caregivers == ("Chhay Tola",)


def test_oscar_client_moves_khmer_fallback_and_drops_corrupt_date() -> None:
    client = {
        "global_id": "01ABC",
        "given_name": "មាលា",
        "family_name": "Hun",
        "local_given_name": "",
        "gender": "prefer_not_to_say",
        "date_of_birth": "22014-03-05",
        "location_current_village_code": "12140302",
    }
    person = oscar_to_person(client)
    assert person.key == "oscar:01ABC"
    assert person.given is None and person.given_km == "មាលា"
    assert person.birth_date is None and person.birth_precision == "unknown"
    assert person.sex == "unknown"


@given(st.text(max_size=12))
def test_conversion_helpers_never_raise(text: str) -> None:
    split_name(text)
    parse_birth_date(text)
    code = pad_location(text)
    assert code is None or len(code) % 2 == 0
    febrl_birth_date(text)


def test_febrl_row_maps_to_person_record() -> None:
    row = {"given_name": "mitchell", "surname": "green", "date_of_birth": "19561309"}
    person = febrl_person("b", "rec-1-dup-0", row)
    assert person.key == "b:rec-1-dup-0" and person.family == "green"
    assert person.birth_date is None and person.location_code is None


def test_pairwise_score_counts_cross_file_pairs_only() -> None:
    truth = {"a:1": "x", "b:1": "x", "a:2": "x", "b:2": "y"}
    side = lambda key: key[0]  # noqa: E731
    score = pairwise_score([["a:1", "b:1", "a:2"], ["b:2"]], truth, side)
    assert (score.precision, score.recall) == (1.0, 1.0)  # the a:1-a:2 pair does not count
    assert pairwise_score([["a:1", "b:1", "a:2", "b:2"]], truth).precision == 0.5


@pytest.mark.skipif(not HAS_SPLINK, reason="splink not installed (pip install -e .[bench])")
def test_splink_runs_on_a_slice_of_the_dev_corpus() -> None:
    if not dev_corpus_dir().is_dir():
        pytest.skip("shared dev corpus not present")
    from bench.splink_dev import clusters_from_pairs, train_and_predict

    corpus = load_dev_corpus()
    children = sorted(set(corpus.truth.values()))[:800]  # whole children, so matches exist
    chosen = set(children)
    records = [r for r in corpus.records if corpus.truth[r.key] in chosen]
    run = train_and_predict(records, max_pairs=2e5)
    clusters = clusters_from_pairs([r.key for r in records], run.pairs, 0.9)
    assert sorted(k for c in clusters for k in c) == sorted(r.key for r in records)
