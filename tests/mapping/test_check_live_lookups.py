"""``bridge mapping check primero --live`` against a sandbox Primero whose lookups and
locations differ from the shipped vocabularies: every difference is named (contract:
"Configuration read by integrations")."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bridge.sandbox import SandboxHandle, start_sandbox
from cli import app
from tests.sync.helpers import sandbox_config, write_config

runner = CliRunner()

DIFFERING = {
    # a value Primero offers that no row knows, and a row value ("other") it does not offer
    "lookup-gender": ["male", "female", "intersex"],
    # a deployment renamed one service and dropped another
    "lookup-service-type": [
        "kinship_care", "family_reintegration", "family_preservation", "foster_care",
        "emergency_shelter", "psychosocial_support", "safe_migration", "positive_parenting",
        "disability_support", "legal_support", "vocational_training", "violence_response",
        "cash_support", "health_care", "education_support",
    ],
}  # fmt: skip


def check(handle: SandboxHandle, tmp_path: Path, *extra: str) -> tuple[int, str]:
    config = tmp_path / "bridge.toml"
    write_config(sandbox_config(handle, f"sqlite:///{tmp_path / 'bridge.db'}"), config)
    result = runner.invoke(
        app, ["--config", str(config), "mapping", "check", "primero", "--live", *extra]
    )
    return result.exit_code, result.output


@pytest.fixture()
def differing() -> Iterator[SandboxHandle]:
    with start_sandbox(children=40, seed=3, primero_lookups=DIFFERING) as handle:
        handle.primero.add_case({"name_first": "Test", "location_current": "25999901"})
        yield handle


def test_each_lookup_difference_and_unknown_location_is_named(
    differing: SandboxHandle, tmp_path: Path
) -> None:
    code, output = check(differing, tmp_path, "--format", "json")
    assert code == 3, output
    config = json.loads(output)["primero_config"]
    differences = {d["lookup"]: d for d in config["differences"]}
    assert set(differences) == {"lookup-gender", "lookup-service-type"}
    gender = differences["lookup-gender"]
    assert gender["vocabulary"] == "sex" and gender["fields"] == ["/sex"]
    assert gender["offered_not_known"] == ["intersex"] and gender["not_offered"] == ["other"]
    services = differences["lookup-service-type"]
    assert services["vocabulary"] == "services"
    assert services["fields"] == ["/services_section/*/service_type"]
    assert services["offered_not_known"] == ["cash_support"]
    assert services["not_offered"] == ["cash_transfer", "drug_alcohol_support"]
    assert config["unknown_locations"] == [{"code": "25999901", "count": 1}]
    assert config["missing_lookups"] == [] and config["unlinked_fields"] == []
    assert "risk = lookup-risk-level" in config["compared"]


def test_the_table_names_each_difference(differing: SandboxHandle, tmp_path: Path) -> None:
    code, output = check(differing, tmp_path, "--show", "0")
    assert code == 3
    section = output[output.index("Primero configuration:") :]
    assert "sex (primero) = lookup-gender at /sex: 'intersex'" in section
    assert "sex (primero) = lookup-gender at /sex: 'other'" in section
    assert "'cash_support'" in section and "'cash_transfer'" in section
    assert "'drug_alcohol_support'" in section
    assert "25999901" in section


def test_the_shipped_vocabularies_match_the_default_sandbox(tmp_path: Path) -> None:
    with start_sandbox(children=40, seed=3) as handle:
        code, output = check(handle, tmp_path, "--format", "json")
    config = json.loads(output)["primero_config"]
    assert config["differences"] == [] and config["unknown_locations"] == []
    assert config["lookups_read"] >= 5 and config["locations_read"] > 1000
    assert code == json.loads(output)["exit_code"]
    assert code == (3 if json.loads(output)["quarantined"] else 0)
