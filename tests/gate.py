"""A gate on the sandbox servers: lets a set number of requests through, then holds the rest.

Tests that kill a process mid-run, or start a second run while a first is in the middle of
one, use it to put the process in that state for certain, instead of polling and hoping the
process has not finished in between. The gate wraps each server's ``dispatch``: a held
request waits (before the server acts, or after it acted and before it answers) until the
gate opens, so a process waiting on it can neither finish nor move on.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from bridge.sandbox import SandboxHandle


class Gate:
    def __init__(self, paths: str | None = None, methods: tuple[str, ...] | None = None) -> None:
        self._paths = re.compile(paths) if paths else None
        self._methods = methods
        self._cond = threading.Condition()
        self._allowance: int | None = None  # None: open
        self.passed = 0
        self.held = 0

    def _matches(self, method: str, path: str) -> bool:
        if self._methods is not None and method not in self._methods:
            return False
        return self._paths is None or bool(self._paths.search(path))

    def close_after(self, requests: int) -> None:
        """Let `requests` more matching requests through, then hold every later one."""
        with self._cond:
            self._allowance = requests

    def open(self) -> None:
        with self._cond:
            self._allowance = None
            self._cond.notify_all()

    def wait_until_held(self, timeout: float = 120.0) -> None:
        """Block until a request is waiting at the closed gate (its client is stuck on it)."""
        with self._cond:
            if not self._cond.wait_for(lambda: self.held > 0, timeout):
                raise AssertionError(f"no request reached the gate in {timeout} s")

    def _pass(self, method: str, path: str) -> None:
        if not self._matches(method, path):
            return
        with self._cond:
            if self._allowance is None or self._allowance > 0:
                if self._allowance is not None:
                    self._allowance -= 1
                self.passed += 1
                return
            self.held += 1
            self._cond.notify_all()
            self._cond.wait_for(lambda: self._allowance is None)
            self.held -= 1


@contextmanager
def gated(
    sandbox: SandboxHandle,
    *,
    paths: str | None = None,
    methods: tuple[str, ...] | None = None,
    hold: str = "before",
) -> Iterator[Gate]:
    """Wrap both sandbox servers with one gate (open until closed), restored on exit.

    ``hold="before"`` holds a request before the server acts on it; ``"after"`` lets the
    server act and holds the answer, as a network that loses the reply would.
    """
    if hold not in ("before", "after"):
        raise ValueError("hold is 'before' or 'after'")
    gate = Gate(paths, methods)
    apps: list[Any] = []
    for server in sandbox._servers:
        app = server.app
        original = app.dispatch

        def dispatch(request: Any, _original: Callable[..., Any] = original) -> Any:
            if hold == "before":
                gate._pass(request.method, request.path)
                return _original(request)
            response = _original(request)
            gate._pass(request.method, request.path)
            return response

        app.dispatch = dispatch  # an instance attribute, over the class's method
        apps.append(app)
    try:
        yield gate
    finally:
        gate.open()
        for app in apps:
            del app.dispatch
