"""The review queue (any role: ids, scores and counts only) and a pair side by side with the
decision form (the helpdesk: the view is audited, the decision is theirs)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from bridge import places
from bridge.helpdesk.decide import Decided
from bridge.helpdesk.service import HelpdeskError, mark_distinct, merge_review
from bridge.helpdesk.views import show_review
from bridge.helpdesk.worklist import ORDERS, WorkFilter, Worklists, select_work, store_version
from bridge.web.desk import Visit, decide_here, desk_of, form, need, reason_of
from bridge.web.i18n import N_
from bridge.web.pair import evidence_words, pair_rows

routes = APIRouter()
worklists: dict[int, Worklists] = {}  # one per store, for this process
FILTERS = ("province", "min_score", "max_score", "older_than_days", "system", "kind", "order")


def worklist_of(request: Request) -> Worklists:
    desk = desk_of(request)
    return worklists.setdefault(id(desk.store), Worklists())


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text not in (None, "") else None
    except ValueError:
        return None


def wanted_from(params: dict[str, str]) -> WorkFilter:
    province = (params.get("province") or "").strip()
    return WorkFilter(
        province=places.ncdd_code(province).zfill(2) if province else None,
        min_score=_number(params.get("min_score")),
        max_score=_number(params.get("max_score")),
        older_than_days=_number(params.get("older_than_days")),
        system=params.get("system") if params.get("system") in ("primero", "oscar") else None,
        kind=params.get("kind") if params.get("kind") in ("possible", "audit") else None,
        order=params.get("order") if params.get("order") in ORDERS else "urgent",
    )


def filter_query(params: dict[str, str]) -> str:
    return urlencode({k: v for k, v in params.items() if k in FILTERS and v})


@routes.get("/review")
def queue(request: Request, seen: Annotated[Visit, Depends(need())]) -> Response:
    desk = desk_of(request)
    params = dict(request.query_params)
    wanted = wanted_from(params)
    with desk.session() as session:
        items = worklist_of(request).get(session)
    kept, counts = select_work(items, wanted)
    size = desk.config.desk.page_size
    page = max(1, int(_number(params.get("page")) or 1))
    shown = kept[(page - 1) * size : page * size]
    return seen.render(
        "review.html.j2",
        items=shown,
        counts=counts,
        wanted=wanted,
        params=params,
        page=page,
        pages=max(1, -(-len(kept) // size)),
        provinces=places.provinces(),
        filters=filter_query(params),
        personal=seen.user is not None and seen.user.role != "viewer",
    )


@routes.get("/review/{item_id}")
def pair(
    item_id: int, request: Request, seen: Annotated[Visit, Depends(need("helpdesk"))]
) -> Response:
    desk = desk_of(request)
    assert seen.user is not None
    params = dict(request.query_params)
    with desk.session() as session:
        view = show_review(session, item_id, by=seen.user.name)
        following = worklist_of(request).next_after(session, item_id, wanted_from(params))
    return seen.render(
        "pair.html.j2",
        view=view,
        rows=pair_rows(view.columns, seen.t),
        evidence=evidence_words(view.evidence, seen.t),
        following=following,
        filters=filter_query(params),
    )


@routes.post("/review/{item_id}/decide")
async def decide_pair(
    item_id: int, request: Request, seen: Annotated[Visit, Depends(need("helpdesk"))]
) -> Response:
    fields = await form(request, seen)
    assert seen.user is not None
    answer, filters = str(fields.get("answer", "")), str(fields.get("filters", ""))
    if answer not in ("same", "distinct"):
        raise HelpdeskError(N_("Choose same child or not the same child."))
    reason = reason_of(fields)
    action = merge_review if answer == "same" else mark_distinct
    desk = desk_of(request)
    by = seen.user.name

    def work() -> tuple[Decided, int | None]:
        lists = worklist_of(request)
        with desk.session() as session:
            before = store_version(session)
        decided = decide_here(desk, lambda s: action(s, item_id, by=by, reason=reason))
        result = decided.result
        with desk.session() as session:
            lists.after_decision(session, before, item_id, result.decision_id, result.involved)
            wanted = wanted_from(dict(parse_qsl(filters)))
            return decided, lists.next_after(session, item_id, wanted)

    decided, following = await run_in_threadpool(work)
    done = f"done={decided.result.decision_id}"
    if answer == "same" and decided.result.children:
        return RedirectResponse(f"/children/{decided.result.children[0]}?{done}", 303)
    if following is not None:
        return RedirectResponse(f"/review/{following}?{filters}&{done}", 303)
    return RedirectResponse(f"/review?{done}", 303)
