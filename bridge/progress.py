"""Progress of long work: a live bar with counts and rate on a terminal (rich, which typer
already brings), plain lines otherwise (a cron log, a pipe, the JSON log format).

The work reports progress as lines such as ``"primero: page 3: 2500 records so far (...)"``;
on a terminal each stage (the text before the first ": ") gets one bar whose count is the
first "N records" figure of its latest line, with the rate since the stage began.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any

from bridge import logs

_COUNT = re.compile(r"(\d[\d,]*) records")


def _stage(message: str) -> str:
    head, sep, _ = message.partition(": ")
    return head.strip() if sep else "working"


def _count(message: str) -> int | None:
    found = _COUNT.search(message)
    return int(found.group(1).replace(",", "")) if found else None


class TerminalProgress:
    """One rich bar per stage; a line without a count just updates its stage's text."""

    def __init__(
        self,
        stream: IO[str] | None = None,
        *,
        force_terminal: bool | None = None,
        width: int | None = None,
    ) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        console = Console(file=stream or sys.stderr, force_terminal=force_terminal, width=width)
        self.bars = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.fields[stage]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("{task.fields[detail]}"),
            console=console,
            transient=False,
        )
        self.tasks: dict[str, Any] = {}

    def __call__(self, message: str) -> None:
        stage, count = _stage(message), _count(message)
        detail = message.partition(": ")[2].strip() if ": " in message else message
        if stage not in self.tasks:
            self.tasks[stage] = self.bars.add_task(
                stage, total=None, stage=stage, rate="", detail=""
            )
        task = self.tasks[stage]
        fields: dict[str, Any] = {"detail": detail[:50]}
        if count is not None:
            elapsed = self.bars.tasks[task].elapsed or 0.0
            fields["rate"] = f"{count / elapsed:,.0f}/s" if elapsed > 0.5 else ""
            self.bars.update(task, completed=count, total=max(count, 1), **fields)
        else:
            self.bars.update(task, **fields)

    def __enter__(self) -> TerminalProgress:
        self.bars.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.bars.stop()


@contextmanager
def reporter(quiet: bool = False) -> Iterator[Callable[[str], None] | None]:
    """What a command passes as ``progress``: None when quiet, bars on a terminal in the
    plain format, else plain (or JSON) lines."""
    if quiet:
        yield None
    elif sys.stderr.isatty() and logs.current_format() == "plain":
        with TerminalProgress() as bars:
            yield bars
    else:
        yield logs.progress
