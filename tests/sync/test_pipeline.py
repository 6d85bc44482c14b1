"""One page of look-ahead (``bridge.pipeline.Ahead``): the next page is pulled while the current
one is stored, never further; a source's failure arrives after the pages before it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from bridge.pipeline import Ahead


class Source:
    """Pages 1..n; records how far it was asked to read; may fail after some pages."""

    def __init__(self, n: int, fail_after: int | None = None) -> None:
        self.n, self.fail_after = n, fail_after
        self.pulled = 0
        self.closed = threading.Event()
        self.reached = [threading.Event() for _ in range(n + 1)]  # page k has been pulled

    def wait_for(self, page: int) -> None:
        assert self.reached[page].wait(30), f"page {page} was never pulled"

    def __iter__(self) -> Iterator[int]:
        try:
            for page in range(1, self.n + 1):
                if self.fail_after is not None and page > self.fail_after:
                    raise ConnectionError("the source went away")
                self.pulled = page
                self.reached[page].set()
                yield page
        finally:
            self.closed.set()


def settle() -> None:
    """Give the pulling thread a moment to run ahead if it would (only ever used before
    checking that it did *not*: a slow machine cannot make that check fail)."""
    time.sleep(0.2)


@pytest.mark.parametrize("threaded", [True, False])
def test_pages_come_in_order_and_more_says_whether_one_follows(threaded: bool) -> None:
    ahead = Ahead(Source(3), threaded=threaded)
    seen = []
    for page in ahead:
        seen.append((page, ahead.more()))
    assert seen == [(1, True), (2, True), (3, False)]
    assert not ahead.more()
    ahead.close()


def test_the_thread_pulls_one_page_ahead_and_no_further() -> None:
    source = Source(10)
    ahead = Ahead(source, threaded=True)
    source.wait_for(1)
    settle()
    assert source.pulled == 1  # nothing handed out yet: only the first page
    assert next(ahead) == 1
    source.wait_for(2)  # page 1 is being stored: page 2 is pulled meanwhile
    assert ahead.more()  # looking at page 2 does not start page 3
    settle()
    assert source.pulled == 2
    assert next(ahead) == 2
    source.wait_for(3)
    settle()
    assert source.pulled == 3
    ahead.close()
    assert source.closed.wait(5)


@pytest.mark.parametrize("threaded", [True, False])
def test_a_failure_comes_after_the_pages_before_it(threaded: bool) -> None:
    ahead = Ahead(Source(5, fail_after=2), threaded=threaded)
    assert next(ahead) == 1
    assert next(ahead) == 2
    assert ahead.more()  # something follows: the failure
    with pytest.raises(ConnectionError):
        next(ahead)
    with pytest.raises(StopIteration):
        next(ahead)
    ahead.close()


def test_closing_early_stops_the_source() -> None:
    source = Source(1000)
    ahead = Ahead(source, threaded=True)
    assert next(ahead) == 1
    ahead.close()
    assert source.closed.wait(5)
    assert source.pulled <= 2
