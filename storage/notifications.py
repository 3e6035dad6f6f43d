"""The webhook queue, ``hj212.notification`` (SQL only; services/notify.py delivers).

Notifications are queued in the same transaction as their alarm (storage/alarms.py), so
an alarm is never lost between the database and the webhook. :func:`claim_due` takes
the next due one with ``FOR UPDATE SKIP LOCKED`` (several deliverers never send one
twice); the deliverer settles it in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.db import Conn


@dataclass(frozen=True)
class Due:
    id: int
    url: str
    payload: object
    attempts: int


def claim_due(conn: Conn, now: datetime) -> Due | None:
    """The oldest notification due at ``now``, locked until the transaction ends."""
    row = conn.execute(
        "SELECT id, url, payload, attempts FROM hj212.notification"
        " WHERE state = 'pending' AND next_at <= %s ORDER BY next_at, id"
        " LIMIT 1 FOR UPDATE SKIP LOCKED",
        (now,),
    ).fetchone()
    return Due(*row) if row is not None else None


def settle_failed(
    conn: Conn, ident: int, attempts: int, error: str, *, give_up: bool, next_at: datetime
) -> None:
    conn.execute(
        "UPDATE hj212.notification SET attempts = %s, last_error = %s,"
        " state = %s, next_at = %s WHERE id = %s",
        (attempts, error, "failed" if give_up else "pending", next_at, ident),
    )


def settle_delivered(conn: Conn, ident: int, now: datetime) -> None:
    conn.execute(
        "UPDATE hj212.notification SET attempts = attempts + 1, state = 'delivered',"
        " delivered_at = %s, last_error = NULL WHERE id = %s",
        (now, ident),
    )
