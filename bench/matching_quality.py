"""Matching quality of our engine on the Khmer children dev corpus (the OUR-ENGINE part).

    python bench/matching_quality.py [--corpus DIR] [--estimates] [--out DIR] [--splink]

Runs (a) a one-shot full link of all records and (b) the two-step import the project's checker
does (Primero cases first, then OSCaR clients added to the index of Primero children), writes
predicted.csv / review.csv per run, scores them with shared/tools/score_links.py and prints one
line per run. With --splink, runs bench/splink_dev.py (if present) and prints its line too.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import re
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.common import Corpus, dev_corpus_dir, load_corpus, shared_dir  # noqa: E402
from dedupe.blocking import BlockIndex  # noqa: E402
from dedupe.engine import LinkPlan, Matcher, ReviewPair  # noqa: E402
from dedupe.prepare import prepare  # noqa: E402
from dedupe.records import PersonRecord  # noqa: E402
from dedupe.settings import MatchSettings  # noqa: E402


@dataclass
class RunResult:
    name: str
    precision: float
    recall: float
    f1: float
    sibling_merges: int
    reviews: int
    recall_with_review: float
    seconds: float

    def line(self) -> str:
        return (
            f"{self.name:<12} P {self.precision:.4f}  R {self.recall:.4f}  F1 {self.f1:.4f}  "
            f"siblings {self.sibling_merges:>3}  reviews {self.reviews:>4}  "
            f"R+review {self.recall_with_review:.4f}  {self.seconds:5.1f}s"
        )


def write_csvs(
    folder: Path, clusters: Sequence[Sequence[str]], reviews: Sequence[ReviewPair]
) -> None:
    with (folder / "predicted.csv").open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["system", "record_id", "child_id"])
        for n, members in enumerate(clusters):
            for key in members:
                system, _, record_id = key.partition(":")
                out.writerow([system, record_id, f"K{n:07d}"])
    with (folder / "review.csv").open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["system_a", "record_id_a", "system_b", "record_id_b"])
        for r in reviews:
            out.writerow([*r.key_a.split(":", 1), *r.key_b.split(":", 1)])


def score(folder: Path, truth_csv: Path, name: str, seconds: float) -> RunResult:
    tool = shared_dir() / "tools" / "score_links.py"
    done = subprocess.run(
        [
            sys.executable,
            str(tool),
            str(truth_csv),
            str(folder / "predicted.csv"),
            "--review",
            str(folder / "review.csv"),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    text = done.stdout
    last = re.search(r"F1 ([\d.]+) precision ([\d.]+) recall ([\d.]+)", text)
    siblings = re.search(r"of them siblings/twins (\d+)", text)
    reviews = re.search(r"review pairs (\d+), recall counting review ([\d.]+)", text)
    assert last and siblings and reviews, text
    return RunResult(
        name,
        float(last[2]),
        float(last[3]),
        float(last[1]),
        int(siblings[1]),
        int(reviews[1]),
        float(reviews[2]),
        seconds,
    )


def one_shot(records: Sequence[PersonRecord], settings: MatchSettings) -> LinkPlan:
    return Matcher(settings).link(records)


def two_step(records: Sequence[PersonRecord], settings: MatchSettings) -> LinkPlan:
    """Primero first (full link), then OSCaR as new records into the index of those children."""
    primero = [r for r in records if r.system == "primero"]
    oscar = [r for r in records if r.system != "primero"]
    matcher = Matcher(settings)
    first = matcher.link(primero)
    labels = {key: f"child{n}" for n, members in enumerate(first.clusters) for key in members}
    index = matcher.index(primero, labels)
    second = index.add(oscar)
    final: dict[str, str] = dict(labels)
    for members in second.clusters:
        label = next((labels[k] for k in members if k in labels), None) or f"new{members[0]}"
        for key in members:
            final[key] = label
    groups: dict[str, list[str]] = defaultdict(list)
    for key, label in final.items():
        groups[label].append(key)
    # one queue, as the bridge keeps it: pairs still in two children, best first, within the
    # budget of the records held
    reviews = sorted(
        (r for r in first.reviews + second.reviews if final[r.key_a] != final[r.key_b]),
        key=lambda r: -r.score,
    )
    budget = max(1, int(settings.review_budget_share * len(final)))
    return LinkPlan(list(groups.values()), reviews[:budget])


def blocking_recall(corpus: Corpus, settings: MatchSettings) -> tuple[float, int]:
    table = prepare(corpus.records)
    blocks = BlockIndex()
    blocks.add(table, range(len(table)))
    a, b = blocks.all_pairs(settings.max_block_size)
    groups: dict[str, list[int]] = defaultdict(list)
    for row, key in enumerate(table.keys):
        groups[corpus.truth[key]].append(row)
    true_pairs = {p for m in groups.values() for p in itertools.combinations(sorted(m), 2)}
    found = true_pairs & set(zip(a.tolist(), b.tolist(), strict=False))
    return len(found) / max(len(true_pairs), 1), len(a)


def estimates_line(
    corpus: Corpus,
    plan: LinkPlan,
    settings: MatchSettings,
    records: Sequence[PersonRecord] | None = None,
    *,
    calibration: bool = True,
) -> str:
    """The engine's own estimates for a plan (``dedupe.estimates``) of ``records`` (default:
    the corpus's), beside the truth, and the calibration table of the linked and the review
    pairs."""
    from dedupe.estimates import estimate, refits

    records = corpus.records if records is None else records
    matcher = Matcher(settings)
    matcher.fit(records)
    labels = {key: f"c{n}" for n, members in enumerate(plan.clusters) for key in members}
    fits = refits(records, settings, settings.estimate_refits)
    linked: list[tuple[str, str, float]] = []
    found = estimate(matcher, records, labels, other_fits=fits, linked_out=linked)
    children = len({corpus.truth[r.key] for r in records})
    inside = found.unique_children_low <= children <= found.unique_children_high
    held = "holds" if inside else "MISSES"
    reviews = [(r.key_a, r.key_b, r.score) for r in plan.reviews]
    return (
        f"  estimates: P {found.precision:.4f}  R {found.recall:.4f}  wrong pairs "
        f"{found.wrong_merges:.0f}  unique children {found.unique_children} "
        f"[{found.unique_children_low}, {found.unique_children_high}] vs true {children} "
        f"({held}), ids {found.children}"
        + ("\n" + calibration_table(corpus.truth, {"linked": linked, "review": reviews}))
        * calibration
    )


def calibration_table(
    truth: dict[str, str], pairs: dict[str, list[tuple[str, str, float]]], bands: int = 10
) -> str:
    """Score band -> pairs, mean score and true share, per kind of pair; a band of at least
    100 pairs whose true share is more than 0.05 from its mean score is marked ``!``."""
    header = "  band     " + "".join(f"| {kind:>7} n  mean  true " for kind in pairs)
    lines = [header]
    for band in range(bands):
        lo, hi = band / bands, (band + 1) / bands
        cells = []
        for found in pairs.values():
            inside = [
                (p, truth[a] == truth[b])
                for a, b, p in found
                if lo <= p < hi or (band == bands - 1 and p >= hi)
            ]
            if not inside:
                cells.append(f"| {'':>9}{'':>6}{'':>6}")
                continue
            mean = sum(p for p, _ in inside) / len(inside)
            share = sum(same for _, same in inside) / len(inside)
            mark = "!" if len(inside) >= 100 and abs(share - mean) > 0.05 else " "
            cells.append(f"| {len(inside):>9} {mean:.3f} {share:.3f}{mark}")
        lines.append(f"  {lo:.1f}-{hi:.1f}  " + "".join(cells))
    return "\n".join(lines)


def run(
    out: Path,
    settings: MatchSettings,
    corpus_dir: Path | None = None,
    *,
    estimates: bool = False,
) -> list[RunResult]:
    corpus = load_corpus(corpus_dir or dev_corpus_dir())
    assert corpus.truth_csv is not None
    results = []
    notes: dict[str, str] = {}
    for name, linker in (("one-shot", one_shot), ("two-step", two_step)):
        started = time.perf_counter()
        plan = linker(corpus.records, settings)
        seconds = time.perf_counter() - started
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        write_csvs(folder, plan.clusters, plan.reviews)
        results.append(score(folder, corpus.truth_csv, name, seconds))
        if estimates:
            notes[name] = estimates_line(corpus, plan, settings)
    recall, candidates = blocking_recall(corpus, settings)
    for r in results:
        print(r.line())
        if r.name in notes:
            print(notes[r.name])
    size = len(corpus.records)
    print(f"blocking recall {recall:.4f} ({candidates} candidate pairs, {size} records)")
    return results


def run_splink() -> None:
    script = REPO / "bench" / "splink_dev.py"
    if not script.exists():
        print("splink: bench/splink_dev.py not present")
        return
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
    lines = (done.stdout or done.stderr).strip().splitlines()
    print("splink      " + (lines[-1] if lines else f"failed (exit {done.returncode})"))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="folder for the CSV files")
    parser.add_argument("--splink", action="store_true", help="also run bench/splink_dev.py")
    parser.add_argument(
        "--corpus",
        type=Path,
        default=None,
        help="corpus folder (primero_cases.json, oscar_clients.json, truth.csv, gzipped or not);"
        " default: the shared dev corpus",
    )
    parser.add_argument(
        "--estimates",
        action="store_true",
        help="also print the engine's own estimates (precision, recall, unique children with"
        " its 95%% interval) beside the true figures",
    )
    args = parser.parse_args(argv)
    out = args.out or Path(tempfile.mkdtemp(prefix="matching-quality-"))
    run(out, MatchSettings(), args.corpus, estimates=args.estimates)
    if args.splink:
        run_splink()


if __name__ == "__main__":
    main()
