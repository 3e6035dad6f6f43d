"""Which stations bend the standard how: the deviations stored with each frame
(``hj212.frame.deviations``, migration 0120; docs/protocol.md §16)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.db import AsyncConn

# The deviation word is what precedes the first ':' (legacy-crc:modbus -> legacy-crc);
# bounded by received_at, so only the chunks of the window are read.
_BY_STATION = (
    "SELECT f.mn, d.deviation, count(*), min(f.received_at), max(f.received_at)"
    " FROM hj212.frame f CROSS JOIN LATERAL unnest(f.deviations) AS d(deviation)"
    " WHERE f.received_at >= %(since)s AND f.received_at < %(until)s"
    " AND f.deviations IS NOT NULL"
    " AND (%(kind)s::text IS NULL OR d.deviation = %(kind)s"
    " OR split_part(d.deviation, ':', 1) = %(kind)s)"
    " AND (%(mn)s::text IS NULL OR f.mn = %(mn)s)"
    " GROUP BY f.mn, d.deviation ORDER BY f.mn NULLS FIRST, d.deviation"
)


@dataclass(frozen=True, slots=True)
class DeviationCount:
    mn: str | None
    deviation: str
    frames: int
    first: datetime
    last: datetime


async def by_station(
    conn: AsyncConn,
    since: datetime,
    until: datetime,
    *,
    kind: str | None = None,
    mn: str | None = None,
) -> list[DeviationCount]:
    """Per station and deviation, how many frames received in [since, until) carried it.

    ``kind`` is a whole deviation (``key-case``) or its word (``legacy-crc`` matches
    ``legacy-crc:modbus`` and ``legacy-crc:modbus-swapped``).
    """
    cur = await conn.execute(_BY_STATION, {"since": since, "until": until, "kind": kind, "mn": mn})
    return [DeviationCount(r[0], r[1], int(r[2]), r[3], r[4]) for r in await cur.fetchall()]
