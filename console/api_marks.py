"""The marks page: every mark proposal of the user's jurisdiction, to review
(docs/console.md §1; proposing and reviewing one are console/api_stations.py and
console/api_ops.py, storage/marks.py)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, Literal

from fastapi import APIRouter

from console.deps import DB, ERRORS, MnQuery, ScopeDep
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
