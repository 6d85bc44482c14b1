from pathlib import Path

import pytest

from adapters.errors import ConfigError
from bridge.config import DEFAULT_DATABASE_URL, load_config

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_without_a_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BRIDGE_CONFIG", raising=False)
    monkeypatch.delenv("BRIDGE_DATABASE_URL", raising=False)
    config = load_config(None)
    assert config.database_url == DEFAULT_DATABASE_URL
    assert config.sources == []


def test_example_config_loads_and_names_env_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BRIDGE_DATABASE_URL", raising=False)
    config = load_config(ROOT / "config.example.toml")
    assert [s.name for s in config.sources] == ["primero", "oscar"]
    assert config.source("primero").password_env == "BRIDGE_PRIMERO_PASSWORD"
    monkeypatch.delenv("BRIDGE_PRIMERO_PASSWORD", raising=False)
    with pytest.raises(ConfigError, match="BRIDGE_PRIMERO_PASSWORD"):
        config.source("primero").password()
    monkeypatch.setenv("BRIDGE_PRIMERO_PASSWORD", "s3cret")
    assert config.source("primero").password() == "s3cret"


def test_env_database_url_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIDGE_DATABASE_URL", "sqlite:///elsewhere.db")
    assert load_config(ROOT / "config.example.toml").database_url == "sqlite:///elsewhere.db"


def test_password_in_file_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "c.toml"
    file.write_text(
        '[[sources]]\nname="p"\nkind="primero"\nbase_url="http://x"\nusername="u"\n'
        'password="plain"\n'
    )
    with pytest.raises(ConfigError, match="environment variable"):
        load_config(file)


def test_incomplete_source_says_what_is_missing(tmp_path: Path) -> None:
    file = tmp_path / "c.toml"
    file.write_text('[[sources]]\nname="o"\nkind="oscar"\nbase_url="http://x"\n')
    with pytest.raises(ConfigError, match="email, password_env"):
        load_config(file)


def test_unknown_source_lists_the_known_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_config(ROOT / "config.example.toml")
    with pytest.raises(ConfigError, match="primero, oscar"):
        config.source("nope")


def test_missing_file_and_bad_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[database\n")
    with pytest.raises(ConfigError, match="bad.toml"):
        load_config(bad)
