"""Measure how well the Khmer reading and the phonetic key agree with attested Latin spellings.

Run: python -m tests.dedupe_names.measure [--worst N]
Prints, for each data set, the share of (Khmer, Latin) pairs whose keys are equal and whose
keys have Jaro-Winkler similarity >= 0.85, counted over records (weighted) and over distinct
pairs. Reads the shared reference data (BRIDGE_SHARED_DIR or ../shared next to the repo).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz.distance import JaroWinkler

from dedupe.khmer import has_khmer
from dedupe.phonetic import joined_key

JW_THRESHOLD = 0.85


def shared_dir() -> Path:
    env = os.environ.get("BRIDGE_SHARED_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / ".." / "shared"


@dataclass
class Agreement:
    label: str
    records: int = 0
    records_equal: int = 0
    records_close: int = 0
    pairs: int = 0
    pairs_equal: int = 0
    pairs_close: int = 0

    def line(self) -> str:
        def pct(a: int, b: int) -> str:
            return f"{100 * a / b:5.1f}%" if b else "  n/a"

        return (
            f"{self.label:<32} records {self.records:6d}: "
            f"equal {pct(self.records_equal, self.records)}"
            f" JW>={JW_THRESHOLD} {pct(self.records_close, self.records)} | distinct pairs "
            f"{self.pairs:5d}: equal {pct(self.pairs_equal, self.pairs)}"
            f" JW {pct(self.pairs_close, self.pairs)}"
        )


def agreement(
    label: str, pairs: Counter[tuple[str, str]], worst: int = 0
) -> tuple[Agreement, list[tuple[int, str, str, str, str]]]:
    """Compare joined keys of each (khmer, latin) pair; return totals and the worst misses."""
    result = Agreement(label)
    misses: list[tuple[int, str, str, str, str]] = []
    for (km, latin), count in pairs.items():
        k_km, k_lat = joined_key(km), joined_key(latin)
        equal = k_km == k_lat
        close = equal or JaroWinkler.similarity(k_km, k_lat) >= JW_THRESHOLD
        result.records += count
        result.pairs += 1
        result.records_equal += count * equal
        result.records_close += count * close
        result.pairs_equal += equal
        result.pairs_close += close
        if not equal:
            misses.append((count, km, latin, k_km, k_lat))
    misses.sort(reverse=True)
    return result, misses[:worst]


def oscar_pairs(root: Path) -> Counter[tuple[str, str]]:
    clients = json.loads((root / "data/khmer-children-dev/oscar_clients.json").read_text())
    pairs: Counter[tuple[str, str]] = Counter()
    for client in clients:
        for latin_field, km_field in (
            ("given_name", "local_given_name"),
            ("family_name", "local_family_name"),
        ):
            latin, km = client.get(latin_field), client.get(km_field)
            if latin and km and has_khmer(km) and not has_khmer(latin):
                pairs[(km, latin)] += 1
    return pairs


def name_pairs(root: Path) -> Counter[tuple[str, str]]:
    path = root / "data/khmer-name-pairs/name_pairs.tsv"
    with path.open(encoding="utf-8") as fh:
        return Counter((r["name_km"], r["name_latin"]) for r in csv.DictReader(fh, delimiter="\t"))


def gazetteer_pairs(root: Path, levels: Iterable[str]) -> Counter[tuple[str, str]]:
    path = root / "data/gazetteer/gazetteer_km_latin.tsv"
    wanted = set(levels)
    with path.open(encoding="utf-8") as fh:
        return Counter(
            (r["name_km"], r["name_latin_ncdd"])
            for r in csv.DictReader(fh, delimiter="\t")
            if r["level"] in wanted and r["name_km"] and r["name_latin_ncdd"]
        )


def variant_consistency(pairs: Counter[tuple[str, str]]) -> tuple[float, float]:
    """Latin spellings grouped by their Khmer name: share of records whose key is the group's
    most common key, and share of same-group record pairs with equal keys."""
    groups: dict[str, Counter[str]] = defaultdict(Counter)
    for (km, latin), count in pairs.items():
        groups[km][joined_key(latin)] += count
    modal = total = same_pairs = all_pairs = 0
    for keys in groups.values():
        n = sum(keys.values())
        total += n
        modal += keys.most_common(1)[0][1]
        all_pairs += n * (n - 1) // 2
        same_pairs += sum(c * (c - 1) // 2 for c in keys.values())
    return modal / max(total, 1), same_pairs / max(all_pairs, 1)


def collisions(pairs: Counter[tuple[str, str]]) -> tuple[int, int]:
    """Precision proxy: how many distinct Khmer names share their key with another Khmer name."""
    by_key: dict[str, set[str]] = defaultdict(set)
    for km, _latin in pairs:
        by_key[joined_key(km)].add(km)
    names = {km for km, _latin in pairs}
    shared = sum(len(v) for v in by_key.values() if len(v) > 1)
    return shared, len(names)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--worst", type=int, default=0, help="print the N most frequent misses")
    args = parser.parse_args()
    root = shared_dir()
    sets = [
        ("OSCaR dev (Khmer vs Latin)", oscar_pairs(root)),
        ("name_pairs.tsv", name_pairs(root)),
        ("gazetteer provinces+districts", gazetteer_pairs(root, ("province", "district"))),
        ("gazetteer communes", gazetteer_pairs(root, ("commune",))),
        ("gazetteer villages", gazetteer_pairs(root, ("village",))),
    ]
    for label, pairs in sets:
        result, misses = agreement(label, pairs, args.worst)
        print(result.line())
        for count, km, latin, k_km, k_lat in misses:
            print(f"    {count:4d}  {km}  {latin!r:24} {k_km:16} {k_lat}")
    shared, total = collisions(sets[0][1] + sets[1][1])
    print(f"Distinct Khmer personal names sharing a key with another: {shared} of {total}")
    modal, pairwise = variant_consistency(sets[0][1])
    print(
        f"OSCaR Latin variants of one Khmer name: records on the modal key {100 * modal:.1f}%, "
        f"same-key record pairs {100 * pairwise:.1f}%"
    )


if __name__ == "__main__":
    main()
