"""Build the place names the bridge ships (``bridge/places/gazetteer.tsv.gz``) from the
reference gazetteer in ``../shared/data/gazetteer`` (NCDD codes with Khmer and official Latin
names, MIT licence, see ``bridge/places/NOTICE``).

Only what the product reads at run time is kept: level, code, Khmer name, NCDD Latin name.
The output is byte-for-byte reproducible (gzip without a timestamp), so re-running the script
on the same input changes nothing in git.

    python scripts/build_places.py [--source FILE] [--out FILE]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / ".." / "shared" / "data" / "gazetteer" / "gazetteer_km_latin.tsv"
OUT = ROOT / "bridge" / "places" / "gazetteer.tsv.gz"
LEVELS = {"province": 2, "district": 4, "commune": 6, "village": 8}


def build(source: Path) -> bytes:
    """The shipped file's bytes for one reference gazetteer."""
    rows: list[tuple[str, str, str, str]] = []
    with source.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            level, code = row["level"], row["code"]
            if LEVELS.get(level) != len(code) or not code.isdigit():
                raise SystemExit(f"{source}: unexpected row for code {code!r} ({level})")
            rows.append((level, code, row["name_km"].strip(), row["name_latin_ncdd"].strip()))
    rows.sort(key=lambda r: (len(r[1]), r[1]))
    text = io.StringIO()
    text.write("level\tcode\tname_km\tname_latin\n")
    for row in rows:
        text.write("\t".join(row) + "\n")
    return gzip.compress(text.getvalue().encode("utf-8"), compresslevel=9, mtime=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", type=Path, default=SOURCE)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    data = build(args.source)
    args.out.write_bytes(data)
    print(f"wrote {args.out} ({len(data):,} bytes)")


if __name__ == "__main__":
    main()
