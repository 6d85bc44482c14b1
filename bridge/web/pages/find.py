"""Find a child (the helpdesk): before registering a child, is it known already? Names in
either script, a birth year, a province -> ranked candidates with their evidence. A search
is audited (who searched, how many were found; never what was typed)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from bridge import places
from bridge.helpdesk.find import Evidence, FindIndex, FindQuery, find_children
from bridge.helpdesk.service import HelpdeskError
from bridge.web.desk import Visit, desk_of, need
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
def find(request: Request, seen: Annotated[Visit, Depends(need("helpdesk"))]) -> Response:
    assert seen.user is not None
    params = request.query_params
    name = (params.get("name") or "").strip()
    year_text = (params.get("birth_year") or "").strip()
    province = (params.get("province") or "").strip() or None
    candidates, problem = [], ""
    if name:
        try:
            year = int(year_text) if year_text else None
        except ValueError:
            year, problem = None, N_("The birth year is a number such as 2015.")
        if not problem:
            desk = desk_of(request)
            try:
                with desk.session() as session:
                    index = FindIndex.for_session(session)
                    candidates = find_children(
                        session,
                        FindQuery(name=name, birth_year=year, province=province),
                        by=seen.user.name,
                        index=index,
                    )
            except HelpdeskError as exc:
                problem = str(exc)
    return seen.render(
        "find.html.j2",
        name=name,
        birth_year=year_text,
        province=province or "",
        provinces=places.provinces(),
        candidates=candidates,
        problem=problem,
        searched=bool(name),
        evidence_words=lambda e: evidence_words(e, seen.t),
    )
