"""Progress: bars with counts and rate on a terminal, plain lines elsewhere, nothing when
quiet."""

from __future__ import annotations

import io
import re

from bridge import logs
from bridge.progress import TerminalProgress, reporter


def test_a_terminal_gets_one_bar_per_stage_with_its_count() -> None:
    out = io.StringIO()
    with TerminalProgress(out, force_terminal=True, width=200) as bars:
        bars("primero: page 1: 1000 records so far (1000 new, 0 changed)")
        bars("primero: page 2: 2000 records so far (2000 new, 0 changed)")
        bars("oscar: page 1: 700 records so far (700 new, 0 changed)")
        bars("estimating precision and unique children from the model")
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.getvalue())  # colours and cursor moves
    assert "primero" in text and "2000/2000" in text
    assert "oscar" in text and "700/700" in text
    assert len(bars.tasks) == 3


def test_elsewhere_the_lines_stay_plain_and_quiet_is_silent(capsys) -> None:
    logs.configure("plain")
    with reporter(quiet=False) as shown:
        assert shown is logs.progress  # pytest's stderr is not a terminal
        shown("primero: page 1: 10 records so far")
    assert capsys.readouterr().err == "primero: page 1: 10 records so far\n"
    with reporter(quiet=True) as shown:
        assert shown is None
