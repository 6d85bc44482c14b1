"""Work spread over the machine's cores in forked processes.

Preparing records and comparing pairs are mostly Python-level work (the GIL serialises threads).
Forked workers see the parent's data copy-on-write, so only each task's (small) result is sent
back. Where fork is not available, or one core is, the work runs in the calling process.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing as mp
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

_T = TypeVar("_T")
_R = TypeVar("_R")

# The job of the current fork_map: set before the fork, read by the children.
_JOB: tuple[Callable[..., Any], tuple[Any, ...]] | None = None


def workers() -> int:
    """Workers for chunked work: the cores this process may use (BRIDGE_MATCH_WORKERS caps)."""
    found = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cap = os.environ.get("BRIDGE_MATCH_WORKERS", "")
    return max(1, min(int(cap) if cap.isdigit() else 64, found or 1))


def _call(item: Any) -> Any:
    assert _JOB is not None
    task, shared = _JOB
    return task(item, *shared)


def fork_map(
    task: Callable[..., _R], items: Sequence[_T], *shared: Any, ordered: bool = True
) -> Iterator[_R]:
    """``task(item, *shared)`` for each item, in worker processes when there are several items
    and cores; ``shared`` reaches the workers by fork, not by pickling. Results are yielded as
    they come (in item order when ``ordered``)."""
    global _JOB
    processes = min(workers(), len(items))
    if processes <= 1 or "fork" not in mp.get_all_start_methods():
        for item in items:
            yield task(item, *shared)
        return
    _JOB = (task, shared)
    try:
        with mp.get_context("fork").Pool(processes) as pool:
            mapper = pool.imap if ordered else pool.imap_unordered
            yield from mapper(_call, items)
    finally:
        _JOB = None


def give_back_memory() -> None:
    """Return the heap memory freed so far to the system (glibc keeps freed blocks resident,
    so the next phase of a large link would stack its peak on what the last one freed)."""
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to do
        ctypes.CDLL("libc.so.6").malloc_trim(0)
