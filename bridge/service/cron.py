"""Cron expressions, as written in `[schedule]`, to APScheduler triggers.

Five fields are standard crontab (minute hour day month weekday, weekday 0 or 7 = Sunday, as
cron has it; APScheduler 3 counts weekdays from Monday, so numbers are turned into names). A
sixth field in front gives seconds, for short intervals such as tests.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from apscheduler.triggers.cron import CronTrigger

_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _weekday_names(field: str) -> str:
    """Crontab's numbered weekdays as names; a step (``*/2``) keeps its number."""

    def name(match: re.Match[str]) -> str:
        if match.start() > 0 and field[match.start() - 1] == "/":
            return match.group(0)
        number = int(match.group(0))
        if number > 7:
            raise ValueError(f"weekday {number} is not 0-7")
        return _WEEKDAYS[number]

    return re.sub(r"\d+", name, field)


def parse_cron(expr: str) -> CronTrigger:
    """A trigger for ``expr``, or ValueError saying what is wrong with it."""
    from apscheduler.triggers.cron import CronTrigger

    fields = expr.split()
    if len(fields) not in (5, 6):
        raise ValueError(
            f"a cron expression has 5 fields (minute hour day month weekday), or 6 with "
            f"seconds in front; got {len(fields)}"
        )
    second = fields.pop(0) if len(fields) == 6 else "0"
    minute, hour, day, month, weekday = fields
    return CronTrigger(
        second=second,
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=_weekday_names(weekday),
        timezone="UTC",
    )
