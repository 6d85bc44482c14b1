"""What mapping one record produced: the canonical child (or none) and its issues.

An issue points into the source record with a JSON pointer and says what is wrong, never the
value itself (names and dates are personal data). Errors quarantine the record; warnings do not.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from bridge.model import Child


class Issue(BaseModel):
    pointer: str  # JSON pointer into the source record ("" is the whole record)
    code: str  # short machine-readable kind, e.g. "corrupt_date", "vocabulary_miss"
    message: str
    severity: Literal["error", "warning"]


class VocabularyMiss(BaseModel):
    """A lookup value a vocabulary does not know (not personal data: lookup values only)."""

    vocabulary: str
    column: str
    value: str
    pointer: str


class MapResult(BaseModel):
    child: Child | None = None
    errors: list[Issue] = Field(default_factory=list)
    warnings: list[Issue] = Field(default_factory=list)
    vocabulary_misses: list[VocabularyMiss] = Field(default_factory=list)

    @property
    def quarantined(self) -> bool:
        return bool(self.errors)


class Collector:
    """Gathers issues while one record is mapped."""

    __slots__ = ("errors", "warnings", "misses")

    def __init__(self) -> None:
        self.errors: list[Issue] = []
        self.warnings: list[Issue] = []
        self.misses: list[VocabularyMiss] = []

    def error(self, pointer: str, code: str, message: str) -> None:
        self.errors.append(Issue(pointer=pointer, code=code, message=message, severity="error"))

    def warn(self, pointer: str, code: str, message: str) -> None:
        self.warnings.append(Issue(pointer=pointer, code=code, message=message, severity="warning"))

    def miss(self, vocabulary: str, column: str, value: str, pointer: str) -> None:
        self.misses.append(
            VocabularyMiss(vocabulary=vocabulary, column=column, value=value, pointer=pointer)
        )
