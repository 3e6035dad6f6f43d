"""The console's and reports' reads (storage/queries.py) on real data."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from services.writer import Writer
from storage import queries
from storage.stations import Station, upsert
from tests.storage.support import AT, new_mn, running, upload

pytestmark = [pytest.mark.db, pytest.mark.anyio]
MINUTE = timedelta(minutes=1)


@pytest.fixture
async def station(dsn: str) -> str:
    """A station with 1-minute real-time data over 10 minutes, minutes 4-6 missing."""
    mn = new_mn()
    with psycopg.connect(dsn) as conn:
        upsert(conn, [Station(mn, "Q", "water", "420100", rt_interval_s=60)])
    async with running(Writer(dsn, max_batch=50)) as writer:
        for i in [0, 1, 2, 3, 7, 8, 9]:
            await writer.submit(upload(mn, AT + i * MINUTE, values={"w01018": float(i)}))
    return mn


async def test_latest_values_per_station_and_pollutant(dsn: str, station: str) -> None:
    with psycopg.connect(dsn) as conn:
        latest = queries.latest_values(conn, AT - timedelta(days=1), [station])
    assert [(v.pollutant, v.value, v.data_time) for v in latest] == [
        ("w01018", 9.0, AT + 9 * MINUTE)
    ]


async def test_series_in_time_buckets(dsn: str, station: str) -> None:
    with psycopg.connect(dsn) as conn:
        buckets = queries.series(
            conn, station, "w01018", AT, AT + 10 * MINUTE, timedelta(minutes=5)
        )
    assert [(b.bucket, b.samples, b.avg, b.min, b.max) for b in buckets] == [
        (AT, 4, 1.5, 0.0, 3.0),
        (AT + 5 * MINUTE, 3, 8.0, 7.0, 9.0),
    ]


async def test_gaps_use_the_registry_interval(dsn: str, station: str) -> None:
    with psycopg.connect(dsn) as conn:
        found = queries.gaps(conn, station, AT, AT + 12 * MINUTE)
    assert found == [
        queries.Gap(AT + 3 * MINUTE, AT + 7 * MINUTE, 3),
        queries.Gap(AT + 9 * MINUTE, AT + 12 * MINUTE, 2),  # nothing since minute 9
    ]
    with psycopg.connect(dsn) as conn:
        late_start = queries.gaps(conn, station, AT - 2 * MINUTE, AT + 10 * MINUTE)
    assert late_start[0] == queries.Gap(AT - 3 * MINUTE, AT, 2)


async def test_frames_by_station_and_window(dsn: str, station: str) -> None:
    with psycopg.connect(dsn) as conn:
        found = queries.frames(conn, station, AT, AT + 3 * MINUTE)
    assert len(found) == 3  # received one second after minutes 0, 1, 2
    assert all(f.status == "ok" and f.raw.startswith(station.encode()) for f in found)
