"""The demo's history: the last days of every demo station, computed by the simulators
and written through the real storage path, then judged by the rules engine, so that
rates, trends, alarms and cases mean something in the demo's first minute
(docs/console.md §7).

Each station's hourly (2061) and daily (2031) uploads are what its simulated logger
would have sent (simulators/records.py, from the timebase): encoded as frames, cut and
decoded by the protocol package, archived with their exact hash chain and their
measurements by storage/frame_batch.py in batches, as the gateway stores them, each
received half a minute after its hour. Then the rules engine runs over them in one
pass (services/rules_runner.py). A few faults on purpose:

* ``exceedance``: the first CEMS's SO2 at 3 x its limit for two hours, two days ago;
* ``outage``: the first water station silent for 8 hours three days ago, back after;
* ``offline``: an extra station silent since 5 hours ago (an outage case open now);
* ``stopped``: an extra water station that went silent yesterday and came back
  reporting F with no flow (the outage case of docs/console.md §6).

Stations that already have frames are left alone: a second ``hj212 demo`` on the same
database adds no history.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import psycopg

from config.rules import RulesSettings
from protocol import Framer, Message, RawFrame, decode, format_time
from protocol.codes import Cn
from services.rules_runner import RulesRunner
from simulators import records
from simulators.models import Station as SimStation
from simulators.records import Record
from simulators.scenario import Fault
from simulators.wire import encode_record
from storage import frame_batch, rules_store, stations
from storage.records import FrameRecord, record_of

HOUR, DAY = 3600, 86400
STEP = 300  # seconds between the samples an hour's statistics are made of
BATCH = 1000


@dataclass(frozen=True)
class Plan:
    """One station's history: its silent windows (absolute seconds), and from when it
    reports its plant stopped (flag F, no flow), if it does."""

    station: SimStation
    silent: tuple[tuple[int, int], ...] = ()
    stopped_from: int | None = None


@dataclass(frozen=True)
class Written:
    stations: int
    frames: int
    rows: int
    alarms: int
    case_events: int


def plans(fleet: list[SimStation], extra: dict[str, SimStation], now: int) -> list[Plan]:
    """The fleet's histories with the faults on purpose (module docstring)."""
    day = now - now % HOUR
    out: list[Plan] = []
    first_gas = next((s for s in fleet if s.model.medium == "gas"), None)
    first_water = next((s for s in fleet if s.model.name == "water"), None)
    for s in fleet:
        station = s
        if s is first_gas:
            at = day - 2 * DAY - (day % DAY) + 10 * HOUR - 8 * HOUR  # 10:00 Beijing
            fault = replace(
                Fault("exceedance", 0, 2 * HOUR, pollutants=frozenset({"a21026"}), factor=3.0),
                begin=at,
                end=at + 2 * HOUR,
            )
            station = replace(s, faults=(*s.faults, fault))
        silent = ((day - 3 * DAY, day - 3 * DAY + 8 * HOUR),) if s is first_water else ()
        out.append(Plan(station, silent))
    if "offline" in extra:
        out.append(Plan(extra["offline"], ((now - 5 * HOUR, now + DAY),)))
    if "stopped" in extra:
        gone = day - 20 * HOUR
        out.append(Plan(extra["stopped"], ((gone, gone + 8 * HOUR),), stopped_from=gone))
    return out


def _uploads(plan: Plan, start: int, now: int) -> Iterator[Record]:
    """The 2061 of every ended hour and the 2031 of every ended day, outside the silent
    windows (a silent logger sends nothing; the live demo takes over from now)."""
    station = plan.station
    for t in range(start, now - HOUR + 1, HOUR):
        if any(a <= t < b for a, b in plan.silent):
            continue
        values = records.period(station, t, HOUR, STEP)
        if plan.stopped_from is not None and t >= plan.stopped_from:
            values = _stopped(values, station)
        yield Record(Cn.HOURLY, t, t, values, seconds=HOUR, station=station)
        if (t + HOUR - 16 * HOUR) % DAY == 0 and t + HOUR - DAY >= start:  # a Beijing midnight
            day = t + HOUR - DAY
            daily = records.period(station, day, DAY, STEP)
            yield Record(Cn.DAILY, day, day, daily, seconds=DAY, station=station)


def _stopped(values: records.Values, station: SimStation) -> records.Values:
    """The plant stopped: every factor flagged F, the flow (and its volume) 0."""
    out: records.Values = {}
    for code, fields in values.items():
        changed = {**fields, "Flag": "F"}
        if code == station.model.flow:
            changed |= {"Min": 0.0, "Avg": 0.0, "Max": 0.0, "Cou": 0.0}
        elif "Cou" in changed:
            changed["Cou"] = 0.0
        out[code] = changed
    return out


def _frames(plan: Plan, start: int, now: int) -> Iterator[FrameRecord]:
    station, framer = plan.station, Framer()
    for n, record in enumerate(_uploads(plan, start, now)):
        received = datetime.fromtimestamp(record.t + record.seconds + 30, UTC)
        qn = format_time(received)[:14] + f"{n % 1000:03d}"
        for raw in encode_record(station, station.password, record, qn, ack=False):
            for cut in framer.feed(raw):
                if not isinstance(cut, RawFrame):
                    continue
                message = decode(cut)
                if isinstance(message, Message):
                    yield record_of(message, received_at=received, peer="demo-history",
                                    transport="history")  # fmt: skip


async def _store(dsn: str, batches: Iterator[list[FrameRecord]]) -> tuple[int, int]:
    frames = rows = 0
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        await frame_batch.prepare(conn)
        for batch in batches:
            statuses, new_rows = await frame_batch.write(conn, batch)
            frames += sum(s in frame_batch.ACCEPTED for s in statuses)
            rows += new_rows
    return frames, rows


def _in_thread(dsn: str, batches: Iterator[list[FrameRecord]]) -> tuple[int, int]:
    """The async writes on a loop of their own, in a thread: the caller may be running
    one already (a browser test's fixture, say)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, _store(dsn, batches)).result()


def _batched(items: Iterator[FrameRecord]) -> Iterator[list[FrameRecord]]:
    batch: list[FrameRecord] = []
    for item in items:
        batch.append(item)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _fresh(dsn: str, mns: list[str]) -> set[str]:
    """The stations with no frame stored yet."""
    with psycopg.connect(dsn) as conn:
        return set(mns) - stations.with_frames(conn, mns)


def write_history(
    dsn: str,
    chosen: list[Plan],
    now: datetime,
    days: int,
    rules: RulesSettings | None = None,
) -> Written:
    """Store ``days`` days of history for the planned stations that have none, then run
    the rules engine over it (only on a database whose engine has not started yet: it
    begins where the history begins)."""
    end = int(now.timestamp())
    start = end - end % HOUR - days * DAY
    fresh = _fresh(dsn, [p.station.mn for p in chosen])
    todo = [p for p in chosen if p.station.mn in fresh]

    def every() -> Iterator[FrameRecord]:
        for plan in todo:
            yield from _frames(plan, start, end)

    frames, rows = _in_thread(dsn, _batched(every())) if todo else (0, 0)
    alarms = events = 0
    with psycopg.connect(dsn, autocommit=True) as conn:
        stations.heads_from_frames(conn, [p.station.mn for p in todo])
        runner = RulesRunner(conn, rules)
        if todo and rules_store.load_cursor(conn) is None:
            runner.start(datetime.fromtimestamp(start, UTC))
            settle = (rules or RulesSettings()).settle_s
            result = runner.step(now - timedelta(seconds=settle))
            alarms, events = result.written.alarms, result.written.case_events
    return Written(len(todo), frames, rows, alarms, events)
