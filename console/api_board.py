"""The duty board (overview), the grouped alarm inbox with bulk acknowledgement, and
the names every page shows in place of codes (docs/console.md §2-§4)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import AfterValidator, BaseModel, Field

from config import regions
from console.deps import DB, ERRORS, ActorDep, CtxDep, MnQuery, ScopeDep, Text
from protocol import BEIJING
from protocol.pollutants import FACTORS
from reports import names
from rules.lifecycle import LifecycleError
from rules.transmission import Tally, below
from services.figures import figures
from storage import alarm_inbox
from storage import alarms as alarm_store
from storage import console_queries as q

router = APIRouter(prefix="/api", responses=ERRORS)
Row = dict[str, Any]
State = Literal["open", "acknowledged", "resolved", "closed", "active"]


@router.get("/names", summary="Chinese and English names of alarm kinds, states, regions")
def names_table(conn: DB, scope: ScopeDep, ctx: CtxDep) -> Row:
    """The console's one table of names (reports/names.py): every region of the visible
    stations with its province and city, every factor of HJ 212-2017 Appendix B."""
    rows = q.station_statuses(conn, ctx.clock(), scope.region_prefix, scope.enterprise)
    codes = {r.code for s in rows for r in regions.chain(s.region_code)}
    factors = set(FACTORS)
    return {
        **{k: {c: list(v) for c, v in t.items()} for k, t in names.TABLES.items()},
        "regions": {c: {"name": regions.regions()[c].name, "full": names.region(c)} for c in codes},
        "factors": names.factors(factors),
    }


def _tree(rows: list[q.StationStatus]) -> list[Row]:
    """Counts per city and, inside it, per county (the region tree the user narrows)."""
    cities: dict[str, Row] = {}
    for s in rows:
        city = s.region_code[:4].ljust(6, "0")
        for code, parent in ((city, None), (s.region_code, city)):
            at = cities if parent is None else cities[city]["children"]
            node = at.setdefault(
                code,
                {
                    "code": code,
                    "name": names.region(code),
                    "stations": 0,
                    "online": 0,
                    "offline": 0,
                    "alarms": 0,
                    "overdue": 0,
                    "children": {},
                },
            )
            node["stations"] += 1
            node["online" if s.online else "offline"] += 1
            node["alarms"] += s.open_alarms
            node["overdue"] += s.overdue_cases
    return [
        {**c, "children": sorted(c["children"].values(), key=lambda n: n["code"])}
        for c in sorted(cities.values(), key=lambda n: n["code"])
    ]


def _etr(conn: DB, scope: Any, ctx: Any, start: datetime, now: datetime) -> Row:
    """The effective transmission rate of every visible station together, and whether it
    passes the base threshold (rules.transmission.below: 大于 or 不低于 per config)."""
    found = figures(
        conn, start, now, now=now, ruleset=ctx.ruleset,
        region=scope.region_prefix, enterprise=scope.enterprise, emissions=False,
    )  # fmt: skip
    total = sum((s.rate() for s in found.stations), Tally()).completion
    base = ctx.ruleset.base
    return {
        "etr": total.etr,
        "passes": not below(total, base.etr_threshold, strict=base.etr_strict),
    }


@router.get("/board", summary="The duty board: region tree, offline stations, alarms, cases")
def board(
    conn: DB,
    scope: ScopeDep,
    ctx: CtxDep,
    region: Annotated[str, Query(pattern=r"^[0-9]{0,6}$")] = "",
) -> Row:
    """What needs action first: offline stations (longest silent first), alarms by
    severity and state, open cases by their next deadline; today's and this month's
    effective transmission rate against the threshold (services/figures.py)."""
    now = ctx.clock()
    narrowed = scope.region_prefix if len(scope.region_prefix) > len(region) else region
    if not narrowed.startswith(scope.region_prefix):
        raise HTTPException(404, "not found")
    rows = q.station_statuses(conn, now, narrowed, scope.enterprise)
    offline = sorted(
        (s for s in rows if not s.online),
        key=lambda s: (s.last_frame is not None, s.last_frame or now),
    )
    groups, totals = alarm_inbox.groups(
        conn,
        alarm_inbox.Filters(region=narrowed),
        scope.region_prefix,
        scope.enterprise,
        limit=8,
    )
    counts = _alarm_counts(conn, narrowed, scope)
    cases = q.cases(conn, narrowed, scope.enterprise, None, "open", 500)
    due = sorted(cases, key=_next_due)
    day = now.astimezone(BEIJING).replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        "now": now.astimezone(BEIJING),
        "region": narrowed,
        "tree": _tree(rows),
        "stations": {
            "total": len(rows),
            "online": len(rows) - len(offline),
            "offline": len(offline),
        },
        "offline": [
            {
                "mn": s.mn,
                "name": s.name,
                "region": names.region(s.region_code),
                "last_frame": s.last_frame,
                "refused": s.refused,
            }
            for s in offline[:20]
        ],
        "alarms": counts,
        "alarm_groups": [asdict(g) for g in groups],
        "alarm_totals": totals,
        "cases": [
            {
                **asdict(c),
                "station": _name(rows, c.mn),
                "next_due": _next_due(c),
            }
            for c in due[:10]
        ],
        "etr_today": _etr(conn, scope, ctx, day, now),
        "etr_month": _etr(conn, scope, ctx, day.replace(day=1), now),
        "threshold": ctx.ruleset.base.etr_threshold,
    }


_FAR = datetime(9000, 1, 1, tzinfo=BEIJING)


def _next_due(c: q.Case) -> datetime:
    return min(d or _FAR for d in (c.report_due, c.restore_due))


def _name(rows: list[q.StationStatus], mn: str) -> str:
    return next((s.name for s in rows if s.mn == mn), mn)


def _alarm_counts(conn: DB, region: str, scope: Any) -> dict[str, int]:
    """Alarms open / acknowledged by severity (the board's counters)."""
    out: dict[str, int] = defaultdict(int)
    for state in ("open", "acknowledged"):
        f = alarm_inbox.Filters(states=(state,), region=region)
        for severity in ("critical", "warning"):
            f2 = alarm_inbox.Filters(states=(state,), region=region, severity=severity)
            _, t = alarm_inbox.groups(conn, f2, scope.region_prefix, scope.enterprise, limit=1)
            out[f"{state}:{severity}"] = t["alarms"]
        _, t = alarm_inbox.groups(conn, f, scope.region_prefix, scope.enterprise, limit=1)
        out[state] = t["alarms"]
    return dict(out)


@router.get("/alarm-groups", summary="Alarms grouped by station and kind, filtered, paged")
def alarm_groups(
    conn: DB,
    scope: ScopeDep,
    state: State = "active",
    region: Annotated[str, Query(pattern=r"^[0-9]{0,6}$")] = "",
    kind: Annotated[str | None, Query(max_length=64)] = None,
    severity: Literal["critical", "warning", "info"] | None = None,
    mn: MnQuery = None,
    since: datetime | None = None,
    until: datetime | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=200)] = 25,
) -> Row:
    states = ("open", "acknowledged") if state == "active" else (state,)
    f = alarm_inbox.Filters(states, region, kind, severity, mn, since, until)
    page, totals = alarm_inbox.groups(
        conn, f, scope.region_prefix, scope.enterprise, offset=offset, limit=limit
    )
    return {"groups": [asdict(g) for g in page], "totals": totals, "offset": offset, "limit": limit}


def _said(note: str) -> str:
    if not note.strip():
        raise ValueError("a note is required: say what was seen or done")
    return note.strip()


class Bulk(BaseModel):
    ids: list[int] = Field(min_length=1, max_length=1000)
    # a note is required: the acknowledgement says what the operator saw or did
    note: Annotated[Text, AfterValidator(_said)] = Field(min_length=1, max_length=2000)


@router.post("/alarms/ack", summary="Acknowledge many alarms with one note (each audited)")
def bulk_ack(body: Bulk, conn: DB, scope: ScopeDep, user: ActorDep) -> Row:
    """Every visible open alarm of ``ids`` acknowledged, each with its own lifecycle step
    and audit entry (storage/alarms.py ``act``); the others are listed as skipped."""
    mine = alarm_inbox.visible_ids(conn, body.ids, scope.region_prefix, scope.enterprise)
    done: list[int] = []
    skipped: list[int] = [i for i in body.ids if i not in set(mine)]
    for alarm_id in mine:
        try:
            alarm_store.act(conn, alarm_id, "ack", user.name, body.note)
            done.append(alarm_id)
        except LifecycleError:
            skipped.append(alarm_id)
    return {"acknowledged": done, "skipped": sorted(skipped)}
