"""The durable per-upstream queue of frames to forward (migration 0111,
docs/forwarding.md §3-§4).

:func:`enqueue` runs inside the batched writer's transaction (storage/frame_batch.py):
one INSERT ... SELECT per batch, joining the batch's stored frames with the upstreams
that take their CN and station. The sender (services/forwarding.py) leases stations,
reads each station's rows in frame order, and deletes a row only when the upstream's
9014 for it arrived (:func:`delivered`). The queue is the truth: a gateway that is
killed leaves its rows and leases, and the leases run out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import TupleRow

from storage.audit import append_async
from storage.db import AsyncConn

Cursor = psycopg.AsyncCursor[TupleRow]


@dataclass(frozen=True)
class Upstream:
    """An upstream as the database keeps it (the configuration's, config/settings.py)."""

    name: str
    host: str
    port: int
    version: str
    cns: tuple[str, ...]
    mns: tuple[str, ...] | None  # None: every station
    behind_alarm_s: float


@dataclass(frozen=True)
class Queued:
    frame_id: int
    mn: str
    received_at: datetime
    raw: bytes
    attempts: int


_ENQUEUE = (
    "INSERT INTO hj212.upstream_queue (upstream, frame_id, mn, received_at)"
    " SELECT u.name, f.id, f.mn, f.received_at"
    " FROM unnest(%s::int8[], %s::text[], %s::text[], %s::timestamptz[]) AS f(id, mn, cn, received_at)"
    " JOIN hj212.upstream u ON u.active AND f.cn = ANY(u.cns)"
    " AND (u.mns IS NULL OR f.mn = ANY(u.mns))"
    " ON CONFLICT DO NOTHING"
)


async def enqueue(
    cur: Cursor,
    ids: Sequence[int],
    mns: Sequence[str | None],
    cns: Sequence[str | None],
    received: Sequence[datetime],
) -> None:
    """Queue the stored frames of a batch for every upstream that takes them, in the
    caller's transaction (one statement per batch)."""
    if ids:
        await cur.execute(_ENQUEUE, (list(ids), list(mns), list(cns), list(received)))


async def sync(conn: AsyncConn, upstreams: Sequence[Upstream]) -> None:
    """Make hj212.upstream say what the configuration says; an upstream no longer
    configured is deactivated (its backlog stays, visible, until it comes back)."""
    async with conn.transaction():
        for u in upstreams:
            await conn.execute(
                "INSERT INTO hj212.upstream (name, host, port, version, cns, mns,"
                " behind_alarm_s) VALUES (%s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (name) DO UPDATE SET (host, port, version, cns, mns, active,"
                " behind_alarm_s, updated_at) = (EXCLUDED.host, EXCLUDED.port,"
                " EXCLUDED.version, EXCLUDED.cns, EXCLUDED.mns, true,"
                " EXCLUDED.behind_alarm_s, now())",
                (
                    u.name,
                    u.host,
                    u.port,
                    u.version,
                    list(u.cns),
                    None if u.mns is None else list(u.mns),
                    u.behind_alarm_s,
                ),
            )
        await conn.execute(
            "UPDATE hj212.upstream SET active = false, updated_at = now()"
            " WHERE active AND name <> ALL(%s)",
            ([u.name for u in upstreams],),
        )


# The stations with rows queued, by a skip scan of upstream_queue_station (one index
# probe per station, not a scan of the backlog), leased to the holder unless another
# holds them.
_LEASE = """
WITH RECURSIVE s(mn) AS (
    (SELECT mn FROM hj212.upstream_queue WHERE upstream = %(u)s ORDER BY mn LIMIT 1)
    UNION ALL
    SELECT (SELECT q.mn FROM hj212.upstream_queue q WHERE q.upstream = %(u)s AND q.mn > s.mn
            ORDER BY q.mn LIMIT 1)
    FROM s WHERE s.mn IS NOT NULL
)
INSERT INTO hj212.upstream_lease AS l (upstream, mn, holder, until)
SELECT %(u)s, mn, %(h)s, now() + make_interval(secs => %(s)s)
FROM (SELECT mn FROM s WHERE mn IS NOT NULL LIMIT %(n)s) q
ON CONFLICT (upstream, mn) DO UPDATE SET holder = EXCLUDED.holder, until = EXCLUDED.until
WHERE l.until < now() OR l.holder = EXCLUDED.holder
RETURNING mn
"""


async def lease_stations(
    conn: AsyncConn, upstream: str, holder: str, seconds: float, limit: int
) -> list[str]:
    """Stations with rows queued for ``upstream`` that ``holder`` now holds: those it
    held already (renewed) and those whose lease ran out or that had none."""
    async with conn.transaction():
        rows = await (
            await conn.execute(
                _LEASE,
                {"u": upstream, "h": holder, "s": seconds, "n": limit},
            )
        ).fetchall()
    return sorted(r[0] for r in rows)


async def release(conn: AsyncConn, upstream: str, holder: str, mns: Sequence[str]) -> None:
    """Give back the leases of stations whose queue ``holder`` emptied or gave up on."""
    async with conn.transaction():
        await conn.execute(
            "DELETE FROM hj212.upstream_lease WHERE upstream = %s AND holder = %s AND mn = ANY(%s)",
            (upstream, holder, list(mns)),
        )


async def next_rows(conn: AsyncConn, upstream: str, mn: str, limit: int) -> list[Queued]:
    """The oldest queued frames of one station for ``upstream``, in frame order."""
    async with conn.transaction():
        rows = await (
            await conn.execute(
                "SELECT q.frame_id, q.mn, q.received_at, f.raw, q.attempts"
                " FROM (SELECT * FROM hj212.upstream_queue WHERE upstream = %s AND mn = %s"
                " ORDER BY frame_id LIMIT %s) q"
                " JOIN hj212.frame f ON f.mn = q.mn AND f.received_at = q.received_at"
                " AND f.id = q.frame_id ORDER BY q.frame_id",
                (upstream, mn, limit),
            )
        ).fetchall()
    return [Queued(r[0], r[1], r[2], bytes(r[3]), r[4]) for r in rows]


async def delivered(conn: AsyncConn, upstream: str, frame_id: int) -> None:
    """The upstream's 9014 for the frame arrived: it leaves the queue."""
    async with conn.transaction():
        done = await conn.execute(
            "DELETE FROM hj212.upstream_queue WHERE upstream = %s AND frame_id = %s",
            (upstream, frame_id),
        )
        if done.rowcount:
            await conn.execute(
                "UPDATE hj212.upstream SET delivered = delivered + 1,"
                " last_delivered_at = now() WHERE name = %s",
                (upstream,),
            )


async def drop(conn: AsyncConn, upstream: str, frame_id: int, why: str) -> None:
    """A queued frame that can never be sent (no QN, damaged): out of the queue, the
    reason kept as the upstream's last error and in the audit log."""
    async with conn.transaction():
        await conn.execute(
            "DELETE FROM hj212.upstream_queue WHERE upstream = %s AND frame_id = %s",
            (upstream, frame_id),
        )
        await conn.execute(
            "UPDATE hj212.upstream SET last_error = %s, last_error_at = now() WHERE name = %s",
            (f"frame {frame_id} dropped: {why}"[:500], upstream),
        )
        await append_async(
            conn,
            "gateway",
            "upstream-drop",
            f"upstream:{upstream}",
            {"frame_id": frame_id, "why": why},
        )


async def failed(conn: AsyncConn, upstream: str, frame_ids: Sequence[int], why: str) -> None:
    """Attempts that got no 9014 (or no connection): counted, the rows stay queued."""
    async with conn.transaction():
        await conn.execute(
            "UPDATE hj212.upstream_queue SET attempts = attempts + 1"
            " WHERE upstream = %s AND frame_id = ANY(%s)",
            (upstream, list(frame_ids)),
        )
        await conn.execute(
            "UPDATE hj212.upstream SET failures = failures + 1, last_error = %s,"
            " last_error_at = now() WHERE name = %s",
            (why[:500], upstream),
        )


_STATUS = """
SELECT u.name, u.host, u.port, u.version, u.active, u.delivered, u.failures,
    u.last_delivered_at, u.last_error, u.last_error_at, u.behind_alarm_s, u.behind_since,
    count(q.frame_id), min(q.received_at), count(DISTINCT q.mn)
FROM hj212.upstream u LEFT JOIN hj212.upstream_queue q ON q.upstream = u.name
GROUP BY u.name ORDER BY u.name
"""
STATUS_KEYS = (
    "name",
    "host",
    "port",
    "version",
    "active",
    "delivered",
    "failures",
    "last_delivered_at",
    "last_error",
    "last_error_at",
    "behind_alarm_s",
    "behind_since",
    "backlog",
    "oldest",
    "stations",
)


async def status(conn: AsyncConn) -> list[dict[str, object]]:
    """Per upstream: counters, backlog (rows, stations) and its oldest frame."""
    async with conn.transaction():
        rows = await (await conn.execute(_STATUS)).fetchall()
    return [dict(zip(STATUS_KEYS, r, strict=True)) for r in rows]


def status_sync(conn: psycopg.Connection[TupleRow]) -> list[dict[str, object]]:
    """:func:`status` on a blocking connection (the console, the CLI)."""
    rows = conn.execute(_STATUS).fetchall()
    return [dict(zip(STATUS_KEYS, r, strict=True)) for r in rows]


async def mark_behind(conn: AsyncConn, upstream: str, behind: bool) -> bool:
    """Record whether the upstream's backlog is older than its alarm; True when this
    call changed it (the moment to raise or clear the notice)."""
    async with conn.transaction():
        done = await conn.execute(
            "UPDATE hj212.upstream SET behind_since = CASE WHEN %s THEN now() END"
            " WHERE name = %s AND (behind_since IS NULL) = %s",
            (behind, upstream, behind),
        )
    return bool(done.rowcount)
