"""Shared vocabularies: lookup tables that translate values between systems.

A vocabulary file (``mappings/vocab/<name>.toml``) holds one or more tables, each an array of
rows. Every row has a ``canonical`` value and one entry per column (usually one per system).
An entry is a string or a list of strings: the first one is what the bridge sends, the others
are also accepted when reading (spelling variants, typos seen in the field). An empty list says
"this system has no value for it" on purpose; a row that leaves a column out is a gap and fails
at load time::

    [[sex]]
    canonical = "other"
    primero = ["other"]
    oscar = ["other", "lgbt"]

A table is named ``<file>.<table>`` (``statuses.case``), or just ``<file>`` when the file has
one table (``sex``).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from bridge.mapping.errors import LineFinder, MappingLoadError

CANONICAL = "canonical"


@dataclass
class Vocabulary:
    name: str
    file: Path
    columns: tuple[str, ...]
    rows: list[dict[str, tuple[str, ...]]]
    _exact: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)
    _folded: dict[str, dict[str, str]] = field(default_factory=dict, repr=False)
    _out: dict[str, dict[str, str | None]] = field(default_factory=dict, repr=False)

    @property
    def canonical_values(self) -> list[str]:
        return [row[CANONICAL][0] for row in self.rows]

    def to_canonical(self, column: str, value: str, *, ignore_case: bool = False) -> str | None:
        """The canonical value for a system's ``value`` in ``column``, or None if unknown."""
        found = self._exact[column].get(value)
        if found is None and ignore_case:
            found = self._folded[column].get(value.strip().casefold())
        return found

    def knows(self, canonical: str) -> bool:
        return canonical in self._out[CANONICAL]

    def from_canonical(self, column: str, canonical: str) -> str | None:
        """The value to send for ``canonical`` (None: that system has none, or unknown)."""
        return self._out[column].get(canonical)


def _entries(value: object) -> tuple[str, ...] | None:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None


def _build(name: str, file: Path, raw_rows: list, finder: LineFinder, table: str) -> Vocabulary:
    columns: list[str] = []
    for row in raw_rows:
        for key in row if isinstance(row, dict) else ():
            if key not in columns:
                columns.append(key)
    if CANONICAL not in columns:
        raise MappingLoadError(file, finder.table(table), f"table {table!r} has no 'canonical'")
    vocab = Vocabulary(name=name, file=file, columns=tuple(columns), rows=[])
    for column in columns:
        vocab._exact[column], vocab._folded[column], vocab._out[column] = {}, {}, {}
    for index, row in enumerate(raw_rows):
        line = finder.table(table, index)
        if not isinstance(row, dict):
            raise MappingLoadError(file, line, f"{table!r} row {index + 1} is not a table")
        missing = [c for c in columns if c not in row]
        if missing:
            raise MappingLoadError(
                file,
                line,
                f"vocabulary gap: {table!r} row {index + 1} has no {missing} "
                "(write an empty list if that system has no such value)",
            )
        entries = {c: _entries(row[c]) for c in columns}
        for column, values in entries.items():
            if values is None:
                where = finder.key(column, line)
                raise MappingLoadError(file, where, f"{column!r} must be a string or strings")
        canonical = entries[CANONICAL]
        if canonical is None or len(canonical) != 1 or not canonical[0]:
            raise MappingLoadError(file, line, "'canonical' must be one non-empty string")
        key = canonical[0]
        if key in vocab._out[CANONICAL]:
            raise MappingLoadError(file, line, f"canonical value {key!r} appears twice")
        for column, values in entries.items():
            assert values is not None
            for value in values:
                other = vocab._exact[column].get(value)
                if other is not None and other != key:
                    where = finder.key(column, line, text=f'"{value}"')
                    raise MappingLoadError(
                        file, where, f"{column} value {value!r} maps to both {other!r} and {key!r}"
                    )
                vocab._exact[column][value] = key
                vocab._folded[column].setdefault(value.strip().casefold(), key)
            vocab._out[column][key] = values[0] if values else None
        vocab.rows.append(entries)  # type: ignore[arg-type]
    return vocab


def load_vocabularies(folder: Path) -> dict[str, Vocabulary]:
    vocabularies: dict[str, Vocabulary] = {}
    for file in sorted(folder.glob("*.toml")):
        text = file.read_text(encoding="utf-8")
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise MappingLoadError(file, 0, f"not valid TOML: {exc}") from exc
        finder = LineFinder(text)
        tables = {k: v for k, v in data.items() if isinstance(v, list)}
        for key in data:
            if key not in tables:
                raise MappingLoadError(file, finder.key(key), f"{key!r} is not a table of rows")
        for table, rows in tables.items():
            name = f"{file.stem}.{table}"
            vocabularies[name] = _build(name, file, rows, finder, table)
        if len(tables) == 1:
            vocabularies[file.stem] = vocabularies[f"{file.stem}.{next(iter(tables))}"]
    return vocabularies
