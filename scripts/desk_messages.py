"""Keep the desk's message catalogues in step with the pages.

    python scripts/desk_messages.py          # add new strings to both catalogues, drop gone ones
    python scripts/desk_messages.py --check  # exit 1 if a string is missing or untranslated

Strings are what the templates (``bridge/web/templates``) and the desk's Python modules
(``bridge/web``) mark with ``_("...")`` or ``N_("...")``. The English catalogue is the
identity; the Khmer one keeps its translations, and a new string gets an empty one for a
translator to fill in (``--check`` then fails, and so does the catalogue test).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "bridge" / "web"
LOCALES = WEB / "locales"
METHODS = [("templates/**.j2", "jinja2"), ("**.py", "python")]
OPTIONS = {"templates/**.j2": {"extensions": ""}}
KEYWORDS = {"_": None, "N_": None}


def extracted() -> dict[str, list[tuple[str, int]]]:
    """msgid -> where it is used (file, line)."""
    found: dict[str, list[tuple[str, int]]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        WEB, METHODS, options_map=OPTIONS, keywords=KEYWORDS
    ):
        if isinstance(message, str) and message:
            found.setdefault(message, []).append((filename, lineno))
    return found


def path_of(lang: str) -> Path:
    return LOCALES / lang / "LC_MESSAGES" / "messages.po"


def read(lang: str) -> Catalog:
    path = path_of(lang)
    if not path.exists():
        return Catalog(locale=lang, project="child-record bridge desk")
    with path.open("rb") as fh:
        return read_po(fh, locale=lang)


def update() -> None:
    found = extracted()
    for lang in ("en", "km"):
        old = read(lang)
        new = Catalog(locale=lang, project="child-record bridge desk", fuzzy=False)
        for msgid in sorted(found):
            kept = old.get(msgid)
            string = kept.string if kept is not None and kept.string else ""
            if lang == "en" and not string:
                string = msgid
            new.add(msgid, string, locations=sorted(set(found[msgid]))[:3])
        path = path_of(lang)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            write_po(fh, new, width=100, omit_header=False, sort_output=True)
        print(f"{path.relative_to(ROOT)}: {len(new)} strings")


def missing() -> dict[str, list[str]]:
    found = extracted()
    out = {}
    for lang in ("en", "km"):
        catalog = read(lang)
        out[lang] = [m for m in found if catalog.get(m) is None or not catalog.get(m).string]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only check; exit 1 on a gap")
    args = parser.parse_args()
    if not args.check:
        update()
    gaps = missing()
    for lang, ids in gaps.items():
        for msgid in ids:
            print(f"{lang}: no translation for {msgid!r}")
    sys.exit(1 if any(gaps.values()) else 0)


if __name__ == "__main__":
    main()
