"""The marks page: every mark proposal of the user's jurisdiction, to review
(docs/console.md §1; proposing and reviewing one are console/api_stations.py and
console/api_ops.py, storage/marks.py); and a case's timeline for the case rows (notes
are added with POST /api/cases/{id}/notes, console/api_ops.py)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Literal

from fastapi import APIRouter, HTTPException

from console.deps import DB, ERRORS, MnQuery, ScopeDep
from storage import case_timeline
from storage import console_queries as q
from storage import marks as mark_store

router = APIRouter(prefix="/api", responses=ERRORS)


@router.get("/mark-requests", summary="Mark proposals in your jurisdiction, newest first")
def mark_requests(
    conn: DB,
    scope: ScopeDep,
    state: Literal["pending", "approved", "rejected", "all"] = "pending",
    mn: MnQuery = None,
) -> list[dict[str, Any]]:
    found = mark_store.list_requests(conn, mn=mn, state=None if state == "all" else state)
    names = q.visible_names(conn, {r.mn for r in found}, scope.region_prefix, scope.enterprise)
    return [{**asdict(r), "station": names[r.mn]} for r in reversed(found) if r.mn in names]


@router.get("/cases/{case_id}/timeline", summary="What happened to a case, oldest first")
def timeline(case_id: int, conn: DB, scope: ScopeDep) -> list[dict[str, Any]]:
    mn = q.case_mn(conn, case_id)
    if mn is None or not q.visible(conn, mn, scope.region_prefix, scope.enterprise):
        raise HTTPException(404, "not found")
    return [asdict(e) for e in case_timeline.timeline(conn, case_id)]
