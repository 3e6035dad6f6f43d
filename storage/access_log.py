"""Reads, counted per user, route, station, client and interval (``hj212.access_log``,
migration 0062), so that auditing every read does not flood the hash chain.

:func:`record_read` adds one to the interval's row with an atomic upsert; the read that
makes the row (the first of that user, route, station and client in the interval) is
also written to the chained audit log, naming the row. So the chain says who read what
from where, per interval, and the access log how often and until when (docs/regulations.md
§12, seed 002 Art. 21: every query traceable, logs kept >= 3 years: [storage]
retention_days_access).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from psycopg.rows import class_row

from storage.db import Conn

# One statement, so one round trip and atomic: count the read; if it made the row, also
# chain it (the audit_log triggers hash it like any entry, migration 0030).
_TALLY = """
WITH tally AS (
    INSERT INTO hj212.access_log AS a (bucket, actor, route, mn, client, last_query)
    VALUES (date_bin(%(every)s, statement_timestamp(), timestamptz '2000-01-01 00:00+08'),
            %(actor)s, %(route)s, coalesce(%(mn)s, ''), %(client)s, %(query)s)
    ON CONFLICT (bucket, actor, route, mn, client) DO UPDATE SET
        reads = a.reads + 1, last_at = statement_timestamp(), last_query = excluded.last_query
    RETURNING bucket, xmax = 0 AS made
), chained AS (
    INSERT INTO hj212.audit_log (actor, action, object, mn, detail)
    SELECT %(actor)s, 'read', %(route)s, %(mn)s, jsonb_build_object(
        'query', %(query)s, 'client', %(client)s, 'counted_in', 'hj212.access_log',
        'interval_start', bucket, 'interval_minutes', %(minutes)s)
    FROM tally WHERE made
)
SELECT made FROM tally
"""


@dataclass(frozen=True)
class Tally:
    bucket: datetime
    actor: str
    route: str
    mn: str
    client: str
    reads: int
    first_at: datetime
    last_at: datetime
    last_query: str


def record_read(
    conn: Conn,
    actor: str,
    route: str,
    mn: str | None,
    client: str,
    query: str,
    every: timedelta,
) -> bool:
    """Count one read; True when it was the interval's first (and so also chained).
    Intervals are aligned on Beijing midnight (date_bin with a +08 origin)."""
    params = {
        "every": every,
        "minutes": every.total_seconds() / 60,
        "actor": actor,
        "route": route,
        "mn": mn,
        "client": client,
        "query": query[:500],
    }
    row = conn.execute(_TALLY, params).fetchone()
    assert row is not None
    return bool(row[0])


def tallies(
    conn: Conn, start: datetime, end: datetime, actor: str | None = None, limit: int = 1000
) -> list[Tally]:
    """Rows of intervals starting in [start, end), newest first."""
    with conn.cursor(row_factory=class_row(Tally)) as cur:
        cur.execute(
            "SELECT bucket, actor, route, mn, client, reads, first_at, last_at, last_query"
            " FROM hj212.access_log WHERE bucket >= %s AND bucket < %s"
            " AND (%s::text IS NULL OR actor = %s) ORDER BY bucket DESC, last_at DESC LIMIT %s",
            (start, end, actor, actor, limit),
        )
        return cur.fetchall()
