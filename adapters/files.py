"""API-shaped JSON: read it a record at a time, turn entries into records, and the file adapter.

Both APIs answer ``{"data": [...]}`` (plus ``metadata`` for Primero); dumps of them are either
that or the bare list. ``iter_entries`` walks either shape from a stream of text chunks and
yields one entry at a time, so a feed of tens of thousands of clients never sits in memory
whole. ``entry_to_record`` keeps every entry: one that is not an object or has no id becomes a
``(BadRecordError, raw entry)`` pair for quarantine instead of being dropped or raised.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from adapters.base import RAW_KEY, Page, SourceRecord
from adapters.errors import BadRecordError, ConfigError

ID_FIELD = {"primero": "id", "oscar": "global_id"}
_WHITESPACE = " \t\n\r"
_DECODER = json.JSONDecoder()
_READ_CHARS = 64 * 1024
_NUMBER = re.compile(r"[0-9.eE+-]*")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class JsonStreamError(ValueError):
    """The text is not the JSON we expected; ``line`` and ``column`` are 1-based."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(f"{message} at line {line} column {column}")
        self.message = message
        self.line = line
        self.column = column


@dataclass(frozen=True)
class UnreadableEntry:
    """A value the JSON reader could not decode (too deep, a number too long), as its text."""

    text: str
    reason: str


class _Reader:
    """A window over a stream of text chunks; characters before ``pos`` may be discarded."""

    def __init__(self, chunks: Iterable[str]) -> None:
        self._chunks = iter(chunks)
        self.buf = ""
        self.pos = 0
        self.exhausted = False
        self._lines_before = 0  # newlines in text already discarded
        self._column_before = 0  # characters of buf[0]'s line already discarded

    def fill(self, at_least: int = 1) -> bool:
        """Read until ``at_least`` more characters arrived; False when the stream ended."""
        self._discard_consumed()
        wanted = len(self.buf) + at_least
        while len(self.buf) < wanted:
            chunk = next(self._chunks, None)
            if chunk is None:
                self.exhausted = True
                return False
            self.buf += chunk
        return True

    def _discard_consumed(self) -> None:
        done = self.buf[: self.pos]
        newlines = done.count("\n")
        if newlines:
            self._lines_before += newlines
            self._column_before = len(done) - done.rfind("\n") - 1
        else:
            self._column_before += len(done)
        self.buf = self.buf[self.pos :]
        self.pos = 0

    def peek(self) -> str | None:
        """The next character that is not whitespace (not consumed), or None at the end."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in _WHITESPACE:
                self.pos += 1
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.fill():
                return None

    def value(self) -> Any:
        """Decode the JSON value starting at the next non-whitespace character."""
        if self.peek() is None:
            self.fail("unexpected end of text, a value was expected")
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                if self.exhausted:
                    self.fail(exc.msg, exc.pos)
                # Most likely the value is cut by the chunk boundary: read more (doubling, so
                # a large value is not decoded again for every chunk) and decode again.
                self.fill(max(len(self.buf) - self.pos, _READ_CHARS))
                continue
            except RecursionError:
                return UnreadableEntry(self.skip_value(), "nested too deeply to read")
            except ValueError:  # e.g. an integer of more digits than Python converts
                return UnreadableEntry(self.skip_value(), "holds a number too long to read")
            # A number running to the end of the buffer ("12", "0.", "1e") may go on in the
            # next chunk; any other value ends where the decoder says.
            if _is_number(value) and not self.exhausted and _NUMBER.fullmatch(self.buf, end):
                self.fill()
                continue
            self.pos = end
            return value

    def skip_value(self) -> str:
        """Consume the value at ``pos`` without decoding it (no recursion, so any depth) and
        return its text. Only for values the decoder refused for their size or depth: the
        text is well-formed up to its end, or ``fail`` says where it is not."""
        start, depth, in_string, escaped = self.pos, 0, False, False
        i = start
        while True:
            if i >= len(self.buf):
                kept = i - self.pos
                self.fill(_READ_CHARS)
                i, start = self.pos + kept, self.pos
                if i >= len(self.buf):
                    self.fail("unexpected end of text inside a value", i)
                continue
            char = self.buf[i]
            i += 1
            if in_string:
                if escaped:
                    escaped = False
                elif char == "\\":
                    escaped = True
                elif char == '"':
                    in_string = False
                    if depth == 0:
                        break
            elif char == '"':
                in_string = True
            elif char in "[{":
                depth += 1
            elif char in "]}" and depth > 0:
                depth -= 1
                if depth == 0:
                    break
            elif depth == 0 and char in ",]}\n\r\t ":
                i -= 1  # a number or literal ends before its delimiter
                break
        self.pos = i
        return self.buf[start:i]

    def expect(self, char: str, what: str) -> None:
        if self.peek() != char:
            self.fail(f"expected {what}")
        self.pos += 1

    def fail(self, message: str, at: int | None = None) -> None:
        at = self.pos if at is None else at
        before = self.buf[:at]
        newline = before.rfind("\n")
        line = self._lines_before + before.count("\n") + 1
        column = at - newline if newline >= 0 else self._column_before + at + 1
        raise JsonStreamError(message, line, column)


def top_level_fields(text: str) -> tuple[dict[str, Any] | None, list[str]]:
    """The fields of a JSON object the decoder refused as a whole (a value too deep, a number
    too long), and the names of the fields it cannot read; (None, []) if not an object."""
    reader = _Reader([text])
    fields: dict[str, Any] = {}
    unreadable: list[str] = []
    try:
        reader.expect("{", "'{'")
        while reader.peek() not in ("}", None):
            name = reader.value()
            reader.expect(":", "':'")
            value = reader.value()
            if not isinstance(name, str):
                return None, []
            if isinstance(value, UnreadableEntry):
                unreadable.append(name)
            else:
                fields[name] = value
            if reader.peek() == ",":
                reader.pos += 1
        reader.expect("}", "'}'")
    except JsonStreamError:
        return None, []
    return fields, unreadable


def loads_tolerant(text: str) -> Any:
    """``json.loads``, except that a list entry the decoder refuses (too deep, a number too
    long) becomes an ``UnreadableEntry`` instead of failing the whole document (a page of
    Primero cases with one such case). Raises ``JsonStreamError`` for text that is not JSON."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except (RecursionError, ValueError):
        pass
    reader = _Reader([text])
    value = _tolerant_value(reader)
    if reader.peek() is not None:
        reader.fail("extra text after the JSON document")
    return value


def _tolerant_value(reader: _Reader) -> Any:
    """Objects and lists at the top two levels read key by key, so one refused value is
    kept as an ``UnreadableEntry`` and the rest is read."""
    first = reader.peek()
    if first == "[":
        return list(_array(reader))
    if first != "{":
        return reader.value()
    reader.expect("{", "'{'")
    out: dict[str, Any] = {}
    while reader.peek() not in ("}", None):
        name = reader.value()
        reader.expect(":", "':'")
        out[str(name)] = list(_array(reader)) if reader.peek() == "[" else reader.value()
        if reader.peek() == ",":
            reader.pos += 1
    reader.expect("}", "'}'")
    return out


def iter_entries(chunks: Iterable[str], key: str = "data") -> Iterator[Any]:
    """Yield the entries of a JSON list, or of the list under ``key`` in a JSON object.

    Raises ``JsonStreamError`` (with line and column) when the text is not such a document;
    entries before the fault have been yielded by then.
    """
    reader = _Reader(chunks)
    first = reader.peek()
    if first == "[":
        yield from _array(reader)
    elif first == "{":
        yield from _object_with_array(reader, key)
    else:
        reader.fail("expected a JSON list or an object with a list under 'data'")
    if reader.peek() is not None:
        reader.fail("extra text after the JSON document")


def _array(reader: _Reader) -> Iterator[Any]:
    reader.expect("[", "'['")
    if reader.peek() == "]":
        reader.pos += 1
        return
    while True:
        yield reader.value()
        following = reader.peek()
        if following == "]":
            reader.pos += 1
            return
        reader.expect(",", "',' or ']' in the list")


def _object_with_array(reader: _Reader, key: str) -> Iterator[Any]:
    reader.expect("{", "'{'")
    found = False
    if reader.peek() == "}":
        reader.pos += 1
    else:
        while True:
            if reader.peek() != '"':
                reader.fail("expected a key")
            name = reader.value()
            reader.expect(":", "':'")
            if name == key and not found:
                if reader.peek() != "[":
                    reader.fail(f"'{key}' is not a list")
                found = True
                yield from _array(reader)
            else:
                reader.value()  # metadata and the like: small, read and dropped
            if reader.peek() == "}":
                reader.pos += 1
                break
            reader.expect(",", "',' or '}' in the object")
    if not found:
        reader.fail(f"the object has no '{key}' list")


def entry_to_record(
    system: str, entry: Any, index: int
) -> SourceRecord | tuple[BadRecordError, Any]:
    """A record, or the quarantine pair for an entry that cannot be one. Never raises."""
    id_field = ID_FIELD[system]
    if isinstance(entry, UnreadableEntry):
        fields, _ = top_level_fields(entry.text)
        if fields is not None and not _id_problem(fields.get(id_field)):
            # a record whose id can be read: kept under it, as text, for the mapper to flag
            return SourceRecord(system, fields[id_field], {RAW_KEY: entry.text})
        message = f"entry {index}: {entry.reason}; kept as text"
        return BadRecordError(system, None, f"/data/{index}", message), {RAW_KEY: entry.text}
    if not isinstance(entry, dict):
        kind = type(entry).__name__ if entry is not None else "null"
        message = f"entry is {kind}, not an object"
        return BadRecordError(system, None, f"/data/{index}", message), entry
    record_id = entry.get(id_field)
    problem = _id_problem(record_id)
    if problem:
        message = f"entry {index}: {id_field} {problem}"
        return BadRecordError(system, None, f"/{id_field}", message), entry
    try:
        return SourceRecord(system=system, record_id=record_id, payload=entry)
    except (
        ValueError,
        TypeError,
        RecursionError,
    ) as exc:  # e.g. a lone surrogate the hash cannot encode
        message = f"entry {index}: payload cannot be stored ({type(exc).__name__})"
        return BadRecordError(system, None, f"/data/{index}", message), entry


MAX_ID_CHARS = 128  # the store's column; a real id is a UUID or a short code


def _id_problem(record_id: Any) -> str:
    """Why ``record_id`` cannot be a record's id, or "" when it can."""
    if record_id in (None, ""):
        return "is missing or empty"
    if not isinstance(record_id, str):
        return "is not a string"
    if not record_id.strip():
        return "is blank"
    if len(record_id) > MAX_ID_CHARS:
        return f"is longer than {MAX_ID_CHARS} characters"
    if not record_id.isprintable():
        return "holds control characters"
    try:
        record_id.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode (a lone surrogate)"
    return ""


def entries_to_pages(
    system: str,
    entries: Iterable[Any],
    chunk_size: int,
    final_cursor: str | None = None,
    first_number: int = 1,
) -> Iterator[Page]:
    """Pages of ``chunk_size`` entries (records plus bad ones); only the last page carries
    ``final_cursor``. There is always at least one (maybe empty) page."""
    if chunk_size < 1:
        raise ConfigError(f"chunk_size must be at least 1, not {chunk_size}")
    page = Page(records=[], number=first_number)
    for index, entry in enumerate(entries):
        if len(page.records) + len(page.bad) >= chunk_size:
            yield page
            page = Page(records=[], number=page.number + 1)
        result = entry_to_record(system, entry, index)
        if isinstance(result, SourceRecord):
            page.records.append(result)
        else:
            page.bad.append(result)
    page.cursor = final_cursor
    yield page


def _read_text(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8") as handle:
        while chunk := handle.read(_READ_CHARS):
            yield chunk


class FileAdapter:
    """Reads an API-shaped JSON dump (a list of records, or ``{"data": [...]}``) as pages.

    A file has no cursor: ``since`` is ignored and every page carries ``cursor=None``.
    """

    def __init__(
        self, system: Literal["primero", "oscar"], path: Path, *, chunk_size: int = 500
    ) -> None:
        if system not in ID_FIELD:
            raise ConfigError(f"unknown system {system!r}; expected one of {sorted(ID_FIELD)}")
        self.system = system
        self.path = Path(path)
        self.chunk_size = chunk_size

    def pull(self, since: str | None = None) -> Iterator[Page]:
        if not self.path.is_file():
            raise ConfigError(f"{self.path}: no such file")
        try:
            entries = iter_entries(_read_text(self.path))
            yield from entries_to_pages(self.system, entries, self.chunk_size, None)
        except JsonStreamError as exc:
            raise ConfigError(
                f"{self.path}: not an API-shaped JSON dump: {exc.message} "
                f"(line {exc.line}, column {exc.column})"
            ) from None
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{self.path}: not UTF-8 text (byte {exc.start})") from None

    def close(self) -> None:
        """Nothing to release: the file is opened and closed within ``pull``."""
