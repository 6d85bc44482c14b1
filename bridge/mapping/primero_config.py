"""``mapping check primero --live``: the mapping's vocabularies and the checked records against
the configuration Primero serves (lookups, forms, locations). A real deployment's option lists
differ from the defaults; this is how a maintainer finds out before a referral dies on it.

Which lookup a vocabulary stands for is read, not declared: a mapping rule names the case
field and the vocabulary (``/sex`` -> ``sex``, column ``primero``), Primero's forms name the
lookup of that field (``sex`` -> ``lookup lookup-gender``). Per vocabulary it reports the values
Primero offers that no row knows, and the rows whose Primero value (the one the bridge sends)
Primero does not offer. Location codes in the checked records are compared as NCDD codes
(Cambodia's Primero drops the leading zero; both sides are padded back).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from bridge.mapping.check import CheckReport
from bridge.mapping.config_report import LocationMiss, LookupDifference, PrimeroConfigReport
from bridge.mapping.engine import SourceMapping
from bridge.mapping.loader import Rule
from bridge.mapping.transforms import VocabOptions

FieldPath = tuple[str, ...]  # ("sex",) or ("services_section", "service_type")


def _vocab_fields(rules: Iterable[Rule], prefix: FieldPath = ()) -> list[tuple[FieldPath, Rule]]:
    found: list[tuple[FieldPath, Rule]] = []
    for rule in rules:
        if rule.each is not None:
            found += _vocab_fields(rule.items, prefix + rule.each.tokens)
        elif rule.transform.name == "vocab" and len(rule.inputs) == 1:
            found.append((prefix + rule.inputs[0].tokens, rule))
    return found


def _lookup_of(source: Any) -> str | None:
    if isinstance(source, str) and source.startswith("lookup "):
        return source.removeprefix("lookup ").strip()
    return None


def field_lookups(forms: Sequence[dict[str, Any]]) -> dict[FieldPath, str]:
    """Case field -> the lookup its select box uses, subform fields under their subform."""
    by_id = {form.get("unique_id"): form for form in forms}
    found: dict[FieldPath, str] = {}
    for form in forms:
        if form.get("is_nested") or form.get("parent_form", "case") != "case":
            continue
        for entry in form.get("fields") or []:
            if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
                continue
            nested = by_id.get(entry.get("subform_section_unique_id"))
            if entry.get("type") == "subform" and isinstance(nested, dict):
                for sub in nested.get("fields") or []:
                    lookup = _lookup_of(sub.get("option_strings_source"))
                    if lookup and isinstance(sub.get("name"), str):
                        found[(entry["name"], sub["name"])] = lookup
            elif lookup := _lookup_of(entry.get("option_strings_source")):
                found[(entry["name"],)] = lookup
    return found


def lookup_values(lookups: Sequence[dict[str, Any]]) -> dict[str, list[str]]:
    """Lookup unique id -> its option ids (from the English values, which every lookup has)."""
    found: dict[str, list[str]] = {}
    for lookup in lookups:
        values = lookup.get("values")
        english = values.get("en") if isinstance(values, dict) else None
        if not isinstance(lookup.get("unique_id"), str) or not isinstance(english, list):
            continue
        found[lookup["unique_id"]] = [
            str(v["id"]) for v in english if isinstance(v, dict) and v.get("id") is not None
        ]
    return found


def ncdd(code: str) -> str:
    """A location code with the leading zero Cambodia's Primero drops put back."""
    code = code.strip()
    return "0" + code if code.isdigit() and len(code) % 2 else code


def _pointer(path: FieldPath) -> str:
    return "/" + "/".join(path[:1] + tuple(f"*/{p}" for p in path[1:]))


def compare(
    mapping: SourceMapping,
    report: CheckReport,
    lookups: Sequence[dict[str, Any]],
    forms: Sequence[dict[str, Any]],
    locations: Sequence[dict[str, Any]],
) -> PrimeroConfigReport:
    offered = lookup_values(lookups)
    used = field_lookups(forms)
    result = PrimeroConfigReport(lookups_read=len(lookups), locations_read=len(locations))
    pairs: dict[tuple[str, str, str], list[str]] = {}
    for path, rule in _vocab_fields(mapping.spec.rules):
        assert isinstance(rule.options, VocabOptions)
        lookup = used.get(path)
        if lookup is None:
            result.unlinked_fields.append(_pointer(path))
            continue
        key = (rule.options.vocab, rule.options.column, lookup)
        pairs.setdefault(key, []).append(_pointer(path))
    for (vocab_name, column, lookup), fields in pairs.items():
        if lookup not in offered:
            result.missing_lookups.append(f"{lookup} (for {', '.join(fields)})")
            continue
        result.compared.append(f"{vocab_name} = {lookup}")
        rows = mapping.spec.vocabularies[vocab_name].rows
        known = {value for row in rows for value in row[column]}
        values = offered[lookup]
        sent = [row[column][0] for row in rows if row[column]]
        difference = LookupDifference(
            vocabulary=vocab_name,
            column=column,
            lookup=lookup,
            fields=fields,
            offered_not_known=[v for v in values if v not in known],
            not_offered=[v for v in sent if v not in values],
        )
        if difference.offered_not_known or difference.not_offered:
            result.differences.append(difference)
    codes = {ncdd(str(loc["code"])) for loc in locations if loc.get("code") is not None}
    held: Counter[str] = Counter()
    for record in report.records:
        location = (record.child or {}).get("location") or {}
        if isinstance(location.get("code"), str):
            held[ncdd(location["code"])] += 1
    result.unknown_locations = [
        LocationMiss(code=code, count=count)
        for code, count in sorted(held.items(), key=lambda item: (-item[1], item[0]))
        if code not in codes
    ]
    return result
