"""The command line: every command documented, help everywhere, exit codes."""

from __future__ import annotations

import re
from pathlib import Path

import typer
from typer.testing import CliRunner

from cli import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def all_commands() -> list[str]:
    root = typer.main.get_command(app)
    found: list[str] = []

    def walk(group, prefix: str) -> None:  # typer vendors its own click: duck-type groups
        for name, command in group.commands.items():
            path = f"{prefix} {name}".strip()
            if hasattr(command, "commands"):
                walk(command, path)
            else:
                found.append(path)

    walk(root, "")
    return found


def test_every_command_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [c for c in all_commands() if f"bridge {c}" not in readme]
    assert not missing, f"commands missing from README.md: {missing}"


def test_every_command_has_help() -> None:
    for command in all_commands():
        result = runner.invoke(app, [*command.split(), "--help"])
        assert result.exit_code == 0, command
        assert "Usage" in result.output


def test_every_config_key_of_the_example_is_documented() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    example = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    keys = set(re.findall(r"^#?\s*([a-z_]+)\s*=", example, flags=re.MULTILINE))
    missing = sorted(k for k in keys if f"`{k}" not in readme and f"{k}`" not in readme)
    assert not missing, f"config keys missing from README.md: {missing}"


def test_unknown_source_is_a_usage_error(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("BRIDGE_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.delenv("BRIDGE_CONFIG", raising=False)
    result = runner.invoke(app, ["sync"])
    assert result.exit_code == 5
    assert "no sources" in result.output


def test_status_and_exports_on_an_empty_database(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("BRIDGE_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.delenv("BRIDGE_CONFIG", raising=False)
    assert runner.invoke(app, ["status"]).exit_code == 0
    result = runner.invoke(app, ["children", "export", "--format", "csv"])
    assert result.exit_code == 0
    assert result.output.splitlines() == ["system,record_id,child_id"]
    result = runner.invoke(app, ["review", "export", "--format", "csv"])
    assert result.output.splitlines() == ["system_a,record_id_a,system_b,record_id_b,score"]


def test_help_lists_the_exit_codes_and_completion_installs() -> None:
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    flat = " ".join(result.output.split())
    assert "Exit codes" in flat and "4 another sync is running" in flat
    assert "--install-completion" in result.output
    shown = runner.invoke(app, ["--show-completion", "bash"])
    assert shown.exit_code == 0 and "complete" in shown.output
