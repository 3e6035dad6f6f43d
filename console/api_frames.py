"""The raw archive's findings (issue 20, docs/protocol.md §16): which stations bend the
standard how (the deviations stored with each frame) and what a station's answers and
event uploads said (``hj212.device_event``). Every route sees only the user's
jurisdiction; frames of MNs outside the registry only a user without one."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query

from console.deps import DB, ERRORS, CtxDep, ScopeDep, StationDep, UserDep, on_async
from protocol import BEIJING
from storage import console_queries as q
from storage.deviations import by_station
from storage.device_events import events

router = APIRouter(prefix="/api", responses=ERRORS)
Row = dict[str, Any]
MAX_WINDOW = timedelta(days=93)  # a quarter: the window is read through its chunks


def _window(since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    """The window asked for (default the last 7 days), at most MAX_WINDOW long (its
    start moved up); a window that ends before it starts is empty."""
    until = _aware(until) if until else datetime.now(UTC)
    since = _aware(since) if since else until - timedelta(days=7)
    return max(since, until - MAX_WINDOW), until


def _aware(moment: datetime) -> datetime:
    """A time without an offset is Beijing time, as everywhere a person types one."""
    return moment.replace(tzinfo=BEIJING) if moment.tzinfo is None else moment


@router.get("/deviations", summary="Per station, the frames that bent the standard, by deviation")
async def deviations(
    conn: DB,
    ctx: CtxDep,
    scope: ScopeDep,
    user: UserDep,
    since: datetime | None = None,
    until: datetime | None = None,
    kind: Annotated[str | None, Query(max_length=64, pattern=r"^[a-z0-9:-]+$")] = None,
) -> list[Row]:
    start, end = _window(since, until)
    found = await on_async(ctx, by_station, start, end, kind=kind)
    names = q.visible_names(
        conn, {c.mn for c in found if c.mn}, scope.region_prefix, scope.enterprise
    )
    everything = scope.region_prefix == "" and scope.enterprise is None
    return [
        {**asdict(c), "name": names.get(c.mn or "")} for c in found if c.mn in names or everything
    ]


@router.get("/stations/{mn}/events", summary="What a station's answers and event uploads said")
async def device_events(
    mn: StationDep,
    ctx: CtxDep,
    user: UserDep,
    since: datetime | None = None,
    until: datetime | None = None,
    kind: Annotated[str | None, Query(max_length=32, pattern=r"^[a-z-]+$")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[Row]:
    start, end = _window(since, until)
    return [asdict(e) for e in await on_async(ctx, events, mn, start, end, kind=kind, limit=limit)]
