"""Builders for the rules tests: stations, records, marks, and a way to run an engine."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from protocol import BEIJING
from rules.config import RulesConfig, Ruleset
from rules.engine import Engine
from rules.filings import Filing
from rules.model import (
    Alarm,
    CaseEvent,
    Clear,
    Mark,
    Output,
    PollutantConfig,
    Reading,
    Record,
    StationInfo,
)

START = datetime(2026, 10, 1, 0, 0, tzinfo=BEIJING)
H = timedelta(hours=1)

Value = float | tuple[float, str] | Reading


def gas_station(mn: str = "GAS0001", **changes: object) -> StationInfo:
    base: dict[str, object] = {
        "mn": mn,
        "medium": "gas",
        "region_code": "420100",
        "enterprise": "E1",
        "o2_ref": 6.0,
        "created_at": START - timedelta(days=30),
        "pollutants": {
            "a21026": PollutantConfig("a21026", True, 35.0, "hour", 0.0, 200.0),
            "a21002": PollutantConfig("a21002", True, 50.0, "hour", 0.0, 500.0),
            "a34013": PollutantConfig("a34013", True, 10.0, "hour", 0.0, 50.0),
            "a19001": PollutantConfig("a19001", False, None, None, 0.0, 25.0),
            "a00000": PollutantConfig("a00000", False, None, None, 0.0, 300.0),
        },
    }
    base.update(changes)
    return StationInfo(**base)  # type: ignore[arg-type]


def water_station(mn: str = "WAT0001", **changes: object) -> StationInfo:
    base: dict[str, object] = {
        "mn": mn,
        "medium": "water",
        "region_code": "420100",
        "enterprise": "E2",
        "created_at": START - timedelta(days=30),
        "pollutants": {
            "w01018": PollutantConfig("w01018", True, 50.0, "day", 0.0, 500.0),
            "w21003": PollutantConfig("w21003", True, 5.0, "day", 0.0, 50.0),
            "w21011": PollutantConfig("w21011", True, 0.5, "day", 0.0, 5.0),
            "w21001": PollutantConfig("w21001", True, 15.0, "day", 0.0, 100.0),
            "w00000": PollutantConfig("w00000", False, None, None, 0.0, 100.0),
        },
    }
    base.update(changes)
    return StationInfo(**base)  # type: ignore[arg-type]


def reading(value: Value, cn: str = "2061") -> Reading:
    if isinstance(value, Reading):
        return value
    number, flag = value if isinstance(value, tuple) else (value, "N")
    if cn == "2011":
        return Reading(rtd=number, flag=flag)
    return Reading(avg=number, min=number, max=number, flag=flag)


def record(
    mn: str,
    data_time: datetime,
    values: Mapping[str, Value],
    *,
    cn: str = "2061",
    received: datetime | None = None,
    duplicate: bool = False,
) -> Record:
    """A record received at the end of its period (plus 5 s) unless told otherwise."""
    period = {"2061": H, "2051": timedelta(minutes=10), "2031": timedelta(days=1)}
    if received is None:
        received = data_time + period.get(cn, timedelta()) + timedelta(seconds=5)
    readings = {code: reading(v, cn) for code, v in values.items()}
    return Record(mn, cn, received, data_time, readings, duplicate=duplicate)


GOOD_GAS = {"a21026": 20.0, "a21002": 30.0, "a34013": 4.0, "a19001": 9.0, "a00000": 40.0}
GOOD_WATER = {"w01018": 30.0, "w21003": 2.0, "w21011": 0.3, "w21001": 10.0, "w00000": 10.0}


def mark(
    mn: str,
    start: datetime,
    end: datetime,
    category: str,
    *,
    pollutant: str | None = None,
    ident: int = 1,
    marked_at: datetime | None = None,
    invalidates: bool = True,
) -> Mark:
    return Mark(ident, mn, pollutant, start, end, category, invalidates, marked_at or start)


def engine(*stations: StationInfo, start: datetime = START, **cfg: object) -> Engine:
    return Engine(Ruleset(RulesConfig(**cfg)), origin=start, stations=stations)  # type: ignore[arg-type]


def run(engine: Engine, inputs: Iterable[Record | Mark | Filing], until: datetime) -> list[Output]:
    out: list[Output] = []
    for item in inputs:
        if isinstance(item, Filing):
            out += engine.on_filing(item)
        else:
            out += engine.on_mark(item) if isinstance(item, Mark) else engine.on_record(item)
    return out + engine.tick(until)


def alarms(outputs: Iterable[Output], kind: str | None = None) -> list[Alarm]:
    return [o for o in outputs if isinstance(o, Alarm) and (kind is None or o.kind == kind)]


def clears(outputs: Iterable[Output]) -> list[Clear]:
    return [o for o in outputs if isinstance(o, Clear)]


def case_events(outputs: Iterable[Output]) -> list[CaseEvent]:
    return [o for o in outputs if isinstance(o, CaseEvent)]


def varied(base: Mapping[str, float], h: int) -> dict[str, float]:
    """``base`` with a gentle deterministic wobble, so that no series looks stuck (A7)."""
    wobble = ((h * 37) % 11 - 5) / 100  # -5 % .. +5 %
    return {code: round(value * (1 + wobble), 2) for code, value in base.items()}


def hourly(
    station: StationInfo, hours: Iterable[int], start: datetime = START, **override: Value
) -> list[Record]:
    """Hourly (2061) records of plausible data for the given hour offsets."""
    base = GOOD_GAS if station.medium == "gas" else GOOD_WATER
    out = []
    for h in hours:
        values: dict[str, Value] = dict(varied(base, h))
        values.update(override)
        out.append(record(station.mn, start + h * H, values))
    return out
