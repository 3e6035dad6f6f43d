"""Queries for the gateway's spool: the drain's, and which database a spool belongs to
(the spool itself is in gateway/spool.py)."""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg

from storage.db import AsyncConn


async def stored_spool_ids(
    conn: AsyncConn, ids: list[str], earliest: datetime, latest: datetime
) -> set[str]:
    """Which of these spool ids are already in ``hj212.frame`` (a replayed drain)."""
    if not ids:
        return set()
    rows = await (
        await conn.execute(
            "SELECT spool_id::text FROM hj212.frame WHERE spool_id = ANY(%s::uuid[])"
            " AND received_at BETWEEN %s AND %s",
            (ids, earliest - timedelta(seconds=1), latest + timedelta(seconds=1)),
        )
    ).fetchall()
    return {r[0] for r in rows}


async def database_id(conn: AsyncConn) -> str:
    """The id of the database ``conn`` is on (migration 0053): what a spool belongs to."""
    row = await (await conn.execute("SELECT id::text FROM hj212.instance")).fetchone()
    if row is None:
        raise psycopg.OperationalError("hj212.instance is empty: run `hj212 db migrate`")
    return str(row[0])
