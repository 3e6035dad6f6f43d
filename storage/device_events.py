"""What devices said in their answers and event uploads: ``hj212.device_event``
(migration 0120; the rows are written with their frame by storage/frame_batch.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.db import AsyncConn

_EVENTS = (
    "SELECT data_time, mn, cn, kind, pollutant, payload, frame_id, received_at"
    " FROM hj212.device_event WHERE mn = %(mn)s"
    " AND (%(kind)s::text IS NULL OR kind = %(kind)s)"
    " AND data_time >= %(since)s AND data_time < %(until)s"
    " ORDER BY data_time, kind, pollutant LIMIT %(limit)s"
)
# 3019: the serial number an instrument reported before ``at`` (to tell a replacement)
_PREVIOUS_SN = (
    "SELECT payload->>'sn' FROM hj212.device_event"
    " WHERE mn = %s AND kind = 'instrument-id' AND pollutant = %s AND data_time < %s"
    " ORDER BY data_time DESC LIMIT 1"
)
# 2062 checks by hour window: the water check-hour exemption's input (rules/transmission.py)
_CHECKS = (
    "SELECT mn, pollutant, data_time, payload FROM hj212.device_event"
    " WHERE kind = 'standard-check' AND received_at >= %s AND received_at < %s"
    " ORDER BY received_at, mn, pollutant"
)


@dataclass(frozen=True, slots=True)
class DeviceEvent:
    data_time: datetime
    mn: str
    cn: str
    kind: str
    pollutant: str
    payload: dict[str, Any]
    frame_id: int
    received_at: datetime


async def events(
    conn: AsyncConn,
    mn: str,
    since: datetime,
    until: datetime,
    *,
    kind: str | None = None,
    limit: int = 1000,
) -> list[DeviceEvent]:
    """A station's device events in [since, until), oldest first."""
    params = {"mn": mn, "kind": kind, "since": since, "until": until, "limit": limit}
    cur = await conn.execute(_EVENTS, params)
    return [DeviceEvent(*row) for row in await cur.fetchall()]


async def previous_serial(conn: AsyncConn, mn: str, pollutant: str, at: datetime) -> str | None:
    """The serial number ``pollutant``'s instrument reported last before ``at``."""
    cur = await conn.execute(_PREVIOUS_SN, (mn, pollutant, at))
    row = await cur.fetchone()
    return str(row[0]) if row and row[0] is not None else None


async def standard_checks(
    conn: AsyncConn, since: datetime, until: datetime
) -> list[tuple[str, str, datetime, dict[str, Any]]]:
    """The 2062 standard-sample checks received in [since, until)."""
    cur = await conn.execute(_CHECKS, (since, until))
    return [(r[0], r[1], r[2], r[3]) for r in await cur.fetchall()]
