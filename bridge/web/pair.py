"""Records side by side for the desk: one row per field, values as recorded and as the engine
reads them, places by name from the gazetteer, and per field an agreement shown by a colour
and a word. The engine's evidence in plain words."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bridge import places
from bridge.helpdesk.views import FIELDS, Column, _agreement
from bridge.web.i18n import N_, Translator

AGREEMENT = {
    "=": ("agree", N_("agree")),
    "~": ("similar", N_("similar")),
    "x": ("differ", N_("differ")),
    " ": ("none", N_("not comparable")),
}
LABELS = {
    "name (Latin)": N_("Name (Latin)"),
    "name (Khmer)": N_("Name (Khmer script)"),
    "Khmer read as Latin": N_("Khmer name read as Latin"),
    "phonetic keys": N_("Names as the engine normalises them"),
    "nickname": N_("Nickname"),
    "sex": N_("Sex"),
    "date of birth": N_("Date of birth (precision)"),
    "age": N_("Age"),
    "location": N_("Place"),
    "caregivers": N_("Caregivers"),
    "organisation": N_("Organisation"),
    "other system ids": N_("Ids in other systems"),
}
UNMARKED = {"organisation", "other system ids", "phonetic keys"}
# the engine's comparisons and their levels (dedupe/comparisons.py), for plain words
WORDS = {
    "given name": N_("given name"),
    "family name": N_("family name"),
    "date of birth": N_("date of birth"),
    "location": N_("place"),
    "sex": N_("sex"),
    "caregiver": N_("caregiver"),
    "other details": N_("other details"),
    "rare details": N_("rare details"),
    "systems": N_("systems"),
    "exact": N_("exactly the same"),
    "close": N_("nearly the same"),
    "similar": N_("similar"),
    "same consonants": N_("the same consonants"),
    "contained or nickname": N_("one contains the other, or a nickname"),
    "weak": N_("a little alike"),
    "different": N_("different"),
    "typo": N_("differ by a typing slip"),
    "same year, one estimated": N_("the same year, one estimated"),
    "same year": N_("the same year"),
    "one year apart": N_("one year apart"),
    "same village": N_("the same village"),
    "same commune": N_("the same commune"),
    "same district": N_("the same district"),
    "same province": N_("the same province"),
    "same": N_("the same"),
    "same caregiver": N_("the same caregiver"),
    "similar caregiver": N_("a similar caregiver"),
    "different systems": N_("recorded in different systems"),
    "same system, other organisation": N_("the same system, another organisation"),
    "same organisation": N_("the same organisation"),
    "null": N_("not recorded on both"),
    "competition": N_("competing records"),
    "uncontested": N_("no other record competes"),
    "contested": N_("another record competes as closely"),
    "dominated": N_("another record is closer"),
    "same system if merged": N_("one child twice in one system, if merged"),
    "implied": N_("would follow"),
}
# values shown as recorded that the desk can name in the reader's language
VALUES = {
    "male": N_("male"),
    "female": N_("female"),
    "other": N_("other"),
    "exact": N_("exact"),
    "year": N_("year only"),
    "estimated": N_("estimated"),
    "unknown": N_("unknown"),
}
LOCATION_LEVELS = {
    "province": N_("province"),
    "district": N_("district"),
    "commune": N_("commune"),
    "village": N_("village"),
}


@dataclass
class Row:
    label: str
    values: list[str]
    mark: str  # css class: agree | similar | differ | none | ""
    word: str  # the agreement in words ("" when unmarked)
    script: str = ""  # "km" for Khmer-script values


def place_names(code: str | None, t: Translator) -> str:
    """ "village X, commune Y, district Z, province W" from an NCDD code, in t's language."""
    if not code:
        return ""
    chain = places.parents(code)
    if not chain:
        return code
    named = [f"{t.gettext(LOCATION_LEVELS[p.level])} {p.name(t.lang)}" for p in reversed(chain)]
    return ", ".join(named) + f" ({places.ncdd_code(code)})"


def _birth(c: dict[str, Any], t: Translator) -> str:
    b = c.get("birth") or {}
    if not b.get("value"):
        return ""
    precision = str(b.get("precision") or "unknown")
    return f"{b['value']} ({t.gettext(VALUES.get(precision, precision))})"


def _location_code(c: dict[str, Any]) -> str:
    loc = c.get("location") or {}
    return str(loc.get("code") or loc.get("province_code") or "")


def pair_rows(columns: list[Column], t: Translator) -> list[Row]:
    rows = []
    for label, read, loose in FIELDS:
        if label == "location":
            values = [place_names(_location_code(c.canonical), t) for c in columns]
        elif label == "sex":
            values = [t.gettext(VALUES.get(read(c.canonical), read(c.canonical))) for c in columns]
        elif label == "date of birth":
            values = [_birth(c.canonical, t) for c in columns]
        else:
            values = [read(c.canonical) for c in columns]
        if label in UNMARKED:
            mark, word = "", ""
        else:
            raw = [read(c.canonical) for c in columns]
            keys = [loose(c.canonical) for c in columns] if loose else None
            mark, word = AGREEMENT[_agreement(raw, keys)]
            word = t.gettext(word)
        rows.append(
            Row(t.gettext(LABELS.get(label, label)), values, mark, word,
                "km" if label == "name (Khmer)" else "")
        )  # fmt: skip
    return rows


@dataclass
class Said:
    text: str
    side: str  # for | against | neutral


def evidence_words(evidence: list[dict[str, Any]], t: Translator) -> list[Said]:
    """Each comparison as a sentence: what it found and which way it weighs."""
    out = []
    for e in evidence:
        comparison, level = str(e.get("comparison") or ""), str(e.get("level") or "")
        weight = e.get("weight")
        w = float(weight) if isinstance(weight, int | float) else 0.0
        side = "for" if w > 0.05 else "against" if w < -0.05 else "neutral"
        verdict = {
            "for": N_("speaks for the same child"),
            "against": N_("speaks against"),
            "neutral": N_("weighs nothing"),
        }[side]
        text = (
            f"{t.gettext(WORDS.get(comparison, comparison)).capitalize()}: "
            f"{t.gettext(WORDS.get(level, level))} — {t.gettext(verdict)}"
        )
        out.append(Said(text, side))
    return out


GOLDEN_FIELDS = {
    "names.given": N_("Given name (Latin)"),
    "names.family": N_("Family name (Latin)"),
    "names.given_km": N_("Given name (Khmer)"),
    "names.family_km": N_("Family name (Khmer)"),
    "names.full_km": N_("Full name (Khmer)"),
    "names.nickname": N_("Nickname"),
    "sex": N_("Sex"),
    "birth": N_("Date of birth (precision)"),
    "location.code": N_("Place"),
    "caregivers": N_("Caregivers"),
    "status": N_("Case status"),
    "risk_level": N_("Risk level"),
    "disability": N_("Disability"),
    "placement": N_("Placement"),
}
GOLDEN_RULES = {
    "only value": N_("the only value"),
    "agreed": N_("most records agree"),
    "recent": N_("the most recent record"),
    "precise_birth": N_("the most precise date"),
    "khmer_script": N_("written in Khmer script"),
    "source:primero": N_("Primero is trusted for it"),
    "source:oscar": N_("OSCaR is trusted for it"),
}


@dataclass
class GoldenRow:
    label: str
    value: str
    record: str
    rule: str
    script: str = ""


def golden_rows(golden: Any, t: Translator) -> list[GoldenRow]:
    """The golden record for the child's page: each value with its record and rule."""
    from bridge.helpdesk.views import shown_value

    rows = []
    for name, chosen in golden.fields.items() if golden is not None else ():
        if name == "location.code":
            value = place_names(str(chosen.value), t)
        elif name == "birth":
            value = _birth({"birth": chosen.value}, t)
        elif name == "sex":
            value = t.gettext(VALUES.get(str(chosen.value), str(chosen.value)))
        else:
            value = shown_value(chosen.value)
        rows.append(
            GoldenRow(
                t.gettext(GOLDEN_FIELDS.get(name, name)), value, chosen.record,
                t.gettext(GOLDEN_RULES.get(chosen.rule, chosen.rule)),
                "km" if name.endswith("_km") else "",
            )
        )  # fmt: skip
    return rows
