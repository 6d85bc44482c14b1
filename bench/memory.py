"""Memory of a process and the processes it started, read from Linux /proc (0 elsewhere).

Proportional set size (PSS) shares each page among the processes mapping it, so forked
workers' copy-on-write pages count once: summed over a process tree, the memory the whole
job takes.
"""

from __future__ import annotations

import os


def pss_kb(pid: int) -> int:
    """PSS of one process in kB, 0 when /proc does not tell (gone, or not Linux)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as f:
            return next((int(line.split()[1]) for line in f if line.startswith("Pss:")), 0)
    except OSError:
        return 0


def process_tree(pid: int) -> list[int]:
    """``pid`` and every live descendant (children of all its threads, recursively)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{current}/task/{task}/children", encoding="ascii") as f:
                    todo.extend(int(x) for x in f.read().split())
            except OSError:
                pass
    return found


def tree_pss_kb(pid: int) -> int:
    """PSS of ``pid`` and its descendants, in kB."""
    return sum(pss_kb(p) for p in process_tree(pid))
