"""Alarms and cases (acknowledge, resolve, note), transmission rates and emissions,
command state and the audit log. Writes need the administrator or operator role."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from console.auth import CAN_ADMIN, Scope, scope_of
from console.deps import (
    DB,
    ERRORS,
    NO_NUL,
    ActorDep,
    CtxDep,
    MnQuery,
    ScopeDep,
    StationDep,
    Text,
    UserDep,
    on_async,
)
from protocol import BEIJING
from rules.lifecycle import LifecycleError
from rules.transmission import Tally, below
from services.figures import figures
from storage import alarms as alarm_store
from storage import commands as command_store
from storage import console_queries as q
from storage import marks as mark_store

router = APIRouter(prefix="/api", responses=ERRORS)
Row = dict[str, Any]


def _now() -> datetime:
    return datetime.now(UTC)


def _visible_mn(conn: DB, mn: str | None, scope: Scope) -> str:
    if mn is None or not q.visible(conn, mn, scope.region_prefix, scope.enterprise):
        raise HTTPException(404, "not found")
    return mn


@router.get("/alarms", summary="Alarms in your jurisdiction, newest first")
def alarms(
    conn: DB,
    scope: ScopeDep,
    state: Literal["open", "acknowledged", "resolved", "closed", "active", "all"] | None = "active",
    mn: MnQuery = None,
    kind: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[Row]:
    """``active``: open and acknowledged; ``all``: every state (a station's history)."""
    states = {"active": ("open", "acknowledged"), "all": (None,)}.get(state or "", (state,))
    rows = [
        a
        for wanted in states
        for a in alarm_store.list_alarms(
            conn, state=wanted, mn=mn, kind=kind, region=scope.region_prefix, limit=limit
        )
    ]
    names = q.visible_names(conn, {a.mn for a in rows}, scope.region_prefix, scope.enterprise)
    rows.sort(key=lambda a: (a.raised_at, a.id), reverse=True)
    return [{**asdict(a), "station": names[a.mn]} for a in rows if a.mn in names][:limit]


class Note(BaseModel):
    note: Text = Field(default="", max_length=2000)


@router.post("/alarms/{alarm_id}/{action}", summary="Acknowledge, resolve or close an alarm")
def act(
    alarm_id: int,
    action: Literal["ack", "resolve", "close"],
    body: Note,
    conn: DB,
    scope: ScopeDep,
    user: ActorDep,
) -> Row:
    found = alarm_store.get_alarm(conn, alarm_id)
    _visible_mn(conn, found.mn if found else None, scope)
    try:
        row = alarm_store.act(conn, alarm_id, action, user.name, body.note)
    except LifecycleError as exc:
        raise HTTPException(409, str(exc)) from None
    return asdict(row)


@router.get("/alarms/{alarm_id}/history", summary="Every lifecycle step of an alarm")
def alarm_history(alarm_id: int, conn: DB, scope: ScopeDep) -> list[Row]:
    found = alarm_store.get_alarm(conn, alarm_id)
    _visible_mn(conn, found.mn if found else None, scope)
    return [asdict(a) for a in alarm_store.history(conn, alarm_id)]


@router.get("/cases", summary="Cases with their deadlines")
def cases(
    conn: DB,
    scope: ScopeDep,
    state: Literal["open", "closed"] | None = "open",
    mn: MnQuery = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[Row]:
    rows = q.cases(conn, scope.region_prefix, scope.enterprise, mn, state, limit)
    return [asdict(c) for c in rows]


@router.post("/cases/{case_id}/notes", summary="Add a note to a case's timeline")
def case_note(case_id: int, body: Note, conn: DB, scope: ScopeDep, user: ActorDep) -> Row:
    _visible_mn(conn, q.case_mn(conn, case_id), scope)
    q.add_case_note(conn, case_id, _now(), user.name, body.note)
    return {"case_id": case_id, "note": body.note}


class Review(BaseModel):
    approve: bool
    note: Text = Field(default="", max_length=2000)


@router.post("/mark-requests/{request_id}/review", summary="Approve or reject a proposed mark")
def review_mark(request_id: int, body: Review, conn: DB, scope: ScopeDep, user: ActorDep) -> Row:
    _visible_mn(conn, q.mark_request_mn(conn, request_id), scope)
    try:
        mark_id = mark_store.review(
            conn, request_id, approve=body.approve, who=user.name, note=body.note
        )
    except mark_store.MarkError as exc:
        raise HTTPException(409, str(exc)) from None
    return {"id": request_id, "approved": body.approve, "data_mark": mark_id}


@router.get("/commands/{command_id}", summary="A command's state and the device's replies")
async def command_state(command_id: int, conn: DB, scope: ScopeDep, ctx: CtxDep) -> Row:
    _visible_mn(conn, q.command_mn(conn, command_id), scope)
    return await on_async(ctx, command_store.state_of, command_id)


def _rate(t: Tally) -> Row:
    c = t.completion
    return {"expected": c.expected, "valid": c.valid, "etr": c.etr, "etr_rt": t.realtime.etr}


_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def _moment(value: datetime) -> datetime:
    """A time of the window: without an offset, Beijing time (as on the command line);
    kept within years 1970-9000 (nothing is stored outside them)."""
    aware = value.replace(tzinfo=BEIJING) if value.tzinfo is None else value
    return min(max(aware, _EARLIEST), _LATEST)


def _window(
    now: datetime, days: int, start: datetime | None, end: datetime | None
) -> tuple[datetime, datetime]:
    """[start, end): given, or the last ``days`` days; at most 92 days from its start.
    A reversed window is an empty one and counts nothing (``counted_to`` says where
    counting ended, so the answer tells what it covers)."""
    last = _moment(end or now)
    first = _moment(start) if start else max(last - timedelta(days=days), _EARLIEST)
    return first, max(first, min(last, first + timedelta(days=92)))


@router.get("/rates", summary="Effective transmission rate per station, with the daily trend")
def rates(
    conn: DB,
    scope: ScopeDep,
    ctx: CtxDep,
    days: Annotated[int, Query(ge=1, le=31)] = 7,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Row:
    """The last ``days`` days, or [start, end) (at most 92 days); either way only the
    hours ended and judged by now count (rules.transmission.counted_window)."""
    ruleset = ctx.ruleset
    now = ctx.clock()
    start, end = _window(now, days, start, end)
    found = figures(
        conn, start, end, now=now, ruleset=ruleset,
        region=scope.region_prefix, enterprise=scope.enterprise, emissions=False,
    )  # fmt: skip
    rows: list[Row] = []
    trend: dict[int, Tally] = {}
    for one in found.stations:
        s, by_day = one.station, one.daily_rates()
        total, strict = one.rate(), one.cfg.etr_strict
        for day, t in by_day.items():
            trend[day] = trend.get(day, Tally()) + t
        rows.append(
            {
                "mn": s.mn,
                "name": s.name,
                "region_code": s.region_code,
                "threshold": one.cfg.etr_threshold,
                # 大于 or 不低于 the threshold, per region (rules.transmission.below)
                "passes": not below(total.completion, one.cfg.etr_threshold, strict=strict),
                **_rate(total),
                "daily": [_rate(t)["etr"] for t in by_day.values()],
            }
        )
    return {
        "start": start.astimezone(BEIJING),
        "end": end.astimezone(BEIJING),
        # the hours counted end here: ended and judged by now, never past the window
        "counted_to": found.counted_to.astimezone(BEIJING),
        "threshold": ruleset.base.etr_threshold,
        "stations": rows,
        "trend": [
            {"day": datetime.fromtimestamp(k / 1e6, BEIJING), **_rate(trend[k])}
            for k in sorted(trend)
        ],
    }


@router.get("/stations/{mn}/emissions", summary="Daily emission amounts (C x V)")
def emissions(
    mn: StationDep,
    conn: DB,
    ctx: CtxDep,
    days: Annotated[int, Query(ge=1, le=31)] = 7,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Row:
    """The last ``days`` days, or [start, end) (at most 92 days), counted as the rates
    are: the hours ended and judged by now (services.figures)."""
    now = ctx.clock()
    start, end = _window(now, days, start, end)
    found = figures(conn, start, end, now=now, ruleset=ctx.ruleset, mns={mn},
                    rates=False)  # fmt: skip
    if not found.stations:
        return {"mn": mn, "factors": {}}
    return {
        "mn": mn,
        "factors": {
            code: [
                {
                    "day": datetime.fromtimestamp(k / 1e6, BEIJING),
                    "computed": t.computed,
                    "device": t.device,
                    "hours": t.hours,
                    "manual_hours": t.manual_hours,  # rules/manual.py
                    "measured": t.measured,  # the rest: docs/corrections.md §3
                    "substituted": t.substituted,
                    "corrected": t.corrected,
                }
                for k, t in sorted(days_of.items())
            ]
            for code, days_of in found.stations[0].emissions.items()
        },
    }


@router.get("/audit", summary="Audit entries of your jurisdiction (administrators, enterprises)")
def audit(
    conn: DB,
    user: UserDep,
    hours: Annotated[float, Query(gt=0, le=24 * 366)] = 24,
    actor: Annotated[Text | None, Query(max_length=64, pattern=NO_NUL)] = None,
    mn: MnQuery = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 200,
) -> list[Row]:
    """An administrator reads the entries of its region, an enterprise those about its
    own stations (without the regulators' client addresses)."""
    if user.role not in CAN_ADMIN and user.role != "enterprise":
        raise HTTPException(403, "administrators and enterprises only")
    scope = scope_of(user)
    end = _now()
    rows = q.audit(
        conn, end - timedelta(hours=hours), end + timedelta(seconds=1), actor, mn, limit,
        scope.region_prefix, scope.enterprise,
    )  # fmt: skip
    if scope.enterprise is None:
        return [asdict(a) for a in rows]
    return [{**asdict(a), "detail": _without_client(a.detail)} for a in rows]


def _without_client(detail: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in detail.items() if k not in ("client", "source")}
