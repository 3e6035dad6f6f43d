"""Bulk seeding and inspection of scratch databases, for the benchmarks.

The benchmarks fill a scratch database (made with :mod:`storage.server`) with millions of
rows, faster than the gateway would: COPY straight into the tables, the measurement
table's unique index dropped during the load and rebuilt once after it. Afterwards they
look up what was stored. The live path writes through :mod:`services.writer` and
:mod:`storage.stations` instead; nothing here checks what a station sent.

The COPY helpers yield psycopg's ``Copy`` object: the caller writes the rows itself
(``copy.write_row``), so the rows are generated on the fly and never held in memory,
and commits when it chooses (one transaction per day of data, say).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime

from psycopg import AsyncCopy, Copy, sql

from storage.db import AsyncConn, Conn

# hj212.measurement's columns and their types (migration 0001), for binary COPY
MEASUREMENT_TYPES = {
    "data_time": "timestamptz",
    "mn": "text",
    "cn": "text",
    "pollutant": "text",
    **dict.fromkeys(
        ("rtd", "min", "avg", "max", "cou", "zs_rtd", "zs_min", "zs_avg", "zs_max"), "float8"
    ),
    "flag": "text",
    "eflag": "text",
    "frame_id": "int8",
    "received_at": "timestamptz",
}


def _copy_statement(table: str, columns: Sequence[str], binary: bool) -> sql.Composed:
    statement = sql.SQL("COPY {} ({}) FROM STDIN" + (" (FORMAT BINARY)" if binary else ""))
    names = sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    return statement.format(sql.Identifier("hj212", table), names)


@contextmanager
def copy_rows(conn: Conn, table: str, columns: Sequence[str]) -> Iterator[Copy]:
    """A text COPY into ``hj212.<table>`` (``columns``, in this order)."""
    with conn.cursor() as cur, cur.copy(_copy_statement(table, columns, False)) as copy:
        yield copy


def _measurement_types(columns: Sequence[str]) -> list[str]:
    unknown = [c for c in columns if c not in MEASUREMENT_TYPES]
    if unknown:
        raise ValueError(f"hj212.measurement has no column {', '.join(unknown)}")
    return [MEASUREMENT_TYPES[c] for c in columns]


@contextmanager
def copy_measurements(conn: Conn, columns: Sequence[str]) -> Iterator[Copy]:
    """A binary COPY into ``hj212.measurement`` (``columns``, in this order)."""
    types = _measurement_types(columns)
    statement = _copy_statement("measurement", columns, True)
    with conn.cursor() as cur, cur.copy(statement) as copy:
        copy.set_types(types)
        yield copy


@asynccontextmanager
async def copy_measurements_async(
    conn: AsyncConn, columns: Sequence[str]
) -> AsyncIterator[AsyncCopy]:
    """:func:`copy_measurements` on an asyncio connection."""
    types = _measurement_types(columns)
    statement = _copy_statement("measurement", columns, True)
    async with conn.cursor() as cur, cur.copy(statement) as copy:
        copy.set_types(types)
        yield copy


def drop_measurement_index(conn: Conn) -> None:
    """Drop the unique index of records (migration 0001) for a bulk load: one rebuild
    after the load costs far less than keeping it up to date row by row."""
    conn.execute("DROP INDEX hj212.measurement_record")


def restore_measurement_index(conn: Conn) -> None:
    """Rebuild the index :func:`drop_measurement_index` dropped, as migration 0001 made it
    (a retransmitted record never makes a second row)."""
    conn.execute(
        "CREATE UNIQUE INDEX measurement_record ON hj212.measurement (mn, cn, pollutant, data_time)"
    )


def add_alarm(
    conn: Conn, key: str, mn: str, pollutant: str, raised_at: datetime, value: float, limit: float
) -> None:
    """An open exceedance alarm, as if the rules had raised it."""
    conn.execute(
        "INSERT INTO hj212.alarm (key, mn, pollutant, kind, raised_at, value, threshold)"
        " VALUES (%s, %s, %s, 'exceedance', %s, %s, %s)",
        (key, mn, pollutant, raised_at, value, limit),
    )


def add_outage_case(
    conn: Conn, key: str, mn: str, opened_at: datetime, report_due: datetime, restore_due: datetime
) -> None:
    """An open outage case, as if the rules had opened it."""
    conn.execute(
        "INSERT INTO hj212.case (key, mn, kind, opened_at, report_due, restore_due)"
        " VALUES (%s, %s, 'outage', %s, %s, %s)",
        (key, mn, opened_at, report_due, restore_due),
    )


def measurement_keys(conn: Conn, pollutant: str) -> set[tuple[str, str]]:
    """(MN, DataTime as the station wrote it, Beijing time ``YYYYMMDDhhmmss``) of every
    stored measurement of ``pollutant``: what a sender can check its records against."""
    rows = conn.execute(
        "SELECT mn, to_char(data_time AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDDHH24MISS')"
        " FROM hj212.measurement WHERE pollutant = %s",
        (pollutant,),
    ).fetchall()
    return {(str(mn), str(at)) for mn, at in rows}


def count_frames(conn: Conn, status: str, cn: str) -> int:
    """How many archived frames of command ``cn`` have ``status``."""
    row = conn.execute(
        "SELECT count(*) FROM hj212.frame WHERE status = %s AND cn = %s", (status, cn)
    ).fetchone()
    return int(row[0]) if row else 0
