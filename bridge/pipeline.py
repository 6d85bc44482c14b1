"""One page of look-ahead: the next page is pulled while the current one is stored.

``Ahead(pages, threaded=True)`` runs the source's page iterator in a thread that pulls a page
only when the one before it has been handed out: while page k is stored, page k+1 (and no
further) is pulled, so a sync waits for the network only when storing is faster than the
source, and holds at most two pages. Anything the iterator raises is raised by ``next`` after
the pages before it, as the plain iterator would. ``more()`` says whether another page
follows (waiting for it if needed). ``threaded=False`` looks ahead without a thread (a file:
parsing it needs the interpreter anyway).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

_ITEM, _END, _ERROR = "item", "end", "error"


class Ahead(Generic[T]):
    def __init__(self, items: Iterable[T], *, threaded: bool = True, name: str = "pages") -> None:
        self._source: Iterator[T] = iter(items)
        self._next: tuple[str, object] | None = None
        self._done = False
        self._stop = threading.Event()
        self._queue: queue.Queue[tuple[str, object]] | None = None
        self._thread: threading.Thread | None = None
        # one credit per page the thread may pull: the first now, then one per page handed out
        self._credits = threading.Semaphore(1)
        if threaded:
            self._queue = queue.Queue()
            self._thread = threading.Thread(target=self._pull, name=f"ahead-{name}", daemon=True)
            self._thread.start()

    # -- the producer (thread) ------------------------------------------------------------------
    def _pull(self) -> None:
        assert self._queue is not None
        try:
            while self._wait_for_credit():
                try:
                    item = next(self._source)
                except StopIteration:
                    self._queue.put((_END, None))
                    return
                self._queue.put((_ITEM, item))
        except BaseException as exc:  # handed to the consumer, raised where it reads
            self._queue.put((_ERROR, exc))
        finally:
            close = getattr(self._source, "close", None)
            if close is not None:
                close()

    def _wait_for_credit(self) -> bool:
        while not self._stop.is_set():
            if self._credits.acquire(timeout=0.1):
                return not self._stop.is_set()
        return False

    # -- the consumer ---------------------------------------------------------------------------
    def _fetch(self) -> tuple[str, object]:
        if self._queue is None:
            try:
                return (_ITEM, next(self._source))
            except StopIteration:
                return (_END, None)
            except BaseException as exc:
                return (_ERROR, exc)
        return self._queue.get()

    def more(self) -> bool:
        """Whether another page follows the one last given (an error to come counts)."""
        if self._done:
            return False
        if self._next is None:
            self._next = self._fetch()
        return self._next[0] != _END

    def __iter__(self) -> Ahead[T]:
        return self

    def __next__(self) -> T:
        if self._done:
            raise StopIteration
        entry = self._next if self._next is not None else self._fetch()
        self._next = None
        kind, value = entry
        if kind == _ITEM:
            self._credits.release()  # the page before this one is done: pull the next
            return value  # type: ignore[return-value]
        self._done = True
        if kind == _ERROR:
            assert isinstance(value, BaseException)
            raise value
        raise StopIteration

    def close(self) -> None:
        """Stop pulling (the producer ends at its next page) and wait for it, briefly."""
        self._stop.set()
        self._done = True
        if self._thread is not None:
            self._thread.join(timeout=5)
            return
        close = getattr(self._source, "close", None)
        if close is not None:
            close()
