"""API-shaped JSON: the streaming reader, entries to records, and the file adapter."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.base import SourceRecord
from adapters.errors import ConfigError
from adapters.files import (
    FileAdapter,
    JsonStreamError,
    entries_to_pages,
    entry_to_record,
    iter_entries,
)

SHARED = Path(os.environ.get("BRIDGE_SHARED_DIR") or Path(__file__).resolve().parents[3] / "shared")
CORPUS = SHARED / "data" / "khmer-children-dev"


def chunked(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


@pytest.mark.parametrize("size", [1, 2, 5, 64, 10_000])
@pytest.mark.parametrize("wrap", [False, True])
def test_entries_read_across_any_chunk_boundary(size: int, wrap: bool) -> None:
    entries = [
        1,
        234567,
        -0.5e3,
        0.0,
        1e-07,
        12.5e10,
        "ស្រីពៅ",
        None,
        True,
        [1, [2]],
        {"id": "a", "x": {"y": []}},
    ]
    doc: Any = {"metadata": {"total": 8}, "data": entries, "after": [1]} if wrap else entries
    text = json.dumps(doc, ensure_ascii=False, indent=2)
    assert list(iter_entries(chunked(text, size))) == entries


@pytest.mark.parametrize(
    ("text", "message", "line", "column"),
    [
        ('[\n  {"id": "a"},\n  {"id": "b",,}\n]', "Expecting property name", 3, 14),
        ("[1, 2", "expected ',' or ']'", 1, 6),
        ('{"metadata": {}}', "no 'data' list", 1, 17),
        ('{"data": {"id": 1}}', "'data' is not a list", 1, 10),
        ("<html>oops</html>", "expected a JSON list", 1, 1),
        ("[1] [2]", "extra text", 1, 5),
        ("", "expected a JSON list", 1, 1),
    ],
)
def test_faults_name_line_and_column(text: str, message: str, line: int, column: int) -> None:
    for size in (1, 3, 1000):
        with pytest.raises(JsonStreamError, match=message) as caught:
            list(iter_entries(chunked(text, size) or [""]))
        assert (caught.value.line, caught.value.column) == (line, column), size


def test_entry_without_a_usable_id_is_quarantined_not_raised() -> None:
    record = entry_to_record("primero", {"id": "x"}, 0)
    assert isinstance(record, SourceRecord) and record.record_id == "x"
    for entry, pointer in [([], "/data/3"), ({"id": None}, "/id"), ({"id": "  "}, "/id")]:
        error, raw = entry_to_record("primero", entry, 3)
        assert error.pointer == pointer and raw is entry and error.record_id is None
    lone_surrogate = entry_to_record("oscar", {"global_id": "g", "name": "\ud800"}, 4)
    assert isinstance(lone_surrogate, SourceRecord) and lone_surrogate.payload_hash


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["id", "global_id", "name", "x"]) | st.text(max_size=5), children
        )
    ),
    max_leaves=12,
)


@settings(max_examples=120, deadline=None)
@given(
    entries=st.lists(json_values, max_size=12),
    system=st.sampled_from(["primero", "oscar"]),
    size=st.integers(min_value=1, max_value=40),
    wrap=st.booleans(),
    ascii_only=st.booleans(),
)
def test_arbitrary_feed_entries_never_raise_out_of_the_page_parser(
    entries: list[Any], system: str, size: int, wrap: bool, ascii_only: bool
) -> None:
    text = json.dumps({"data": entries} if wrap else entries, ensure_ascii=ascii_only)
    pages = list(entries_to_pages(system, iter_entries(chunked(text, size)), 5, "c"))
    assert sum(len(p.records) + len(p.bad) for p in pages) == len(entries)
    assert [p.cursor for p in pages][-1] == "c" and all(p.cursor is None for p in pages[:-1])
    for page in pages:
        assert all(isinstance(r.payload, dict) for r in page.records)


def test_file_adapter_reads_both_shapes(tmp_path: Path) -> None:
    entries = [{"global_id": f"G{i}"} for i in range(7)] + ["junk"]
    bare, wrapped = tmp_path / "bare.json", tmp_path / "wrapped.json"
    bare.write_text(json.dumps(entries))
    wrapped.write_text(json.dumps({"data": entries}))
    for path in (bare, wrapped):
        pages = list(FileAdapter("oscar", path, chunk_size=3).pull())
        assert [len(p.records) + len(p.bad) for p in pages] == [3, 3, 2]
        assert all(p.cursor is None for p in pages)
        assert len(pages[-1].bad) == 1


def test_corrupt_file_is_a_config_error_naming_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "cases.json"
    path.write_text('[\n{"id": "a"},\n{"id": "b"\n]\n')
    with pytest.raises(ConfigError, match=r"cases\.json.*line 4, column 1"):
        list(FileAdapter("primero", path).pull())
    with pytest.raises(ConfigError, match="no such file"):
        list(FileAdapter("primero", tmp_path / "missing.json").pull())
    with pytest.raises(ConfigError, match="unknown system"):
        FileAdapter("cpims", path)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("system", "name", "count"),
    [("primero", "primero_cases.json", 4700), ("oscar", "oscar_clients.json", 4570)],
)
def test_file_adapter_over_the_dev_corpus(system: str, name: str, count: int) -> None:
    path = CORPUS / name
    if not path.is_file():
        pytest.skip(f"{path} not present")
    pages = list(FileAdapter(system, path).pull())  # type: ignore[arg-type]
    records = [r for p in pages for r in p.records]
    assert len(records) == count and not any(p.bad for p in pages)
    assert len({r.record_id for r in records}) == count
