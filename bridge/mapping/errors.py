"""The one error a mapping file raises when it is loaded: it names the file and the line."""

from __future__ import annotations

import re
from pathlib import Path

from adapters.errors import ConfigError


class MappingLoadError(ConfigError):
    """A mapping or vocabulary file is wrong; ``file`` and ``line`` say where (line 0: unknown)."""

    def __init__(self, file: Path | str, line: int, message: str) -> None:
        self.file = str(file)
        self.line = line
        self.message = message
        where = f"{self.file}:{line}" if line else self.file
        super().__init__(f"{where}: {message}")


class LineFinder:
    """Finds the line of a key in a TOML file's text (tomllib gives no positions)."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def table(self, header: str, occurrence: int = 0) -> int:
        """The line of the ``occurrence``-th ``[header]`` or ``[[header]]`` (1-based, 0: none)."""
        pattern = re.compile(r"^\s*\[\[?\s*" + re.escape(header) + r"\s*\]\]?\s*(#.*)?$")
        seen = 0
        for number, line in enumerate(self.lines, start=1):
            if pattern.match(line):
                if seen == occurrence:
                    return number
                seen += 1
        return 0

    def key(self, key: str, start: int = 0, text: str | None = None) -> int:
        """The line at or after ``start`` that sets ``key`` (with ``text`` on it, if given),
        within the table that starts at ``start``; ``start`` itself when there is none."""
        pattern = re.compile(r"^\s*" + re.escape(key) + r"\s*=")
        candidates = []
        for number in range(max(start, 1), len(self.lines) + 1):
            line = self.lines[number - 1]
            if number > start and start and line.lstrip().startswith("["):
                break  # the next table: the key is not in this one
            if pattern.match(line):
                candidates.append(number)
        for number in candidates:
            if text is None or text in self.lines[number - 1]:
                return number
        return candidates[0] if candidates else start
