"""Splink 5 (DuckDB) configured for children's records: the baseline our engine is compared to.

One flat table for both systems (a child can be twice in one system, so it is a dedupe of the
union). The configuration is what a careful Splink user would write, with nothing our engine
knows about Khmer romanisation: normalised Latin names compared with Jaro-Winkler levels and
term frequencies (swaps caught by a reversed-columns level), Khmer script names compared as an
order-free token string, date-of-birth levels for typos and day/month swaps, NCDD location
levels by prefix, sex and caregiver name. u by random sampling, m by EM on two blocking rules.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import jellyfish
import pandas as pd
import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import Linker, SettingsCreator, block_on
from splink.backends.duckdb import DuckDBAPI

if __package__ in (None, ""):  # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import (
    LinkScore,
    load_dev_corpus,
    pairwise_score,
    run_score_links,
    write_predicted,
)
from dedupe.records import PersonRecord

_NOT_LATIN = re.compile(r"[^a-z]")
_KHMER_SPACES = re.compile(r"[\s\u200b\u200c\u200d]+")


def latin_key(text: str | None) -> str | None:
    """Lower case a-z only: "Srey Mom" and "SREYMOM" compare equal."""
    if not text:
        return None
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return _NOT_LATIN.sub("", folded) or None


def khmer_key(*parts: str | None) -> str | None:
    """Khmer tokens sorted, so family-first and given-first orders compare equal."""
    tokens = sorted(t for p in parts if p for t in _KHMER_SPACES.split(p.strip()) if t)
    return " ".join(tokens) or None


def splink_row(record: PersonRecord) -> dict[str, Any]:
    given, family = latin_key(record.given), latin_key(record.family)
    km = khmer_key(record.full_km) if record.full_km else None
    carer = None
    if record.caregivers:
        carer = " ".join(sorted(filter(None, map(latin_key, record.caregivers[0].split()))))
    dob = record.birth_date.isoformat() if record.birth_date else None
    return {
        "unique_id": record.key,
        "given": given,
        "family": family,
        "full_name": f"{given} {family}" if given and family else None,
        # Soundex, as a Splink user would precompute a phonetic key (jellyfish ships with Splink)
        "given_sx": jellyfish.soundex(given) if given else None,
        "family_sx": jellyfish.soundex(family) if family else None,
        "name_km": km or khmer_key(record.given_km, record.family_km),
        "dob": dob,
        "birth_year": dob[:4] if dob else None,
        "sex": record.sex if record.sex in ("female", "male") else None,
        "loc": record.location_code,
        "loc4": record.location_code[:4] if record.location_code else None,
        "caregiver": carer or None,
    }


def splink_frame(records: Sequence[PersonRecord]) -> pd.DataFrame:
    return pd.DataFrame([splink_row(r) for r in records])


def _names() -> cl.CustomComparison:
    """Given and family name together, so a swap is one level rather than two misses."""

    def jw(col_l: str, col_r: str, at: float) -> str:
        return f"jaro_winkler_similarity({col_l}, {col_r}) >= {at}"

    swapped = f"{jw('given_l', 'family_r', 0.88)} AND {jw('family_l', 'given_r', 0.88)}"
    return cl.CustomComparison(
        output_column_name="latin_name",
        comparison_levels=[
            cll.Or(cll.NullLevel("given"), cll.NullLevel("family")),
            cll.ExactMatchLevel("full_name").configure(tf_adjustment_column="full_name"),
            cll.ColumnsReversedLevel("given", "family", symmetrical=True),
            cll.And(cll.JaroWinklerLevel("given", 0.92), cll.JaroWinklerLevel("family", 0.92)),
            cll.And(cll.JaroWinklerLevel("given", 0.85), cll.JaroWinklerLevel("family", 0.85)),
            cll.CustomLevel(swapped, "swapped, JW >= 0.88"),
            cll.And(cll.ExactMatchLevel("given_sx"), cll.ExactMatchLevel("family_sx")),
            cll.CustomLevel(
                "given_sx_l = family_sx_r AND family_sx_l = given_sx_r", "swapped, soundex"
            ),
            cll.And(cll.JaroWinklerLevel("given", 0.92), cll.JaroWinklerLevel("family", 0.7)),
            cll.And(cll.JaroWinklerLevel("family", 0.92), cll.JaroWinklerLevel("given", 0.7)),
            cll.ExactMatchLevel("given").configure(tf_adjustment_column="given"),
            cll.ExactMatchLevel("family").configure(tf_adjustment_column="family"),
            cll.JaroWinklerLevel("given", 0.88),
            cll.ElseLevel(),
        ],
    )


def _khmer_name() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="name_km",
        comparison_levels=[
            cll.NullLevel("name_km"),
            cll.ExactMatchLevel("name_km").configure(tf_adjustment_column="name_km"),
            cll.JaroWinklerLevel("name_km", 0.9),
            cll.JaroWinklerLevel("name_km", 0.8),
            cll.ElseLevel(),
        ],
    )


def _birth_date() -> cl.CustomComparison:
    swapped = (
        "substr(dob_l, 1, 4) = substr(dob_r, 1, 4) AND substr(dob_l, 6, 2) = substr(dob_r, 9, 2) "
        "AND substr(dob_l, 9, 2) = substr(dob_r, 6, 2)"
    )
    year_gap = "abs(CAST(substr(dob_l, 1, 4) AS INTEGER) - CAST(substr(dob_r, 1, 4) AS INTEGER))"
    return cl.CustomComparison(
        output_column_name="dob",
        comparison_levels=[
            cll.NullLevel("dob"),
            cll.ExactMatchLevel("dob"),
            cll.CustomLevel(swapped, "day and month swapped"),
            cll.DamerauLevenshteinLevel("dob", 1),
            cll.CustomLevel(f"{year_gap} = 0", "same year"),
            cll.CustomLevel(f"{year_gap} <= 1", "year within 1"),
            cll.CustomLevel(f"{year_gap} <= 3", "year within 3"),
            cll.ElseLevel(),
        ],
    )


def _location() -> cl.CustomComparison:
    def prefix(n: int) -> str:
        return f"length(loc_l) >= {n} AND length(loc_r) >= {n} AND substr(loc_l, 1, {n}) = substr(loc_r, 1, {n})"  # noqa: E501

    return cl.CustomComparison(
        output_column_name="location",
        comparison_levels=[
            cll.NullLevel("loc"),
            cll.ExactMatchLevel("loc"),
            cll.CustomLevel(prefix(6), "same commune"),
            cll.CustomLevel(prefix(4), "same district"),
            cll.CustomLevel(prefix(2), "same province"),
            cll.ElseLevel(),
        ],
    )


def _caregiver() -> cl.CustomComparison:
    return cl.CustomComparison(
        output_column_name="caregiver",
        comparison_levels=[
            cll.NullLevel("caregiver"),
            cll.ExactMatchLevel("caregiver").configure(tf_adjustment_column="caregiver"),
            cll.JaroWinklerLevel("caregiver", 0.9),
            cll.JaroWinklerLevel("caregiver", 0.8),
            cll.ElseLevel(),
        ],
    )


PREDICTION_RULES = [
    block_on("given", "family"),
    "l.given = r.family AND l.family = r.given",
    block_on("dob"),
    block_on("loc"),
    block_on("name_km"),
    block_on("family", "loc4"),
    block_on("given", "loc4"),
    block_on("given", "birth_year"),
    block_on("family", "birth_year"),
    block_on("substr(given, 1, 3)", "substr(family, 1, 2)"),
    block_on("substr(given, 1, 3)", "birth_year"),
    "l.given = r.family AND l.birth_year = r.birth_year",
    "l.family = r.given AND l.birth_year = r.birth_year",
    block_on("caregiver"),
    block_on("given_sx", "family_sx"),
    block_on("given_sx", "birth_year"),
    block_on("family_sx", "loc4"),
]

# At 1M records the rules above that pair on one field (a date of birth, a village, a
# caregiver, a family name in a district) make blocks of thousands of records: Splink's
# predictions passed 22 GB on this 23 GB machine within four minutes. These rules keep a
# name (spelled, sounded or in Khmer) and a birth year or date in every rule.
SCALE_RULES = [
    block_on("given", "family"),
    "l.given = r.family AND l.family = r.given",
    block_on("given_sx", "family_sx", "birth_year"),
    block_on("name_km", "birth_year"),
    block_on("given", "dob"),
    block_on("family", "dob"),
    block_on("given_sx", "birth_year", "loc4"),
]
# EM sessions: the dev set trains on one date of birth and on one village; at 1M both make
# blocks of thousands (every estimated birth date is 1 January), so the scale run trains on a
# sounded name with a birth year (for dates, places, sex, caregivers) and on a date of birth in
# a district (for the names)
DEV_TRAINING = (block_on("dob"), block_on("loc"))
SCALE_TRAINING = (block_on("given_sx", "family_sx", "birth_year"), block_on("dob", "loc4"))


def children_settings(rules: Sequence[Any] = tuple(PREDICTION_RULES)) -> SettingsCreator:
    return SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            _names(),
            _khmer_name(),
            _birth_date(),
            cl.ExactMatch("sex"),
            _location(),
            _caregiver(),
        ],
        blocking_rules_to_generate_predictions=list(rules),
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )


@dataclass
class SplinkRun:
    linker: Linker
    predictions: Any  # SplinkDataFrame of scored pairs
    pairs: pd.DataFrame  # unique_id_l, unique_id_r, match_probability


def train_and_predict(
    records: Sequence[PersonRecord],
    *,
    seed: int = 7,
    max_pairs: float = 5e6,
    rules: Sequence[Any] = tuple(PREDICTION_RULES),
    training: Sequence[Any] = DEV_TRAINING,
    memory_limit: str | None = None,
) -> SplinkRun:
    """Train (u by sampling, lambda by deterministic rules, m by EM) and score blocked pairs.
    ``memory_limit`` (DuckDB's, e.g. "8GB") also caps what DuckDB spills to its temp folder."""
    connection = duckdb.connect()
    if memory_limit:
        connection.execute(f"SET memory_limit = '{memory_limit}'")
        connection.execute(f"SET max_temp_directory_size = '{memory_limit}'")
    db_api = DuckDBAPI(connection)
    table = db_api.register(splink_frame(records), dataset_display_name="children")
    linker = Linker(table, children_settings(rules), log_level=logging.WARNING)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given", "family", "dob"), block_on("name_km", "dob")], recall=0.6
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=seed)
    for blocks in training:
        linker.training.estimate_parameters_using_expectation_maximisation(blocks)
    predictions = linker.inference.predict(threshold_match_probability=0.01)
    pairs = predictions.as_pandas_dataframe()[["unique_id_l", "unique_id_r", "match_probability"]]
    return SplinkRun(linker, predictions, pairs)


def splink_clusters(run: SplinkRun, threshold: float) -> list[list[str]]:
    """Splink's own connected-components clustering at a match-probability threshold."""
    clustered = run.linker.clustering.cluster_pairwise_predictions_at_threshold(
        run.predictions, threshold_match_probability=threshold
    ).as_pandas_dataframe()
    groups: dict[Any, list[str]] = {}
    for key, cluster in zip(clustered["unique_id"], clustered["cluster_id"], strict=True):
        groups.setdefault(cluster, []).append(str(key))
    return list(groups.values())


def clusters_from_pairs(
    keys: Sequence[str], pairs: pd.DataFrame, threshold: float
) -> list[list[str]]:
    """Connected components of the pairs at or above ``threshold`` (fast path for a sweep)."""
    parent = {k: k for k in keys}

    def find(k: str) -> str:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    strong = pairs[pairs["match_probability"] >= threshold]
    for a, b in zip(strong["unique_id_l"], strong["unique_id_r"], strict=True):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[ra] = rb
    groups: dict[str, list[str]] = {}
    for k in keys:
        groups.setdefault(find(k), []).append(k)
    return list(groups.values())


SWEEP = [
    0.3,
    0.5,
    0.6,
    0.7,
    0.8,
    0.85,
    0.9,
    0.93,
    0.95,
    0.97,
    0.98,
    0.99,
    0.995,
    0.998,
    0.999,
    0.9995,
    0.9999,
]


def best_threshold(
    keys: Sequence[str],
    pairs: pd.DataFrame,
    truth: dict[str, str],
    side: Callable[[str], str] | None = None,
) -> tuple[float, LinkScore]:
    """The match-probability threshold with the best pairwise F1 (an oracle choice, in
    Splink's favour: it uses the truth)."""
    scored = [(t, pairwise_score(clusters_from_pairs(keys, pairs, t), truth, side)) for t in SWEEP]
    return max(scored, key=lambda item: item[1].f1)


def run_splink_dev(shared_dir: Path | str | None = None) -> dict[str, Any]:
    """Splink on the dev corpus, scored by tools/score_links.py at the F1-best threshold and at
    0.99. Returns {setting: {threshold, precision, recall, f1, sibling_merges, seconds}}."""
    shared = Path(shared_dir) if shared_dir else None
    corpus = load_dev_corpus(shared)
    keys = [r.key for r in corpus.records]
    started = time.perf_counter()
    run = train_and_predict(corpus.records)
    trained = time.perf_counter() - started
    best, _ = best_threshold(keys, run.pairs, corpus.truth)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, threshold in (("best F1", best), ("p>=0.99", 0.99)):
            t0 = time.perf_counter()
            clusters = splink_clusters(run, threshold)
            seconds = trained + time.perf_counter() - t0
            predicted = Path(tmp) / "predicted.csv"
            write_predicted(predicted, clusters)
            assert corpus.truth_csv is not None
            score = run_score_links(corpus.truth_csv, predicted, shared)
            results[name] = {
                "threshold": threshold,
                "precision": score.precision,
                "recall": score.recall,
                "f1": score.f1,
                "sibling_merges": score.sibling_merges,
                "seconds": round(seconds, 1),
                "pairs_scored": len(run.pairs),
            }
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=None, help="the shared reference directory")
    args = ap.parse_args()
    for name, r in run_splink_dev(args.shared).items():
        print(
            f"splink dev ({name}, threshold {r['threshold']}): precision {r['precision']:.4f} "
            f"recall {r['recall']:.4f} F1 {r['f1']:.4f} sibling_merges {r['sibling_merges']} "
            f"time {r['seconds']:.1f} s"
        )


if __name__ == "__main__":
    main()
