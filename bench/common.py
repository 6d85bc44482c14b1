"""Shared helpers for the comparison benchmarks: payload -> PersonRecord, corpus loading, scoring.

The dev corpus goes through the bridge's own mappings by default (``mapped_people``: what an
import gives the matching engine); our engine and Splink get the same PersonRecords, so both see
the same information. ``payload_to_person`` is a simple direct reading of the few identifying
fields, for generator records at scale and as a fallback.
"""

from __future__ import annotations

import csv
import gzip
import itertools
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from dedupe.records import PersonRecord

REPO = Path(__file__).resolve().parents[1]
_KHMER = re.compile(r"[\u1780-\u17ff\u19e0-\u19ff]")
# "<khmer> (<latin>)", the way Cambodian Primero instances often record a name
_MIXED = re.compile(r"^\s*(?P<km>[^()]*?)\s*\((?P<latin>[^()]*)\)\s*$")
_SEX = {"female": "female", "male": "male", "other": "other", "lgbt": "other"}


def shared_dir() -> Path:
    """The reference-data directory: env BRIDGE_SHARED_DIR, else ../shared next to the repo."""
    env = os.environ.get("BRIDGE_SHARED_DIR")
    return Path(env) if env else (REPO / ".." / "shared").resolve()


def dev_corpus_dir(shared: Path | None = None) -> Path:
    return (shared or shared_dir()) / "data" / "khmer-children-dev"


def has_khmer(text: str | None) -> bool:
    return bool(text) and bool(_KHMER.search(text or ""))


def _clean(text: Any) -> str | None:
    if not isinstance(text, str):
        return None
    text = " ".join(text.split())
    return text or None


def split_name(raw: Any) -> tuple[str | None, str | None]:
    """(latin, khmer) parts of a recorded name; Khmer in a Latin field goes to the Khmer side."""
    text = _clean(raw)
    if text is None:
        return None, None
    mixed = _MIXED.match(text)
    if mixed:
        km, latin = _clean(mixed["km"]), _clean(mixed["latin"])
        if has_khmer(km) and not has_khmer(latin):
            return latin, km
    if has_khmer(text):
        return None, text
    return text, None


def parse_birth_date(raw: Any) -> date | None:
    """A YYYY-MM-DD date, or None when missing or corrupt (22014-03-05, 0000-00-00, future)."""
    if not isinstance(raw, str) or len(raw) != 10:
        return None
    try:
        value = date.fromisoformat(raw)
    except ValueError:
        return None
    if value.year < 1900 or value > date.today():
        return None
    return value


def pad_location(raw: Any) -> str | None:
    """NCDD code with the leading zero restored: pad to the next even length."""
    if raw is None:
        return None
    code = str(raw).strip()
    if not code.isdigit():
        return None
    return code.zfill(len(code) + len(code) % 2)


def _sex(raw: Any) -> str | None:
    if not isinstance(raw, str) or not raw:
        return None
    return _SEX.get(raw.strip().lower(), "unknown")


def primero_to_person(case: Mapping[str, Any]) -> PersonRecord:
    record_id = str(case["id"])
    given, given_km = split_name(case.get("name_first"))
    family, family_km = split_name(case.get("name_last"))
    other_latin, other_km = split_name(case.get("name_other"))
    dob = parse_birth_date(case.get("date_of_birth"))
    precision = "unknown" if dob is None else ("estimated" if case.get("estimated") else "exact")
    caregivers = tuple(
        name
        for row in case.get("family_details_section") or ()
        if isinstance(row, Mapping) and row.get("relation_is_caregiver") is not False
        for name in [_clean(row.get("relation_name"))]
        if name
    )
    exact_ids = [f"case:{record_id}"]
    if _clean(case.get("oscar_number")):
        exact_ids.append(f"oscar:{case['oscar_number']}")
    return PersonRecord(
        key=f"primero:{record_id}",
        system="primero",
        organisation=_clean(case.get("owned_by_agency_id")),
        given=given,
        family=family,
        given_km=given_km,
        family_km=family_km,
        full_km=other_km,
        nickname=_clean(case.get("name_nickname")) or other_latin,
        sex=_sex(case.get("sex")),
        birth_date=dob,
        birth_precision=precision,
        location_code=pad_location(case.get("location_current")),
        caregivers=caregivers,
        exact_ids=tuple(exact_ids),
    )


def oscar_to_person(client: Mapping[str, Any]) -> PersonRecord:
    record_id = str(client["global_id"])
    given, given_km = split_name(client.get("given_name"))
    family, family_km = split_name(client.get("family_name"))
    given_km = _clean(client.get("local_given_name")) or given_km
    family_km = _clean(client.get("local_family_name")) or family_km
    dob = parse_birth_date(client.get("date_of_birth"))
    exact_ids = [f"oscar:{record_id}"]
    if _clean(client.get("external_id")):
        exact_ids.append(f"case:{client['external_id']}")
    return PersonRecord(
        key=f"oscar:{record_id}",
        system="oscar",
        organisation=_clean(client.get("organization_name")),
        given=given,
        family=family,
        given_km=given_km,
        family_km=family_km,
        sex=_sex(client.get("gender")),
        birth_date=dob,
        birth_precision="unknown" if dob is None else "exact",
        location_code=pad_location(client.get("location_current_village_code")),
        exact_ids=tuple(exact_ids),
    )


def payload_to_person(system: str, payload: Mapping[str, Any]) -> PersonRecord:
    if system == "primero":
        return primero_to_person(payload)
    if system == "oscar":
        return oscar_to_person(payload)
    raise ValueError(f"unknown system {system!r}")


@dataclass(frozen=True, slots=True)
class Corpus:
    records: list[PersonRecord]
    truth: dict[str, str]  # record key -> true child
    family: dict[str, str]  # record key -> true family (siblings)
    truth_csv: Path | None = None


def mapped_people(system: str, payloads: Iterable[Any]) -> list[PersonRecord]:
    """Payloads through the bridge's own mapping (``mappings/<system>.toml``) and ``to_person``:
    what the bridge's matching sees after an import (dates estimated from age, vocabularies,
    location codes restored). A payload the mapping quarantines falls back to the simple
    conversion above, as the bench must hold every record of the truth."""
    from bridge.linking import to_person
    from bridge.mapping.engine import load_mapping

    mapping = load_mapping(system)
    out = []
    for payload in payloads:
        result = mapping.inbound(payload)
        if result.child is None:
            out.append(payload_to_person(system, payload))
        else:
            out.append(to_person(result.child))
    return out


def corpus_file(folder: Path, name: str) -> Path:
    """``name`` in ``folder``, or ``name.gz`` when only the gzipped file is there."""
    plain = folder / name
    return plain if plain.exists() else folder / f"{name}.gz"


def read_corpus_text(path: Path) -> str:
    """A corpus file's text, gunzipped when its name ends in ``.gz``."""
    if path.suffix == ".gz":
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            return fh.read()
    return path.read_text(encoding="utf-8")


def load_corpus(folder: Path, *, mapped: bool = True) -> Corpus:
    """A two-system corpus (``primero_cases.json``, ``oscar_clients.json``, ``truth.csv``, each
    gzipped or not, as the dev and large shared corpora) as PersonRecords, with its truth keyed
    like the records. ``truth_csv`` is a plain CSV (unzipped next to a gzipped one when needed,
    in a temporary folder) for ``score_links.py``.

    ``mapped``: through the bridge's mappings (``mapped_people``), as an import sees it;
    otherwise with the simple conversion of this module."""
    folder = Path(folder)
    cases = json.loads(read_corpus_text(corpus_file(folder, "primero_cases.json")))
    clients = json.loads(read_corpus_text(corpus_file(folder, "oscar_clients.json")))
    if mapped:
        records = mapped_people("primero", cases) + mapped_people("oscar", clients)
    else:
        records = [primero_to_person(c) for c in cases] + [oscar_to_person(c) for c in clients]
    truth_path = corpus_file(folder, "truth.csv")
    if truth_path.suffix == ".gz":
        plain = Path(tempfile.mkdtemp(prefix="corpus-truth-")) / "truth.csv"
        plain.write_text(read_corpus_text(truth_path), encoding="utf-8")
        truth_path = plain
    truth: dict[str, str] = {}
    family: dict[str, str] = {}
    with truth_path.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            key = f"{row['system']}:{row['record_id']}"
            truth[key] = row["child"]
            family[key] = row["family"]
    return Corpus(records, truth, family, truth_path)


def load_dev_corpus(shared: Path | None = None, *, mapped: bool = True) -> Corpus:
    """The khmer-children-dev corpus (see ``load_corpus``)."""
    return load_corpus(dev_corpus_dir(shared), mapped=mapped)


def write_predicted(path: Path, clusters: Iterable[Sequence[str]]) -> None:
    """predicted.csv for score_links.py: system,record_id,child_id for every record."""
    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["system", "record_id", "child_id"])
        for n, members in enumerate(clusters):
            for key in members:
                system, _, record_id = key.partition(":")
                out.writerow([system, record_id, f"K{n:07d}"])


@dataclass(frozen=True, slots=True)
class LinkScore:
    precision: float
    recall: float
    f1: float
    sibling_merges: int | None = None

    def line(self) -> str:
        text = f"precision {self.precision:.4f} recall {self.recall:.4f} F1 {self.f1:.4f}"
        if self.sibling_merges is not None:
            text += f" sibling_merges {self.sibling_merges}"
        return text


def run_score_links(truth_csv: Path, predicted_csv: Path, shared: Path | None = None) -> LinkScore:
    """Score with the project's own tools/score_links.py and parse its figures."""
    tool = (shared or shared_dir()) / "tools" / "score_links.py"
    done = subprocess.run(
        [sys.executable, str(tool), str(truth_csv), str(predicted_csv)],
        check=True,
        capture_output=True,
        text=True,
    )
    siblings = re.search(r"of them siblings/twins (\d+)", done.stdout)
    last = re.search(r"F1 ([\d.]+) precision ([\d.]+) recall ([\d.]+)", done.stdout)
    if last is None:
        raise RuntimeError("score_links.py printed no score line")
    return LinkScore(
        precision=float(last[2]),
        recall=float(last[3]),
        f1=float(last[1]),
        sibling_merges=int(siblings[1]) if siblings else None,
    )


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def pairwise_score(
    clusters: Iterable[Sequence[str]],
    truth: Mapping[str, Hashable],
    side: Callable[[str], str] | None = None,
) -> LinkScore:
    """Pairwise precision/recall/F1 of a clustering; counts only, so it scales to 1M records.

    With ``side`` (key -> file), only pairs across two different files count (FEBRL4).
    Keys missing from ``truth`` are treated as singletons.
    """
    pred_sizes: Counter[Any] = Counter()
    true_sizes: Counter[Any] = Counter()
    both_sizes: Counter[Any] = Counter()
    for n, members in enumerate(clusters):
        for key in members:
            child = truth.get(key, ("only", key))
            s = side(key) if side else None
            pred_sizes[(n, s)] += 1
            true_sizes[(child, s)] += 1
            both_sizes[(n, child, s)] += 1

    def count(sizes: Counter[Any]) -> int:
        if side is None:
            return sum(_pairs(v) for v in sizes.values())
        groups: dict[Any, list[int]] = {}
        for key, v in sizes.items():
            groups.setdefault(key[:-1], []).append(v)
        # pairs across different sides: (sum^2 - sum of squares) / 2
        return sum((sum(vs) ** 2 - sum(v * v for v in vs)) // 2 for vs in groups.values())

    predicted, actual, correct = count(pred_sizes), count(true_sizes), count(both_sizes)
    precision = correct / predicted if predicted else 1.0
    recall = correct / actual if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return LinkScore(precision, recall, f1)


def true_pairs(truth: Mapping[str, Hashable]) -> set[tuple[str, str]]:
    """Every pair of record keys that are one child, each as (smaller key, larger key)."""
    by_child: dict[Hashable, list[str]] = {}
    for key, child in truth.items():
        by_child.setdefault(child, []).append(key)
    return {pair for keys in by_child.values() for pair in itertools.combinations(sorted(keys), 2)}


def clusters_from_labels(labels: Mapping[str, Hashable]) -> list[list[str]]:
    groups: dict[Hashable, list[str]] = {}
    for key, label in labels.items():
        groups.setdefault(label, []).append(key)
    return list(groups.values())
