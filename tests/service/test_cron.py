"""`[schedule]` cron expressions: standard crontab weekdays, an optional seconds field,
errors that say what is wrong."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.errors import ConfigError
from bridge.config import load_config
from bridge.service.cron import parse_cron

MONDAY = datetime(2026, 12, 7, 20, 40, 30, tzinfo=UTC)


def next_after(expr: str, moment: datetime = MONDAY) -> datetime:
    return parse_cron(expr).get_next_fire_time(None, moment)


def test_five_fields_are_crontab() -> None:
    assert next_after("*/15 * * * *") == datetime(2026, 12, 7, 20, 45, tzinfo=UTC)
    assert next_after("30 2 * * *") == datetime(2026, 12, 8, 2, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("expr", "day"),
    [("0 9 * * 0", 13), ("0 9 * * 7", 13), ("0 9 * * 6", 12), ("0 9 * * 2", 8)],
)
def test_weekdays_count_from_sunday_as_cron_does(expr: str, day: int) -> None:
    assert next_after(expr).day == day  # 2026-12-13 is a Sunday, 12-12 a Saturday


def test_weekday_ranges_and_steps() -> None:
    friday_evening = datetime(2026, 12, 11, 20, 0, tzinfo=UTC)
    assert next_after("0 9 * * 1-5", friday_evening).day == 14  # the Monday after
    assert parse_cron("0 9 * * */2")  # a step keeps its number


def test_a_sixth_field_in_front_is_seconds() -> None:
    moment = MONDAY.replace(second=31)
    assert next_after("*/2 * * * * *", moment) == datetime(2026, 12, 7, 20, 40, 32, tzinfo=UTC)


@pytest.mark.parametrize("expr", ["* * *", "61 * * * *", "0 9 * * 8", "every hour"])
def test_a_wrong_expression_is_refused(expr: str) -> None:
    with pytest.raises(ValueError):
        parse_cron(expr)


def test_the_config_names_the_wrong_key(tmp_path) -> None:
    path = tmp_path / "bridge.toml"
    path.write_text('[schedule]\nsync = "*/15 * * *"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="schedule.*sync"):
        load_config(path)
