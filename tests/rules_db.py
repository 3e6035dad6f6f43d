"""A database of its own for tests of the rules engine and the reports.

The engine reads everything stored (all stations, all frames in a time window), so its
tests must not share a database with the rest of the suite: each gets a fresh one on
the session's server, migrated, dropped afterwards. Helpers store records through the
real writer and register stations through the real registry code.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Iterator
from datetime import datetime

import psycopg
import pytest

from rules.model import Record, StationInfo
from services.writer import Writer
from storage import stations
from storage.records import FrameRecord, MeasurementRow
from tests import databases


@contextlib.contextmanager
def fresh_database(server_dsn: str) -> Iterator[str]:
    """A new, migrated database on the test server (the application's DSN; the owner's
    is :func:`tests.databases.owner_of`), dropped afterwards."""
    with databases.migrated(server_dsn, "hj212_rules") as dsn:
        yield dsn


@pytest.fixture
def rules_dsn(server_dsn: str) -> Iterator[str]:
    with fresh_database(server_dsn) as dsn:
        yield dsn


def register(dsn: str, infos: Iterable[StationInfo], created_at: datetime) -> None:
    """Put rules-test stations in the registry, registered as of ``created_at``."""
    entries = [
        stations.Station(
            mn=info.mn,
            name=info.name or info.mn,
            medium=info.medium,
            region_code=info.region_code,
            enterprise=info.enterprise,
            o2_ref=info.o2_ref,
            rt_interval_s=info.rt_interval_s,
            minute_interval_min=info.minute_interval_min,
            active=info.active,
            monitored_since=created_at,
            pollutants=tuple(
                stations.Pollutant(
                    p.code, p.assessed, p.limit, p.limit_period, p.range_low, p.range_high, p.unit
                )
                for p in info.pollutants.values()
            ),
        )
        for info in infos
    ]
    with psycopg.connect(dsn) as conn:
        stations.upsert(conn, entries)


def frame_of(record: Record) -> FrameRecord:
    rows = [
        MeasurementRow(
            record.data_time,
            record.mn,
            record.cn,
            code,
            (r.rtd, r.min, r.avg, r.max, r.cou, r.zs_rtd, None, r.zs_avg, None),
            r.flag,
            None,
        )
        for code, r in record.readings.items()
        if record.data_time is not None
    ]
    raw = f"{record.mn} {record.cn} {record.data_time} {record.received_at}".encode()
    return FrameRecord(
        record.received_at,
        "127.0.0.1:1",
        "tcp",
        raw,
        "ok",
        mn=record.mn,
        cn=record.cn,
        flag=5,
        measurements=rows,
    )


async def _store(dsn: str, records: list[Record]) -> list[str]:
    writer = Writer(dsn, max_batch=500)
    task = asyncio.create_task(writer.run())
    try:
        return list(await asyncio.gather(*(writer.submit(frame_of(r)) for r in records)))
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def store(dsn: str, records: Iterable[Record]) -> list[str]:
    """Write records through the real writer, in receive order; their archive statuses."""
    ordered = sorted(records, key=lambda r: r.received_at)
    return asyncio.run(_store(dsn, ordered))
