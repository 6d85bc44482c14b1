"""What the two code generators of the mapping engine share: the lines being written and the
names (constants, helpers) the generated code refers to."""

from __future__ import annotations

from typing import Any


class SourceWriter:
    def __init__(self, names: dict[str, Any]) -> None:
        self.lines: list[str] = []
        self.names: dict[str, Any] = dict(names)
        self._count = 0

    def const(self, value: Any, prefix: str = "K") -> str:
        """A fresh name bound to ``value`` in the generated code's namespace."""
        self._count += 1
        name = f"{prefix}{self._count}"
        self.names[name] = value
        return name
