"""The back-fill bookkeeping (migration 0112, docs/forwarding.md §6): what was last
asked of each station and whether it ever answered. The requests are commands
(storage/commands.py ``queue``, requested by ``backfill``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import TupleRow

from storage.audit import append_async
from storage.db import AsyncConn


@dataclass(frozen=True)
class Asked:
    mn: str
    window_start: datetime
    window_end: datetime
    missing: int
    tries: int
    asked_at: datetime
    gave_up_at: datetime | None
    last_command_id: int | None


_COLUMNS = "mn, window_start, window_end, missing, tries, asked_at, gave_up_at, last_command_id"


async def asked(conn: AsyncConn, mn: str) -> Asked | None:
    async with conn.transaction():
        row = await (
            await conn.execute(
                f"SELECT {_COLUMNS} FROM hj212.backfill WHERE mn = %s".encode(), (mn,)
            )
        ).fetchone()
    return Asked(*row) if row else None


async def monitored_since(conn: AsyncConn, mn: str) -> datetime | None:
    """From when the station's hours are expected (hj212.station.created_at)."""
    async with conn.transaction():
        row = await (
            await conn.execute("SELECT created_at FROM hj212.station WHERE mn = %s", (mn,))
        ).fetchone()
    return row[0] if row else None


async def record(conn: AsyncConn, entry: Asked) -> None:
    """The request just queued (or the decision to give up), in one row per station."""
    async with conn.transaction():
        await conn.execute(
            f"INSERT INTO hj212.backfill ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (mn) DO UPDATE SET (window_start, window_end, missing, tries,"
            " asked_at, gave_up_at, last_command_id) = (EXCLUDED.window_start,"
            " EXCLUDED.window_end, EXCLUDED.missing, EXCLUDED.tries, EXCLUDED.asked_at,"
            " EXCLUDED.gave_up_at, EXCLUDED.last_command_id)".encode(),
            (
                entry.mn,
                entry.window_start,
                entry.window_end,
                entry.missing,
                entry.tries,
                entry.asked_at,
                entry.gave_up_at,
                entry.last_command_id,
            ),
        )
        if entry.gave_up_at is not None:
            detail = {
                "from": entry.window_start.isoformat(),
                "to": entry.window_end.isoformat(),
                "missing_hours": entry.missing,
                "requests": entry.tries - 1,
            }
            await append_async(
                conn, "backfill", "backfill-unanswered", f"station:{entry.mn}", detail, mn=entry.mn
            )


def unanswered(conn: psycopg.Connection[TupleRow]) -> list[Asked]:
    """Stations reported for never answering back-fill requests (console, CLI)."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM hj212.backfill WHERE gave_up_at IS NOT NULL"
        " ORDER BY gave_up_at DESC".encode()
    ).fetchall()
    return [Asked(*r) for r in rows]
