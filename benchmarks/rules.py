"""Rules benchmark: cost per frame, and per periodic evaluation of 10,000 stations.

A whole run, not a test. 10,000 registered gas stations (SO2, NOx, PM assessed, plus O2
and flow), each sending real-time data (2011) and hourly data (2061):

* **per frame**: ``Engine.on_record`` for real-time and for hourly records, the time
  including everything the engine does with them (liveness, timing and consistency
  checks, runs, accumulation);
* **per periodic evaluation**: ``Engine.tick`` past H + 1 h + grace, when every station's
  hour is judged (statuses, rates, exceedance, anomaly windows, A2, timing), once an
  hour; and at a Beijing midnight, when days close too;
* **state**: JSON per station (size, dump and load time), what each step persists;
* with ``--dsn``: one engine step against the database for all stations (hourly data
  read back, hour judged, 10,000 states saved), what the live loop pays once an hour.

    .venv/bin/python -m benchmarks.rules [--stations 10000] [--hours 3] [--dsn DSN]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from datetime import datetime, timedelta

from protocol import BEIJING
from protocol.codes import Cn
from rules.config import Ruleset
from rules.engine import Engine
from rules.model import PollutantConfig, Reading, Record, StationInfo
from rules.state import StationState

START = datetime(2026, 10, 1, tzinfo=BEIJING)
H = timedelta(hours=1)
POLLUTANTS = {
    "a21026": PollutantConfig("a21026", True, 35.0, "hour", 0.0, 200.0),
    "a21002": PollutantConfig("a21002", True, 50.0, "hour", 0.0, 500.0),
    "a34013": PollutantConfig("a34013", True, 10.0, "hour", 0.0, 50.0),
    "a19001": PollutantConfig("a19001", False, None, None, 0.0, 25.0),
    "a00000": PollutantConfig("a00000", False, None, None, 0.0, 300.0),
}
BASE = {"a21026": 20.0, "a21002": 30.0, "a34013": 4.0, "a19001": 9.0, "a00000": 40.0}


def stations(n: int) -> list[StationInfo]:
    return [
        StationInfo(
            f"BENCH{i:019d}",
            "gas",
            "420100",
            f"S{i}",
            f"E{i // 10}",
            6.0,
            1800,  # RtdInterval: the two real-time records an hour below
            created_at=START - timedelta(days=1),
            pollutants=POLLUTANTS,
        )
        for i in range(n)
    ]


def values(i: int, h: int) -> dict[str, float]:
    wobble = 1 + ((i * 7 + h * 13) % 11 - 5) / 100
    return {code: round(v * wobble, 2) for code, v in BASE.items()}


def realtime(mn: str, i: int, at: datetime) -> Record:
    readings = {c: Reading(rtd=v, flag="N") for c, v in values(i, at.minute).items()}
    return Record(mn, Cn.REALTIME, at + timedelta(seconds=1), at, readings)


def hourly(mn: str, i: int, hour: datetime) -> Record:
    readings = {c: Reading(avg=v, min=v, max=v, flag="N") for c, v in values(i, hour.hour).items()}
    return Record(mn, Cn.HOURLY, hour + H + timedelta(seconds=5 + i % 50), hour, readings)


def timed(label: str, fn: object, count: int) -> float:
    start = time.perf_counter()
    fn()  # type: ignore[operator]
    elapsed = time.perf_counter() - start
    print(f"{label}: {elapsed * 1e3:.1f} ms for {count:,} = {elapsed / count * 1e6:.2f} µs each")
    return elapsed


def run(n: int, hours: int) -> Engine:
    infos = stations(n)
    engine = Engine(Ruleset(), origin=START, stations=infos)
    per_rt: list[float] = []
    per_hour: list[float] = []
    ticks: list[float] = []
    for h in range(hours):
        hour = START + h * H
        # two real-time records per station inside the hour (RtdInterval 30 min here: the
        # cost per record does not depend on the interval), then the hourly one at H + 1 h
        for minute in (10, 40):
            batch = [
                realtime(s.mn, i, hour + timedelta(minutes=minute)) for i, s in enumerate(infos)
            ]
            start = time.perf_counter()
            for record in batch:
                engine.on_record(record)
            per_rt.append((time.perf_counter() - start) / len(batch))
        batch = [hourly(s.mn, i, hour) for i, s in enumerate(infos)]
        start = time.perf_counter()
        for record in batch:
            engine.on_record(record)
        per_hour.append((time.perf_counter() - start) / len(batch))
        # the periodic evaluation: every station's hour judged
        start = time.perf_counter()
        out = engine.tick(hour + H + timedelta(minutes=11))
        ticks.append(time.perf_counter() - start)
        print(f"hour {h}: judged {n:,} stations in {ticks[-1] * 1e3:.0f} ms, {len(out)} outputs")
    print(
        f"on_record, real-time (2011): {statistics.median(per_rt) * 1e6:.1f} µs per frame (median of {len(per_rt)} rounds)"
    )
    print(f"on_record, hourly (2061):    {statistics.median(per_hour) * 1e6:.1f} µs per frame")
    print(
        f"hour evaluation of {n:,} stations: median {statistics.median(ticks) * 1e3:.0f} ms = "
        f"{statistics.median(ticks) / n * 1e6:.1f} µs per station"
    )
    return engine


def midnight(engine: Engine, n: int) -> None:
    """Run to the next midnight with hourly data, time the evaluation that closes the day."""
    infos = list(engine.stations.values())
    day_end = START + timedelta(days=1)
    hour = START
    while hour + H < day_end:
        for i, s in enumerate(infos):
            engine.on_record(hourly(s.mn, i, hour))
        hour += H
    engine.tick(day_end - timedelta(minutes=50))
    for i, s in enumerate(infos):
        engine.on_record(hourly(s.mn, i, hour))
    start = time.perf_counter()
    out = engine.tick(day_end + timedelta(minutes=11))
    took = time.perf_counter() - start
    print(
        f"midnight evaluation (hour + day + rates) of {n:,} stations: {took * 1e3:.0f} ms, "
        f"{len(out)} outputs"
    )


def state(engine: Engine) -> None:
    start = time.perf_counter()
    dumped = engine.dump()
    took = time.perf_counter() - start
    sizes = [len(text) for text in dumped.values()]
    print(
        f"state: {statistics.median(sizes):,.0f} bytes of JSON per station (median), "
        f"{sum(sizes) / 1e6:.1f} MB in all; dump {took / len(sizes) * 1e6:.1f} µs per station"
    )
    start = time.perf_counter()
    for text in dumped.values():
        StationState.from_json(text)
    took = time.perf_counter() - start
    print(f"state: load {took / len(sizes) * 1e6:.1f} µs per station")


def database(dsn: str, n: int) -> None:
    """One live step over an hour of hourly data for every station, against ``dsn``."""
    import asyncio

    import psycopg

    from services.rules_runner import RulesRunner
    from services.writer import Writer
    from storage import stations as registry
    from storage.records import FrameRecord, MeasurementRow

    infos = stations(n)
    with psycopg.connect(dsn) as conn:
        registry.upsert(
            conn,
            [
                registry.Station(
                    s.mn,
                    s.name,
                    "gas",
                    s.region_code,
                    enterprise=s.enterprise,
                    o2_ref=6.0,
                    monitored_since=s.created_at,
                    pollutants=tuple(
                        registry.Pollutant(
                            p.code, p.assessed, p.limit, p.limit_period, p.range_low, p.range_high
                        )
                        for p in POLLUTANTS.values()
                    ),
                )
                for s in infos
            ],
        )

    def frame(record: Record) -> FrameRecord:
        assert record.data_time is not None
        at = record.data_time
        rows = [
            MeasurementRow(
                at,
                record.mn,
                record.cn,
                c,
                (None, r.min, r.avg, r.max, None, None, None, None, None),
                "N",
                None,
            )
            for c, r in record.readings.items()
        ]
        return FrameRecord(
            record.received_at,
            "bench",
            "tcp",
            f"{record.mn}{record.data_time}".encode(),
            "ok",
            mn=record.mn,
            cn=record.cn,
            flag=5,
            measurements=rows,
        )

    async def write(records: list[Record]) -> None:
        writer = Writer(dsn, max_batch=2000)
        task = asyncio.create_task(writer.run())
        await asyncio.gather(*(writer.submit(frame(r)) for r in records))
        task.cancel()

    asyncio.run(write([hourly(s.mn, i, START) for i, s in enumerate(infos)]))
    with psycopg.connect(dsn, autocommit=True) as conn:
        runner = RulesRunner(conn)
        start = time.perf_counter()
        runner.start(START)
        print(
            f"db: start (registry, {n:,} new states saved, first snapshot): "
            f"{(time.perf_counter() - start) * 1e3:.0f} ms"
        )
        start = time.perf_counter()
        result = runner.step(START + H + timedelta(minutes=11))
        took = time.perf_counter() - start
        print(
            f"db: one step, {result.records:,} hourly frames read and the hour judged, "
            f"{result.saved_states:,} states saved: {took * 1e3:.0f} ms"
        )
        start = time.perf_counter()
        result = runner.step(START + H + timedelta(minutes=11, seconds=5))
        print(f"db: an idle step (nothing new): {(time.perf_counter() - start) * 1e3:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stations", type=int, default=10_000)
    parser.add_argument("--hours", type=int, default=3)
    parser.add_argument("--dsn", help="also time one live step against this (empty) database")
    args = parser.parse_args()
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"CPython {platform.python_version()}, {platform.platform()}"
    )
    engine = run(args.stations, args.hours)
    state(engine)
    midnight(Engine(Ruleset(), origin=START, stations=stations(args.stations)), args.stations)
    if args.dsn:
        database(args.dsn, args.stations)


if __name__ == "__main__":
    main()
