"""Load-time errors name the file and the line; good files load."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from adapters.errors import ConfigError
from bridge.mapping import MappingLoadError, default_mappings_dir, load_mapping


@pytest.fixture()
def mappings(tmp_path: Path) -> Path:
    target = tmp_path / "mappings"
    shutil.copytree(default_mappings_dir(), target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def replace(file: Path, old: str, new: str) -> int:
    """Replace the first ``old`` in ``file``; returns its line number."""
    text = file.read_text(encoding="utf-8")
    assert old in text, old
    line = text[: text.index(old)].count("\n") + 1
    file.write_text(text.replace(old, new, 1), encoding="utf-8")
    return line


def load_error(mappings: Path, kind: str = "oscar") -> MappingLoadError:
    with pytest.raises(MappingLoadError) as caught:
        load_mapping(kind, mappings)
    return caught.value


@pytest.mark.parametrize("kind", ["primero", "oscar"])
def test_shipped_mappings_load(kind: str) -> None:
    mapping = load_mapping(kind)
    assert mapping.kind == kind and mapping.spec.rules


def test_mapping_load_error_is_a_config_error() -> None:
    assert issubclass(MappingLoadError, ConfigError)


def test_unknown_transform_names_file_line_and_valid_ones(mappings: Path) -> None:
    file = mappings / "oscar.toml"
    line = replace(file, 'transform = "location_code"', 'transform = "village_code"')
    error = load_error(mappings)
    assert error.file.endswith("oscar.toml") and error.line == line
    assert "village_code" in str(error) and "location_code" in str(error)  # lists valid ones
    assert f"oscar.toml:{line}:" in str(error)


def test_bad_canonical_path(mappings: Path) -> None:
    line = replace(mappings / "oscar.toml", 'to = "organisation"', 'to = "organization"')
    error = load_error(mappings)
    assert error.line == line and "organization" in error.message


def test_bad_pointer(mappings: Path) -> None:
    line = replace(mappings / "oscar.toml", 'from = "/slug"', 'from = "slug"')
    error = load_error(mappings)
    assert error.line == line and "pointer" in error.message


def test_bad_outbound_path(mappings: Path) -> None:
    line = replace(mappings / "oscar.toml", '"/referral/reason"', '"/referral/reasons"')
    error = load_error(mappings)
    assert error.line == line and "reasons" in error.message


def test_vocabulary_gap_names_the_vocabulary_file_and_row(mappings: Path) -> None:
    file = mappings / "vocab" / "services.toml"
    line = replace(file, 'oscar = ["Counselling"]\n', "")
    error = load_error(mappings)
    assert error.file.endswith("services.toml")
    assert "gap" in error.message and "oscar" in error.message
    assert 0 < error.line < line  # the [[service]] header of that row


def test_unknown_vocabulary_and_column(mappings: Path) -> None:
    line = replace(mappings / "oscar.toml", 'vocab = "risk"', 'vocab = "risks"')
    error = load_error(mappings)
    assert error.line == line and "risks" in error.message
    replace(mappings / "oscar.toml", 'vocab = "risks"', 'vocab = "risk"')
    line = replace(mappings / "oscar.toml", 'column = "oscar", unknown', 'column = "osc", unknown')
    error = load_error(mappings)
    assert error.line == line and "osc" in error.message


def test_bad_option(mappings: Path) -> None:
    line = replace(mappings / "oscar.toml", "fold_upper = true", "fold_uper = true")
    error = load_error(mappings)
    assert error.line == line and "fold_uper" in error.message


def test_ambiguous_vocabulary_value(mappings: Path) -> None:
    replace(mappings / "vocab" / "sex.toml", 'oscar = ["male"]', 'oscar = ["male", "female"]')
    error = load_error(mappings)
    assert error.file.endswith("sex.toml") and "female" in error.message and error.line > 0


def test_canonical_value_the_model_cannot_hold(mappings: Path) -> None:
    replace(mappings / "vocab" / "sex.toml", 'canonical = "other"', 'canonical = "diverse"')
    error = load_error(mappings)
    assert error.file.endswith("oscar.toml") and "diverse" in error.message


def test_payload_field_outside_the_allow_list(mappings: Path) -> None:
    replace(mappings / "oscar.toml", '"mosvy_number",\n  "given_name"', '\n  "given_name"')
    error = load_error(mappings)
    assert "mosvy_number" in error.message and "allow-list" in error.message and error.line > 0


def test_invalid_toml(mappings: Path) -> None:
    replace(mappings / "primero.toml", 'kind = "primero"', "kind = primero")
    error = load_error(mappings, "primero")
    assert error.file.endswith("primero.toml") and "line" in error.message


def test_unknown_kind(mappings: Path) -> None:
    with pytest.raises(MappingLoadError):
        load_mapping("cpims", mappings)


def test_allowed_fields() -> None:
    oscar = load_mapping("oscar")
    assert "given_name" in oscar.allowed_fields("upsert")
    assert oscar.allowed_fields("update_links") == {
        "global_id",
        "external_id",
        "external_id_display",
    }
    assert set(oscar.allowed_fields()) == {"upsert", "update_links", "update_statuses"}
    primero = load_mapping("primero")
    assert set(primero.allowed_fields()) == {"case_patch", "referral_create", "referral_update"}
