"""A case's timeline: what happened to it, oldest first (hj212.case_event: opened,
reminders, escalations, filings, notes, closed), for the console's case rows
(docs/console.md §6)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.rows import class_row

from storage.db import Conn


@dataclass(frozen=True)
class Event:
    at: datetime
    kind: str
    detail: dict[str, Any]


def timeline(conn: Conn, case_id: int, limit: int = 500) -> list[Event]:
    with conn.cursor(row_factory=class_row(Event)) as cur:
        cur.execute(
            "SELECT at, kind, detail FROM hj212.case_event WHERE case_id = %s"
            " ORDER BY at, kind LIMIT %s",
            (case_id, limit),
        )
        return cur.fetchall()
