"""The desk's languages: Khmer and English message catalogues (gettext ``.po`` files read
with Babel), and dates and numbers formatted per locale.

The catalogues live in ``bridge/web/locales/<lang>/LC_MESSAGES/messages.po``; the English
one is the identity. ``scripts/desk_messages.py`` extracts every string the templates and
pages mark (``_("...")``) and adds what is new to both files; a test checks that each has a
translation in both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

LOCALES = Path(__file__).with_name("locales")
LANGS = ("en", "km")
DEFAULT = "en"


def catalogue_path(lang: str) -> Path:
    return LOCALES / lang / "LC_MESSAGES" / "messages.po"


@cache
def messages(lang: str) -> dict[str, str]:
    """msgid -> translation for ``lang`` (entries without one are left out)."""
    with catalogue_path(lang).open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    return {m.id: m.string for m in catalog if m.id and isinstance(m.id, str) and m.string}


def N_(text: str) -> str:
    """Mark a string for the catalogues where it is defined; translate it where it is shown."""
    return text


@dataclass(frozen=True)
class Translator:
    lang: str

    def gettext(self, text: str) -> str:
        return messages(self.lang).get(text, text) if self.lang in LANGS else text

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.gettext(singular if n == 1 else plural)

    @property
    def locale(self) -> Locale:
        return Locale.parse(self.lang)

    def number(self, value: float | int) -> str:
        return format_decimal(value, locale=self.lang)

    def date(self, value: date | datetime | None) -> str:
        if value is None:
            return ""
        day = value.date() if isinstance(value, datetime) else value
        return format_date(day, format="medium", locale=self.lang)

    def moment(self, value: datetime | None) -> str:
        if value is None:
            return ""
        return format_datetime(value, format="short", locale=self.lang)


def translator(lang: str | None) -> Translator:
    return Translator(lang if lang in LANGS else DEFAULT)


# values the pages show through the catalogues: roles, states, kinds of decision
VALUES = (
    N_("admin"),
    N_("helpdesk"),
    N_("viewer"),
    N_("open"),
    N_("resolved"),
    N_("stale"),
    N_("active"),
    N_("merged"),
    N_("merge"),
    N_("distinct"),
    N_("split"),
    N_("undo"),
    N_("confirm"),
    N_("under a day"),
    N_("under a week"),
    N_("under a month"),
    N_("older"),
    N_("birth"),
    N_("status"),
    N_("the records give different sexes"),
    N_("exact dates of birth further apart than a typing slip"),
    N_("closed in one record and active in another"),
)
