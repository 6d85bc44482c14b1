"""The transforms a mapping file may name, in one explicit registry.

Each transform is a function of named inputs (``value`` first) returning one value, or a dict of
named outputs. Its options are a pydantic model (unknown options are refused at load time).
A transform never raises on bad data: it reports a warning (or an error) through the context,
with the JSON pointer of the input, and returns None.

| name           | inputs                | outputs           | does                         |
| -------------- | --------------------- | ----------------- | ---------------------------- |
| text           | value                 | value             | trimmed string, "" -> null   |
| integer        | value                 | value             | whole number                 |
| boolean        | value                 | value             | true/false (also "true")     |
| date           | value                 | value             | YYYY-MM-DD, corrupt -> null  |
| birth_date     | value, estimated, age | value, precision  | date of birth with precision |
| location_code  | value                 | code, province    | NCDD code, zeros restored    |
| person_name    | value                 | latin, khmer, any | splits "<Khmer> (<Latin>)"   |
| compose_name   | latin, khmer          | value             | "<Khmer> (<Latin>)" outbound |
| vocab          | value                 | value             | a vocabulary lookup          |
| string_list    | value                 | value             | list of trimmed strings      |
| in_set         | value                 | value             | true when value is listed    |
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from bridge.mapping.issues import Collector
from bridge.mapping.paths import MISSING
from bridge.mapping.vocab import Vocabulary

KHMER = re.compile("[\u1780-\u17ff\u19e0-\u19ff]")
COMPOSITE = re.compile(r"^(?P<km>[^()]*)\((?P<latin>[^()]*)\)\s*$")
ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


class Context:
    """What a transform may use besides its inputs. One per record, reused for every rule.

    The JSON pointer of an input is ``base`` + its pointer as written (``texts``), joined
    only when an issue names it: most rules of most records report nothing."""

    __slots__ = ("direction", "today", "issues", "vocabularies", "base", "texts", "label")

    def __init__(
        self,
        direction: Literal["inbound", "outbound"],
        today: date,
        issues: Collector,
        vocabularies: dict[str, Vocabulary],
        label: str,
    ) -> None:
        self.direction = direction
        self.today = today
        self.issues = issues
        self.vocabularies = vocabularies
        self.base = ""
        self.texts: dict[str, str] = {}
        self.label = label  # the system the rule talks to, for messages ("OSCaR upsert")

    @property
    def pointers(self) -> dict[str, str]:
        """Each input's JSON pointer into the record, by input name."""
        return {name: self.base + text for name, text in self.texts.items()}

    @pointers.setter
    def pointers(self, value: dict[str, str]) -> None:
        self.base, self.texts = "", dict(value)

    def pointer(self, name: str = "value") -> str:
        text = self.texts.get(name)
        return "" if text is None else self.base + text

    def warn(self, code: str, message: str, name: str = "value") -> None:
        self.issues.warn(self.pointer(name), code, message)

    def error(self, code: str, message: str, name: str = "value") -> None:
        self.issues.error(self.pointer(name), code, message)


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def is_empty(value: Any) -> bool:
    return value is None or value is MISSING or value == "" or value == [] or value == {}


def has_khmer(text: str) -> bool:
    return KHMER.search(text) is not None


# --- text, numbers, booleans ---------------------------------------------------------------


class TextOptions(Options):
    strip_prefix: str | None = None
    case: Literal["keep", "lower", "upper"] = "keep"
    template: str | None = None  # e.g. "agency-{}" when sending


def text(inputs: dict[str, Any], ctx: Context, opts: TextOptions) -> str | None:
    value = inputs["value"]
    if is_empty(value):
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        ctx.warn("not_text", "expected text; ignored")
        return None
    result = " ".join(str(value).split())
    if opts.strip_prefix and result.startswith(opts.strip_prefix):
        result = result[len(opts.strip_prefix) :]
    if opts.case == "lower":
        result = result.lower()
    elif opts.case == "upper":
        result = result.upper()
    if opts.template and result:
        result = opts.template.format(result)
    return result or None


def integer(inputs: dict[str, Any], ctx: Context, opts: Options) -> int | None:
    value = inputs["value"]
    if is_empty(value):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    ctx.warn("not_a_number", "expected a whole number; ignored")
    return None


class BooleanOptions(Options):
    negate: bool = False


def boolean(inputs: dict[str, Any], ctx: Context, opts: BooleanOptions) -> bool | None:
    value = inputs["value"]
    if is_empty(value):
        return None
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        value = value.strip().lower() == "true"
    if not isinstance(value, bool):
        ctx.warn("not_a_boolean", "expected true or false; ignored")
        return None
    return (not value) if opts.negate else value


class InSetOptions(Options):
    values: list[str]
    ignore: list[str] = []  # values that give no answer at all (e.g. an unknown precision)


def in_set(inputs: dict[str, Any], ctx: Context, opts: InSetOptions) -> bool | None:
    value = inputs["value"]
    if is_empty(value) or str(value) in opts.ignore:
        return None
    return str(value) in opts.values


def string_list(inputs: dict[str, Any], ctx: Context, opts: Options) -> list[str]:
    value = inputs["value"]
    if is_empty(value):
        return []
    items = value if isinstance(value, list) else [value]
    result = []
    for item in items:
        if isinstance(item, str) and item.strip():
            result.append(item.strip())
        elif not is_empty(item):
            ctx.warn("not_text", "a list item is not text; ignored")
    return result


# --- dates ---------------------------------------------------------------------------------


class DateOptions(Options):
    min_year: int = 1900
    allow_future: bool = False


def parse_date(value: Any, ctx: Context, opts: DateOptions, name: str = "value") -> date | None:
    """A real, plausible date; anything else warns (without the value) and gives None."""
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        ctx.warn("corrupt_date", "not a date; recorded as unknown", name)
        return None
    text = value.strip()
    # a plain date, or an ISO timestamp whose date part is read
    match = ISO_DATE.match(text[:10]) if len(text) == 10 or text[10:11] == "T" else None
    try:
        parsed = date(*(int(g) for g in match.groups())) if match else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.year < opts.min_year:
        ctx.warn("corrupt_date", "not a real date; recorded as unknown", name)
        return None
    if not opts.allow_future and parsed > ctx.today:
        ctx.warn("future_date", "date is in the future; recorded as unknown", name)
        return None
    return parsed


def date_value(inputs: dict[str, Any], ctx: Context, opts: DateOptions) -> Any:
    value = inputs["value"]
    if is_empty(value):
        return None
    parsed = parse_date(value, ctx, opts)
    if ctx.direction == "outbound":
        return parsed.isoformat() if parsed else None
    return parsed


class BirthDateOptions(DateOptions):
    jan_first: Literal["year", "exact"] = "year"  # YYYY-01-01 without a flag: only the year
    estimate_from_age: bool = True
    max_age: int = 100


def birth_date(inputs: dict[str, Any], ctx: Context, opts: BirthDateOptions) -> dict[str, Any]:
    value, estimated, age = inputs["value"], inputs.get("estimated"), inputs.get("age")
    if is_empty(value):
        usable_age = isinstance(age, int) and not isinstance(age, bool)
        if opts.estimate_from_age and usable_age and 0 <= age <= opts.max_age:
            return {"value": date(ctx.today.year - age, 1, 1), "precision": "estimated"}
        return {"value": None, "precision": "unknown"}
    parsed = parse_date(value, ctx, opts)
    if parsed is None:
        return {"value": None, "precision": "unknown"}
    if estimated is True:
        precision = "estimated"
    elif opts.jan_first == "year" and (parsed.month, parsed.day) == (1, 1):
        precision = "year"
    else:
        precision = "exact"
    return {"value": parsed, "precision": precision}


# --- locations -----------------------------------------------------------------------------


class LocationOptions(Options):
    provinces: str | None = None  # vocabulary of province codes (its canonical column)
    strip_leading_zero: bool = False  # when sending to a system that stores codes as numbers


def location_code(inputs: dict[str, Any], ctx: Context, opts: LocationOptions) -> dict[str, Any]:
    value = inputs["value"]
    empty = {"code": None, "province": None}
    if is_empty(value):
        return empty
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # a code that went through a number: the zero is restored below
    if not isinstance(value, str) or not value.strip().isdigit():
        ctx.warn("bad_location_code", "location code is not digits; ignored")
        return empty
    code = value.strip()
    if len(code) % 2:
        code = "0" + code  # leading zero lost on the way: pad to the next even length
    if len(code) not in (2, 4, 6, 8):
        ctx.warn("bad_location_code", "location code is not 2, 4, 6 or 8 digits; ignored")
        return empty
    province = code[:2]
    if opts.provinces and not ctx.vocabularies[opts.provinces].knows(province):
        ctx.issues.miss(opts.provinces, "canonical", province, ctx.pointer())
        ctx.warn("unknown_province", f"province code {province!r} is not in {opts.provinces}")
        province = None
    if opts.strip_leading_zero:
        code = code.lstrip("0") or "0"
    return {"code": code, "province": province}


# --- names ---------------------------------------------------------------------------------


class NameOptions(Options):
    fold_upper: bool = False  # "NOV" -> "Nov" (family names typed in capitals)


def _fold(name: str) -> str:
    if name.isupper():
        return " ".join(part.capitalize() for part in name.split(" "))
    return name


def person_name(inputs: dict[str, Any], ctx: Context, opts: NameOptions) -> dict[str, Any]:
    value = inputs["value"]
    result: dict[str, Any] = {"latin": None, "khmer": None, "any": None}
    if is_empty(value):
        return result
    if not isinstance(value, str):
        ctx.warn("not_text", "expected a name as text; ignored")
        return result
    name = " ".join(value.split())
    match = COMPOSITE.match(name) if "(" in name else None
    if match and has_khmer(match["km"]) and not has_khmer(match["latin"]):
        khmer, latin = match["km"].strip() or None, match["latin"].strip() or None
    elif has_khmer(name):
        khmer, latin = name, None
    else:
        khmer, latin = None, name or None
    if latin and opts.fold_upper:
        latin = _fold(latin)
    result.update(latin=latin, khmer=khmer, any=latin or khmer)
    return result


class ComposeOptions(Options):
    style: Literal["composite", "latin_else_khmer"] = "composite"


def compose_name(inputs: dict[str, Any], ctx: Context, opts: ComposeOptions) -> str | None:
    latin, khmer = inputs.get("latin") or None, inputs.get("khmer") or None
    if opts.style == "latin_else_khmer":
        return latin or khmer
    if latin and khmer:
        return f"{khmer} ({latin})"
    return latin or khmer


# --- vocabularies --------------------------------------------------------------------------


class VocabOptions(Options):
    vocab: str
    column: str  # the system's column; the other side is always "canonical"
    unknown: Literal["error", "warn"] = "error"
    default: str | None = None  # canonical value used when a read value is unknown
    ignore_case: bool = True
    no_value: Literal["null", "error"] = "error"  # sending a value the system has none for


def vocab(inputs: dict[str, Any], ctx: Context, opts: VocabOptions) -> str | None:
    value = inputs["value"]
    if is_empty(value):
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        ctx.warn("not_text", f"expected a {opts.vocab} value; ignored")
        return None
    table = ctx.vocabularies[opts.vocab]
    value = str(value)
    if ctx.direction == "inbound":
        found = table.to_canonical(opts.column, value, ignore_case=opts.ignore_case)
        if found is not None:
            return found
        ctx.issues.miss(opts.vocab, opts.column, value, ctx.pointer())
        _unknown(ctx, opts, f"{value!r} is not in vocabulary {opts.vocab} ({opts.column})")
        return opts.default
    if not table.knows(value):
        ctx.issues.miss(opts.vocab, "canonical", value, ctx.pointer())
        _unknown(
            ctx,
            opts,
            f"{value!r} is not in vocabulary {opts.vocab} ({table.file.name}); held, not sent",
        )
        return None
    found = table.from_canonical(opts.column, value)
    if found is None and opts.no_value == "error":
        ctx.error(
            "no_value",
            f"{ctx.label}: {opts.vocab} {value!r} has no {opts.column} value; "
            f"add one to {table.file.name} before it can be sent",
        )
    return found


def _unknown(ctx: Context, opts: VocabOptions, message: str) -> None:
    if opts.unknown == "error":
        ctx.error("vocabulary_miss", f"{ctx.label}: {message}")
    else:
        ctx.warn("vocabulary_miss", message)


# --- the registry --------------------------------------------------------------------------

Checker = Callable[[Any, dict[str, Vocabulary]], str | None]


def _check_vocab(opts: VocabOptions, vocabularies: dict[str, Vocabulary]) -> str | None:
    table = vocabularies.get(opts.vocab)
    if table is None:
        return f"unknown vocabulary {opts.vocab!r} (known: {', '.join(sorted(vocabularies))})"
    if opts.column not in table.columns:
        return f"vocabulary {opts.vocab} has no column {opts.column!r} (has: {table.columns})"
    if opts.default is not None and not table.knows(opts.default):
        return f"default {opts.default!r} is not a canonical value of {opts.vocab}"
    return None


def _check_location(opts: LocationOptions, vocabularies: dict[str, Vocabulary]) -> str | None:
    if opts.provinces and opts.provinces not in vocabularies:
        return f"unknown vocabulary {opts.provinces!r} (known: {', '.join(sorted(vocabularies))})"
    return None


@dataclass(frozen=True)
class Transform:
    name: str
    fn: Callable[[dict[str, Any], Context, Any], Any]
    options: type[Options] = Options
    inputs: tuple[str, ...] = ("value",)
    outputs: tuple[str, ...] = ("value",)
    check: Checker | None = None
    # an empty input (``is_empty``) gives no output and no issue: a rule may skip the call
    empty_is_nothing: bool = False


REGISTRY: dict[str, Transform] = {
    t.name: t
    for t in (
        Transform("text", text, TextOptions, empty_is_nothing=True),
        Transform("integer", integer, empty_is_nothing=True),
        Transform("boolean", boolean, BooleanOptions, empty_is_nothing=True),
        Transform("in_set", in_set, InSetOptions, empty_is_nothing=True),
        Transform("string_list", string_list, empty_is_nothing=True),
        Transform("date", date_value, DateOptions, empty_is_nothing=True),
        Transform(
            "birth_date",
            birth_date,
            BirthDateOptions,
            inputs=("value", "estimated", "age"),
            outputs=("value", "precision"),
        ),
        Transform(
            "location_code",
            location_code,
            LocationOptions,
            outputs=("code", "province"),
            check=_check_location,
            empty_is_nothing=True,
        ),
        Transform(
            "person_name",
            person_name,
            NameOptions,
            outputs=("latin", "khmer", "any"),
            empty_is_nothing=True,
        ),
        Transform("compose_name", compose_name, ComposeOptions, inputs=("latin", "khmer")),
        Transform("vocab", vocab, VocabOptions, check=_check_vocab, empty_is_nothing=True),
    )
}
