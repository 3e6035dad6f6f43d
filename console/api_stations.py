"""Stations: overview, status, latest values, series with flags and limits, frames,
marks and commands. Every route sees only the user's jurisdiction."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel, Field

from console.api_cases import AttachmentIn, uploads
from console.auth import CAN_ADMIN, CAN_PROPOSE
from console.deps import (
    DB,
    ERRORS,
    ActorDep,
    CtxDep,
    ScopeDep,
    StationDep,
    Text,
    UserDep,
    on_async,
)
from protocol import LocalProtocolError, encode, masking
from rules.config import RulesConfig, Ruleset
from rules.exceedance import gas_value, judge_hour
from rules.model import OXYGEN, Reading, StationInfo
from services.case_forms import check_uploads
from services.corrections import mark_window_refusal
from storage import commands as command_store
from storage import console_queries as q
from storage import marks as mark_store
from storage import queries, rules_inputs
from storage.db import Conn
from storage.stations import key_age

router = APIRouter(prefix="/api", responses=ERRORS)
CN = Literal["2011", "2051", "2061", "2031"]  # real-time, minute, hour, day (Table 9)
Row = dict[str, Any]


def _now() -> datetime:
    return datetime.now(UTC)


@router.get("/overview", summary="Online, offline, alarming and overdue counts by city")
def overview(conn: DB, scope: ScopeDep) -> dict[str, Any]:
    rows = q.station_statuses(conn, _now(), scope.region_prefix, scope.enterprise)
    regions: dict[str, dict[str, int]] = defaultdict(
        lambda: {
            "stations": 0,
            "online": 0,
            "offline": 0,
            "refused": 0,
            "alarming": 0,
            "overdue": 0,
        }
    )
    for s in rows:
        for key in (s.region_code[:4], "total"):
            r = regions[key]
            r["stations"] += 1
            r["online" if s.online else "offline"] += 1
            r["refused"] += s.refused is not None  # offline, though its frames come
            r["alarming"] += s.open_alarms > 0
            r["overdue"] += s.overdue_cases > 0
    total = regions.pop("total", None) or {"stations": 0}
    return {"at": _now(), "total": total, "regions": dict(sorted(regions.items()))}


@router.get(
    "/stations",
    summary="Every station in your jurisdiction with its status",
    response_class=Response,
    responses={200: {"content": {"application/json": {}}, "description": "a list of stations"}},
)
def stations(conn: DB, scope: ScopeDep) -> Response:
    rows = q.station_statuses(conn, _now(), scope.region_prefix, scope.enterprise)
    # Encoded directly: FastAPI's generic encoder took 0.4 s for 10,000 stations
    # (benchmarks/console.py), json.dumps 0.05 s.
    body = json.dumps([asdict(s) for s in rows], default=_iso, ensure_ascii=False)
    return Response(body, media_type="application/json")


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(type(value).__name__)


@router.get("/stations/{mn}", summary="One station: status and limits")
def station(mn: StationDep, conn: DB, scope: ScopeDep) -> Row:
    found = q.station_statuses(conn, _now(), scope.region_prefix, scope.enterprise, mn)
    if not found:
        raise HTTPException(404, "no such station")
    limits = [asdict(x) for x in q.limits(conn, mn)]
    return {**asdict(found[0]), "limits": limits, "key": key_age(conn, mn, _now())}


@router.get("/stations/{mn}/latest", summary="Newest value of each factor, with its flag")
def latest(mn: StationDep, conn: DB, ctx: CtxDep, cn: CN = "2011") -> list[Row]:
    """Each factor's newest value and, where the limit applies to the converted (折算)
    concentration, that value and whether it is over the limit, as the rules judge it."""
    since = _now() - timedelta(days=2)
    found = queries.latest_values(conn, since, [mn], cn)
    station = next(iter(rules_inputs.stations(conn, mn)), None)
    cfg = ctx.ruleset.for_region(station.region_code if station else "")
    return [{**asdict(x), **_judged(x, found, station, cfg)} for x in found]


def _judged(
    value: queries.Latest,
    found: list[queries.Latest],
    station: StationInfo | None,
    cfg: RulesConfig,
) -> Row:
    """The value the exceedance rule compares with the limit (rules.exceedance): for a
    gas hourly limit, C x (21 - O2ref) / (21 - O2) with the O2 of the same record."""
    pollutant = station.pollutants.get(value.pollutant) if station else None
    if station is None or pollutant is None:
        return {"judged": None, "basis": None, "over": None}
    o2 = next((o for o in found if o.pollutant == OXYGEN and o.data_time == value.data_time), None)
    reading = Reading(rtd=value.value, zs_rtd=value.zs_value, flag=value.flag)
    judged = gas_value(reading, o2.value if o2 else None, station.o2_ref, cfg)
    judgement = judge_hour(pollutant, judged, station.medium)
    if judgement is None:
        return {"judged": None, "basis": None, "over": None}
    return {"judged": judgement.value, "basis": judgement.basis, "over": judgement.exceeded}


@router.get("/stations/{mn}/series", summary="Records of one factor with flags and marks")
def series(
    mn: StationDep,
    conn: DB,
    ctx: CtxDep,
    pollutant: Annotated[str, Query(pattern=r"^[A-Za-z0-9]{2,12}$")],
    cn: CN = "2011",
    hours: Annotated[float, Query(gt=0, le=24 * 31)] = 6.0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 2000,
) -> Row:
    end = _now()
    start = end - timedelta(hours=hours)
    pts = q.points(conn, mn, pollutant, cn, start, end, limit)
    lim = next((x for x in q.limits(conn, mn) if x.pollutant == pollutant), None)
    converted = _converted_series(conn, ctx.ruleset, mn, pollutant, cn, (start, end, limit), pts)
    return {
        "mn": mn,
        "pollutant": pollutant,
        "cn": cn,
        "start": start,
        "end": end,
        "limit": lim.emission_limit if lim else None,
        "unit": lim.unit if lim else None,
        "points": [{**asdict(p), "converted": converted.get(p.data_time)} for p in pts],
        "marks": [asdict(m) for m in q.marks(conn, mn, start, end)],
    }


def _converted_series(
    conn: Conn,
    ruleset: Ruleset,
    mn: str,
    pollutant: str,
    cn: str,
    window: tuple[datetime, datetime, int],
    pts: list[q.Point],
) -> dict[datetime, float]:
    """Each point's converted (折算) value where the rules judge the limit on it (a gas
    hourly limit with a reference O2), with the O2 of the same record."""
    station = next(iter(rules_inputs.stations(conn, mn)), None)
    config = station.pollutants.get(pollutant) if station else None
    if station is None or config is None or station.o2_ref is None or not pts:
        return {}
    cfg = ruleset.for_region(station.region_code)
    if judge_hour(config, (0.0, "converted"), station.medium) is None:
        return {}  # no hourly limit judged on the converted value
    o2 = {p.data_time: p.value for p in q.points(conn, mn, OXYGEN, cn, *window)}
    out = {}
    for p in pts:
        judged = gas_value(Reading(rtd=p.value), o2.get(p.data_time), station.o2_ref, cfg)
        if judged is not None and judged[1] == "converted":
            out[p.data_time] = judged[0]
    return out


@router.get("/stations/{mn}/frames", summary="Raw frames of a station in a window")
def frames(
    mn: StationDep,
    conn: DB,
    user: UserDep,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> list[Row]:
    end = end or _now()
    start = start or end - timedelta(hours=1)
    rows = q.recent_frames(conn, mn, start, end, limit)
    # the device's password (and the CRC over it) only for administrators
    admin = user.role in CAN_ADMIN
    return [{**asdict(f), "raw": _text(f.raw if admin else masking.mask(f.raw))} for f in rows]


def _text(raw: bytes) -> str:
    return raw.decode("ascii", "replace").rstrip("\r\n")


@router.get("/stations/{mn}/marks", summary="Data marks in force and mark proposals")
def marks(mn: StationDep, conn: DB, days: Annotated[float, Query(gt=0, le=366)] = 30) -> Row:
    end = _now()
    start, until = end - timedelta(days=days), end + timedelta(days=1)
    return {
        "marks": [asdict(m) for m in q.marks(conn, mn, start, until)],
        "requests": [
            asdict(r) for r in mark_store.list_requests(conn, mn=mn, start=start, end=until)
        ],
    }


class MarkIn(BaseModel):
    start: datetime
    end: datetime
    kind: Literal["shutdown", "maintenance", "calibration", "force-majeure", "other"]
    pollutant: str | None = Field(default=None, pattern=r"^[A-Za-z0-9]{2,12}$")
    reason: Text = Field(min_length=1, max_length=500)
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=10)


@router.post("/stations/{mn}/marks", summary="Propose a mark; a regulator reviews it")
def propose_mark(mn: StationDep, body: MarkIn, conn: DB, user: UserDep, ctx: CtxDep) -> Row:
    if user.role not in CAN_PROPOSE:
        raise HTTPException(403, "this role may only read")
    late = mark_window_refusal(conn, mn, body.start, ctx.clock(), ctx.ruleset)
    if late is not None:  # docs/corrections.md §2: the correction window applies to marks
        raise HTTPException(422, late)
    files = uploads(body.attachments)  # checked as the case forms check theirs
    if errors := check_uploads(files):
        raise HTTPException(422, errors)
    try:
        ident = mark_store.add(
            conn,
            mn=mn,
            start=body.start,
            end=body.end,
            kind=body.kind,
            reason=body.reason,
            who=user.name,
            pollutant=body.pollutant,
            contents=tuple((f.name, f.content) for f in files),
        )
    except mark_store.MarkError as exc:
        raise HTTPException(422, str(exc)) from None
    return {"id": ident, "state": "pending"}


@router.get("/stations/{mn}/commands", summary="Recent commands to a station")
def station_commands(
    mn: StationDep, conn: DB, limit: Annotated[int, Query(ge=1, le=200)] = 20
) -> list[Row]:
    return [asdict(c) for c in q.commands(conn, mn, limit)]


class CommandIn(BaseModel):
    cn: str = Field(pattern=r"^[0-9]{4}$")
    params: dict[Text, Text] = Field(default_factory=dict)
    st: str = Field(default="32", pattern=r"^[0-9]{2}$")


@router.post("/stations/{mn}/commands", summary="Queue a command for the gateway to send")
async def send_command(mn: StationDep, body: CommandIn, user: ActorDep, ctx: CtxDep) -> Row:
    qn = encode.new_qn(_now())
    params: dict[str, object] = dict(body.params)
    try:  # the gateway encodes it again when it sends: refuse what it would refuse
        encode.check_command(body.cn, params)  # in the station's version: 2005 forms too
    except LocalProtocolError as exc:
        raise HTTPException(422, str(exc)) from None
    try:
        ident = await on_async(
            ctx, command_store.queue, mn, body.cn, params, qn, body.st, user.name
        )
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    return {"id": ident, "qn": qn, "state": "queued"}
