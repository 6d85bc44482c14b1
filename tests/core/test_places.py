"""The place names the bridge ships: built from the reference gazetteer by the repo's script,
complete, and found by the codes Primero holds (no leading zero)."""

from __future__ import annotations

import gzip
import importlib.util
import os
from pathlib import Path

import pytest

from bridge import places

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("BRIDGE_SHARED_DIR") or ROOT / ".." / "shared")
REFERENCE = SHARED / "data" / "gazetteer" / "gazetteer_km_latin.tsv"


def test_every_level_is_shipped_with_both_scripts() -> None:
    found = places.places()
    by_level = {level: 0 for level in places.LEVEL_WIDTH}
    for place in found.values():
        by_level[place.level] += 1
        assert len(place.code) == places.LEVEL_WIDTH[place.level]
    assert by_level == {"province": 25, "district": 210, "commune": 1652, "village": 14578}
    assert all(p.khmer and p.latin for p in places.provinces())
    kandal = places.find("8")
    assert kandal is not None and kandal.latin == "Kandal" and kandal.name("km") == "កណ្តាល"


def test_codes_without_the_leading_zero_and_parents() -> None:
    village = places.find("8030201")
    assert village is not None and village.code == "08030201"
    assert [p.level for p in places.parents("8030201")] == list(places.LEVEL_WIDTH)
    assert places.find("99999999") is None and places.find("") is None
    assert places.ncdd_code("120101") == "120101"


@pytest.mark.skipif(not REFERENCE.is_file(), reason="reference gazetteer not in ../shared")
def test_the_shipped_file_is_what_the_script_builds() -> None:
    spec = importlib.util.spec_from_file_location("build_places", ROOT / "scripts/build_places.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    built = module.build(REFERENCE)
    assert gzip.decompress(built) == gzip.decompress(places.SHIPPED.read_bytes())
    assert built == places.SHIPPED.read_bytes()  # reproducible bytes: no timestamp inside
