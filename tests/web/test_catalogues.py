"""Every string the desk shows is in both catalogues, translated; placeholders kept."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

from bridge.web.i18n import messages

ROOT = Path(__file__).resolve().parents[2]


def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "desk_messages", ROOT / "scripts" / "desk_messages.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_marked_string_has_both_languages() -> None:
    gaps = script().missing()
    assert gaps == {"en": [], "km": []}, "run `python scripts/desk_messages.py` and translate"


def test_khmer_catalogue_is_khmer_and_english_is_the_identity() -> None:
    found = script().extracted()
    assert len(found) > 100
    km, en = messages("km"), messages("en")
    for msgid in found:
        assert en[msgid] == msgid
        assert re.search("[\u1780-\u17ff]", km[msgid]), msgid
