"""The sandbox Primero's lookups (``GET /api/v2/lookups``), built from the shipped vocabularies
and ``primero_lookups.toml`` (Khmer and English display texts).

A test or ``bridge sandbox serve --lookups FILE`` can replace the values of any lookup (or add
one) to play a deployment whose option lists differ from the defaults::

    start_sandbox(primero_lookups={"lookup-gender": ["male", "female", "intersex"]})
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from bridge.mapping.engine import default_mappings_dir
from bridge.mapping.vocab import load_vocabularies

_DEFINITIONS = Path(__file__).with_name("primero_lookups.toml")
_SUFFIX = re.compile(r"_\d{4,}$")  # Cambodia's option ids end in a number: accepted_340953

Overrides = Mapping[str, Sequence[str]]


def english(value_id: str) -> str:
    """An option id made readable: ``accepted_340953`` -> ``Accepted``."""
    return _SUFFIX.sub("", value_id).replace("_", " ").capitalize()


def _values_of(definition: dict[str, Any], vocab_dir: Path) -> list[str]:
    if "values" in definition:
        return [str(v) for v in definition["values"]]
    vocabulary = load_vocabularies(vocab_dir)[definition["vocabulary"]]
    column = definition["column"]
    return [row[column][0] for row in vocabulary.rows if row[column]]


def _lookup(number: int, definition: dict[str, Any], values: Sequence[str]) -> dict[str, Any]:
    en_texts = definition.get("en", {})
    km_texts = definition.get("km", {})
    unique_id = definition["unique_id"]
    name = definition.get("name") or {"en": english(unique_id.removeprefix("lookup-"))}
    en = [{"id": v, "display_text": en_texts.get(v) or english(v)} for v in values]
    km = [{"id": e["id"], "display_text": km_texts.get(e["id"]) or e["display_text"]} for e in en]
    return {
        "id": number,
        "unique_id": unique_id,
        "name": {"en": name.get("en", ""), "km": name.get("km", name.get("en", ""))},
        "values": {"en": en, "km": km},
    }


def build_lookups(overrides: Overrides | None = None, vocab_dir: Path | None = None) -> list[dict]:
    """Every lookup the sandbox serves, in id order; ``overrides`` replace value lists."""
    folder = vocab_dir or default_mappings_dir() / "vocab"
    definitions = tomllib.loads(_DEFINITIONS.read_text(encoding="utf-8"))["lookup"]
    wanted = dict(overrides or {})
    lookups = []
    for definition in definitions:
        values = wanted.pop(definition["unique_id"], None)
        chosen = list(values) if values is not None else _values_of(definition, folder)
        lookups.append(_lookup(len(lookups) + 1, definition, chosen))
    for unique_id, values in wanted.items():  # lookups the defaults do not have
        lookups.append(_lookup(len(lookups) + 1, {"unique_id": unique_id}, list(values)))
    return lookups


def options(lookups: Sequence[dict], unique_id: str) -> frozenset[str] | None:
    """The value ids of one lookup, or None when there is no such lookup."""
    for lookup in lookups:
        if lookup["unique_id"] == unique_id:
            return frozenset(v["id"] for v in lookup["values"]["en"])
    return None
