"""Find a child (the helpdesk): before registering a child, is it known already? Names in
either script, a birth year, a province -> ranked candidates with their evidence. A search
is audited (who searched, how many were found; never what was typed)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from bridge import places
from bridge.helpdesk.find import Evidence, FindIndex, FindQuery, find_children
from bridge.helpdesk.service import HelpdeskError
from bridge.web.desk import Visit, desk_of, form, need
from bridge.web.i18n import N_, Translator

routes = APIRouter()
PARTS = {"given": N_("given name"), "family": N_("family name"), "full": N_("full name")}
LEVELS = {
    "identical": N_("identical"),
    "sounds_same": N_("sounds the same"),
    "nearly_same": N_("spelt nearly the same"),
    "similar": N_("sounds similar"),
    "partly_same": N_("partly the same"),
    "different": N_("different"),
    "missing": N_("not recorded"),
}
PLAIN = {
    "birth_year_missing": N_("birth year not recorded"),
    "born_same_year": N_("born the same year"),
    "born_years_apart": N_("born {n} year(s) apart"),
    "province_missing": N_("province not recorded"),
    "same_province": N_("same province"),
    "different_province": N_("different province"),
}


def evidence_words(evidence: Evidence, t: Translator) -> str:
    """A piece of the search's evidence in the reader's language (by its code)."""
    if evidence.code in PLAIN:
        return t.gettext(PLAIN[evidence.code]).replace("{n}", t.number(evidence.number or 0))
    part, _, level = evidence.code.partition("_")
    if part in PARTS and level in LEVELS:
        return f"{t.gettext(PARTS[part])}: {t.gettext(LEVELS[level])}"
    return evidence.words


@routes.get("/find")
def find_form(request: Request, seen: Annotated[Visit, Depends(need("helpdesk"))]) -> Response:
    return _page(seen, "", "", None, [], "")


@routes.post("/find")
async def find(request: Request, seen: Annotated[Visit, Depends(need("helpdesk"))]) -> Response:
    """A search is a POST: the names typed never stand in a URL (no proxy log, no browser
    history holds them)."""
    fields = await form(request, seen)
    assert seen.user is not None
    name = str(fields.get("name") or "").strip()
    year_text = str(fields.get("birth_year") or "").strip()
    province = str(fields.get("province") or "").strip() or None
    if not name:
        return _page(seen, name, year_text, province, [], "")
    try:
        year = int(year_text) if year_text else None
    except ValueError:
        return _page(
            seen, name, year_text, province, [], N_("The birth year is a number such as 2015.")
        )
    desk, by = desk_of(request), seen.user.name

    def search() -> list[Any]:
        with desk.session() as session:
            index = FindIndex.for_session(session)
            query = FindQuery(name=name, birth_year=year, province=province)
            return find_children(session, query, by=by, index=index)

    try:
        candidates = await run_in_threadpool(search)
    except HelpdeskError as exc:
        return _page(seen, name, year_text, province, [], str(exc))
    return _page(seen, name, year_text, province, candidates, "", searched=True)


def _page(
    seen: Visit, name: str, year: str, province: str | None, candidates: list[Any],
    problem: str, *, searched: bool = False,
) -> Response:  # fmt: skip
    return seen.render(
        "find.html.j2",
        name=name,
        birth_year=year,
        province=province or "",
        provinces=places.provinces(),
        candidates=candidates,
        problem=problem,
        searched=searched or bool(problem),
        evidence_words=lambda e: evidence_words(e, seen.t),
    )
