"""Small-cell suppression: no child can be picked out of a published report.

1. Primary: a count from 1 to ``threshold - 1`` is shown as ``"<threshold"``.
2. Linked cells: in a table with a derived column (``a - b``) any suppressed cell of a row
   suppresses the row's other counted cells, and a scaled column (an estimate from a count)
   goes with the count it scales, so neither can be worked back from the others.
3. Complementary: in a table whose rows split a published total, a column with exactly one
   suppressed cell gets its smallest other non-zero cell suppressed too, so subtracting the
   visible rows from the total gives only a sum of two or more hidden cells. Repeated until
   nothing changes (step 2 can add cells to another column).
A total below the threshold is itself suppressed with every cell of its column.
"""

from __future__ import annotations

import copy

from bridge.report.figures import Report, Table

Cell = int | str | None


def hidden(value: Cell) -> bool:
    return isinstance(value, str) and value.startswith("<")


def _small(value: Cell, threshold: int) -> bool:
    return isinstance(value, int) and 0 < value < threshold


def _link_rows(table: Table, mark: str) -> bool:
    changed = False
    linked = [c for c in table.columns if c in table.derived or c in table.scaled]
    if not linked:
        return False
    counted = set(table.columns)
    for row in table.rows:
        if any(hidden(row.values.get(c)) for c in counted):
            for column in counted:
                value = row.values.get(column)
                if value is not None and not hidden(value) and value != 0:
                    row.values[column] = mark
                    changed = True
    return changed


def _complement(table: Table, mark: str) -> bool:
    if not table.partition or not table.total:
        return False
    changed = False
    for column in table.columns:
        if column not in table.total or hidden(table.total[column]):
            continue
        cells = [row for row in table.rows if column in row.values]
        if sum(1 for row in cells if hidden(row.values[column])) != 1:
            continue
        visible = [
            row for row in cells if isinstance(row.values[column], int) and row.values[column] != 0
        ]
        if visible:
            pick = min(visible, key=lambda row: (row.values[column], row.key))
            pick.values[column] = mark
            changed = True
    return changed


def suppress_table(table: Table, threshold: int) -> Table:
    mark = f"<{threshold}"
    out = copy.deepcopy(table)
    for column, total in (out.total or {}).items():
        if _small(total, threshold):
            out.total[column] = mark  # type: ignore[index]
            for row in out.rows:
                if isinstance(row.values.get(column), int) and row.values[column]:
                    row.values[column] = mark
    for row in out.rows:
        for column, value in row.values.items():
            if _small(value, threshold):
                row.values[column] = mark
    while _link_rows(out, mark) | _complement(out, mark):
        pass
    return out


def suppress(report: Report, threshold: int = 5) -> Report:
    """A copy of ``report`` safe to publish (``threshold`` 1 or less: nothing is hidden)."""
    out = copy.deepcopy(report)
    if threshold <= 1:
        out.threshold = 1
        return out
    out.tables = [suppress_table(t, threshold) for t in report.tables]
    out.threshold = threshold
    for key in ("registrations", "unique_children_linked"):
        if _small(out.national.get(key), threshold):
            out.national[key] = f"<{threshold}"
    return out
