"""How much the dev-corpus figures move on other corpora made the same way.

    python bench/matching_parts.py [--parts 2] [--seeds 3] [--corpus DIR] [--estimates] [--out DIR]

The project is also scored on corpora it never sees. As a stand-in, the dev corpus's families
are dealt at random into ``--parts`` disjoint parts (siblings stay together, so each part is a
smaller corpus made the same way), and each part is linked on its own the way the project's
checker imports it (Primero first, then OSCaR: ``two_step``), with the default settings, and
scored with shared/tools/score_links.py against that part's truth. Prints one line per part,
then the spread of each figure over all parts. ``--corpus`` takes any corpus folder (default
the dev corpus); ``--estimates`` adds, per part, the engine's own estimates beside the truth.

A part holds 1/parts of the children, so names are rarer in it than in the full corpus: the
spread is that of smaller corpora, and the review queue is 10% of the part's records.
"""

from __future__ import annotations

import argparse
import csv
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.common import Corpus, dev_corpus_dir, load_corpus  # noqa: E402
from bench.matching_quality import (  # noqa: E402
    RunResult,
    estimates_line,
    score,
    two_step,
    write_csvs,
)
from dedupe.settings import MatchSettings  # noqa: E402


def deal_families(corpus: Corpus, parts: int, seed: int) -> list[set[str]]:
    """The corpus's families in ``parts`` random groups of (nearly) equal count."""
    families = sorted(set(corpus.family.values()))
    random.Random(seed).shuffle(families)
    return [set(families[n::parts]) for n in range(parts)]


def write_truth(path: Path, corpus: Corpus, keys: Sequence[str]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["system", "record_id", "child", "family"])
        for key in keys:
            system, _, record_id = key.partition(":")
            out.writerow([system, record_id, corpus.truth[key], corpus.family[key]])


def run_part(
    corpus: Corpus,
    families: set[str],
    folder: Path,
    name: str,
    settings: MatchSettings,
    *,
    estimates: bool = False,
) -> RunResult:
    records = [r for r in corpus.records if corpus.family[r.key] in families]
    folder.mkdir(parents=True, exist_ok=True)
    write_truth(folder / "truth.csv", corpus, [r.key for r in records])
    started = time.perf_counter()
    plan = two_step(records, settings)
    seconds = time.perf_counter() - started
    write_csvs(folder, plan.clusters, plan.reviews)
    result = score(folder, folder / "truth.csv", name, seconds)
    if estimates:
        line = estimates_line(corpus, plan, settings, records, calibration=False)
        print(result.line() + "\n" + line, flush=True)
    else:
        print(result.line(), flush=True)
    return result


def spread(results: Sequence[RunResult]) -> list[str]:
    rows = []
    for label, values, fmt in (
        ("precision", [r.precision for r in results], ".4f"),
        ("recall", [r.recall for r in results], ".4f"),
        ("F1", [r.f1 for r in results], ".4f"),
        ("sibling merges", [float(r.sibling_merges) for r in results], ".1f"),
        ("R+review", [r.recall_with_review for r in results], ".4f"),
    ):
        rows.append(
            f"{label:<15} mean {statistics.fmean(values):{fmt}}  "
            f"min {min(values):{fmt}}  max {max(values):{fmt}}"
        )
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", type=int, default=2, help="disjoint parts per deal (2)")
    parser.add_argument("--seeds", type=int, default=3, help="random deals (3)")
    parser.add_argument("--out", type=Path, default=None, help="folder for the CSV files")
    parser.add_argument("--corpus", type=Path, default=None, help="corpus folder (default: dev)")
    parser.add_argument(
        "--estimates", action="store_true", help="print the engine's estimates per part"
    )
    args = parser.parse_args(argv)
    if args.parts < 1 or args.seeds < 1:
        parser.error("--parts and --seeds must be at least 1")
    out = args.out or Path(tempfile.mkdtemp(prefix="matching-parts-"))
    corpus = load_corpus(args.corpus or dev_corpus_dir())
    settings = MatchSettings()
    results = []
    for seed in range(args.seeds):
        for n, families in enumerate(deal_families(corpus, args.parts, seed)):
            name = f"deal {seed} part {n}"
            folder = out / f"s{seed}p{n}"
            result = run_part(corpus, families, folder, name, settings, estimates=args.estimates)
            results.append(result)
    print(f"over {len(results)} parts of 1/{args.parts} of the corpus:")
    for row in spread(results):
        print("  " + row)


if __name__ == "__main__":
    main()
