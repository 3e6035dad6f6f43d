"""``hj212.clock_drift``: station clocks measured against the platform's (HJ 212-2017
C.4; measured by gateway/clock.py, written here once a minute)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import psycopg
from psycopg.rows import TupleRow

# (measured_at, mn, source ('datatime' | 'qn' | 'systemtime'), drift in seconds, whether 1012 was sent)
Sample = tuple[datetime, str, str, float, bool]


async def save(conn: psycopg.AsyncConnection[TupleRow], samples: Iterable[Sample]) -> None:
    async with conn.cursor() as cur:
        await cur.executemany(
            "INSERT INTO hj212.clock_drift (measured_at, mn, source, drift_s, corrected)"
            " VALUES (%s, %s, %s, %s, %s)",
            list(samples),
        )
