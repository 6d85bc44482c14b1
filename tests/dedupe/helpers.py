from __future__ import annotations

from datetime import date

import numpy as np

from dedupe.comparisons import Comparison, PairView
from dedupe.prepare import prepare
from dedupe.records import PersonRecord


def person(key: str = "a:1", system: str = "a", **fields: object) -> PersonRecord:
    if isinstance(fields.get("birth_date"), str):
        fields["birth_date"] = date.fromisoformat(str(fields["birth_date"]))
        fields.setdefault("birth_precision", "exact")
    return PersonRecord(key=key, system=system, **fields)  # type: ignore[arg-type]


def level(comparison: Comparison, left: PersonRecord, right: PersonRecord) -> str:
    view = PairView(prepare([left, right]), np.array([0]), np.array([1]))
    return comparison.labels[int(comparison.level_of(view)[0])]
