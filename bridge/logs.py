"""Log lines for people (plain text) or for a log collector (one JSON object a line).

Every line of a run carries the run's context (``run_id``, ``source``) without each call
passing it: :func:`context` sets it for the code below it. A line that marks a step of the
work names it in ``event`` and may carry ``counts``; these are figures and ids only. Names,
dates of birth and other personal data are never logged, in either format.

JSON lines are written by python-json-logger (a well-kept formatter for the standard
``logging`` module, so every library's lines come out in the same shape)::

    {"time": "2026-12-07T20:30:01.123+00:00", "level": "INFO", "logger": "bridge.sync",
     "message": "primero: pulled", "event": "source_synced", "run_id": 7, "source": "primero",
     "counts": {"pulled": 120, "new": 3, "quarantined": 0}}
"""

from __future__ import annotations

import contextvars
import logging
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import IO, Any

FORMATS = ("plain", "json")
LEVELS = ("debug", "info", "warning", "error")
PLAIN = "%(asctime)s %(levelname)s %(name)s: %(message)s"
PROGRESS = "bridge.progress"
_format = "plain"

_context: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "bridge_log_context", default=None
)


@contextmanager
def context(**fields: Any) -> Iterator[None]:
    """Add ``fields`` (e.g. ``run_id``, ``source``) to every log line written inside."""
    token = _context.set({**(_context.get() or {}), **fields})
    try:
        yield
    finally:
        _context.reset(token)


def event(name: str, **fields: Any) -> dict[str, Any]:
    """``extra=`` for a line that marks a step of the work: ``log.info(..., extra=event(...))``."""
    return {"event": name, **fields}


class _WithContext(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_context.get() or {}).items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class _BridgeHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler this module installs, so configuring again replaces it, not adds one."""


def _json_formatter() -> logging.Formatter:
    from pythonjsonlogger.json import JsonFormatter

    class _Formatter(JsonFormatter):
        def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802
            moment = datetime.fromtimestamp(record.created, UTC)
            return moment.isoformat(timespec="milliseconds")

    return _Formatter(
        "{asctime}{levelname}{name}{message}",
        style="{",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        json_ensure_ascii=False,
    )


def parse_level(value: str) -> int:
    """A level name as written in the config or on the command line."""
    name = value.strip().lower()
    if name not in LEVELS:
        raise ValueError(f"log level {value!r}: use one of {', '.join(LEVELS)}")
    return getattr(logging, name.upper())


def configure(
    fmt: str = "plain",
    level: str | int = logging.WARNING,
    levels: Mapping[str, str] | None = None,
    stream: IO[str] | None = None,
) -> None:
    """Send log lines to ``stream`` (stderr) in ``fmt``; ``levels`` per logger (component)."""
    if fmt not in FORMATS:
        raise ValueError(f"log format {fmt!r}: use one of {', '.join(FORMATS)}")
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _BridgeHandler)]:
        root.removeHandler(old)
    handler = _BridgeHandler(stream or sys.stderr)
    handler.addFilter(_WithContext())
    handler.setFormatter(_json_formatter() if fmt == "json" else logging.Formatter(PLAIN))
    root.addHandler(handler)
    root.setLevel(parse_level(level) if isinstance(level, str) else level)
    # progress lines are shown whatever the level, as they are in the plain format (--quiet
    # turns them off); a `levels` entry for "bridge.progress" still decides
    logging.getLogger(PROGRESS).setLevel(logging.INFO)
    for name, value in (levels or {}).items():
        logging.getLogger(name).setLevel(parse_level(value))
    global _format
    _format = fmt


def current_format() -> str:
    """The log format configured last ("plain" or "json")."""
    return _format


def progress(message: str) -> None:
    """A progress line of long work: plain text on stderr, or a JSON line in the JSON format."""
    _to_stderr(message, logging.getLogger(PROGRESS), logging.INFO, "progress")


def notice(message: str, name: str, level: int = logging.WARNING) -> None:
    """A line of a command's own output meant for stderr (a quarantined record, a failed
    source, an error): as is, or as a JSON line with ``event`` = ``name``."""
    _to_stderr(message, logging.getLogger("bridge.cli"), level, name)


def _to_stderr(message: str, logger: logging.Logger, level: int, name: str) -> None:
    if _format == "json":
        logger.log(level, message.strip(), extra=event(name))
    else:
        sys.stderr.write(message + "\n")
        sys.stderr.flush()
