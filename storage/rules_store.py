"""The rules engine's tables: its position, the state of every station, the daily
snapshots, and the lock that lets one runner work at a time (SQL only; the runner that
uses them is services/rules_runner.py).

``hj212.rules_cursor`` is where the engine stands (``watermark``: everything received up
to it has been processed); ``hj212.rules_state`` one JSON document per station
(rules/state.py); ``hj212.rules_snapshot`` the whole state at each Beijing midnight,
where ``hj212 rules replay`` starts from.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from storage.db import Conn

CURSOR = "main"
LOCK_KEY = 212_0007  # pg_try_advisory_lock: one live runner per database


@dataclass(frozen=True)
class Cursor:
    origin: datetime
    watermark: datetime
    last_frame_id: int = 0
    late_frames: int = 0


def load_cursor(conn: Conn, name: str = CURSOR) -> Cursor | None:
    row = conn.execute(
        "SELECT origin, watermark, last_frame_id, late_frames FROM hj212.rules_cursor"
        " WHERE name = %s",
        (name,),
    ).fetchone()
    return Cursor(*row) if row is not None else None


def insert_cursor(conn: Conn, cursor: Cursor, name: str = CURSOR) -> None:
    conn.execute(
        "INSERT INTO hj212.rules_cursor (name, origin, watermark) VALUES (%s, %s, %s)",
        (name, cursor.origin, cursor.watermark),
    )


def update_cursor(conn: Conn, cursor: Cursor, name: str = CURSOR) -> None:
    conn.execute(
        "UPDATE hj212.rules_cursor SET watermark = %s, last_frame_id = %s,"
        " late_frames = %s, updated_at = now() WHERE name = %s",
        (cursor.watermark, cursor.last_frame_id, cursor.late_frames, name),
    )


def load_state_texts(conn: Conn, snapshot: datetime | None = None) -> list[str]:
    """The live state of every station as JSON text, or the snapshot taken at
    ``snapshot``."""
    if snapshot is None:
        rows = conn.execute("SELECT state::text FROM hj212.rules_state").fetchall()
    else:
        rows = conn.execute(
            "SELECT state::text FROM hj212.rules_snapshot WHERE at = %s", (snapshot,)
        ).fetchall()
    return [text for (text,) in rows]


def latest_snapshot(conn: Conn, at_or_before: datetime) -> datetime | None:
    row = conn.execute(
        "SELECT max(at) FROM hj212.rules_snapshot WHERE at <= %s", (at_or_before,)
    ).fetchone()
    return row[0] if row is not None else None


def save_states(conn: Conn, rows: Mapping[str, str]) -> None:
    """Upsert station states (MN -> JSON text): COPY into a temporary table, then one
    statement (executemany of 10,000 JSON documents costs several times more)."""
    if not rows:
        return
    conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS rules_state_in (mn text, state text) ON COMMIT DELETE ROWS"
    )
    with conn.cursor() as cur:
        with cur.copy("COPY rules_state_in (mn, state) FROM STDIN") as copy:
            for mn, text in rows.items():
                copy.write_row((mn, text))
        cur.execute(
            "INSERT INTO hj212.rules_state (mn, state) SELECT mn, state::jsonb"
            " FROM rules_state_in ON CONFLICT (mn) DO UPDATE SET state = excluded.state,"
            " updated_at = now()"
        )
        cur.execute("TRUNCATE rules_state_in")


def save_snapshot(conn: Conn, at: datetime, rows: Mapping[str, str], keep_from: datetime) -> None:
    """The whole state at ``at``; snapshots before ``keep_from`` pruned, but the newest
    at or before it (a replay may start from it)."""
    with (
        conn.cursor() as cur,
        cur.copy("COPY hj212.rules_snapshot (at, mn, state) FROM STDIN") as copy,
    ):
        for mn, text in rows.items():
            copy.write_row((at, mn, text))
    conn.execute(
        "DELETE FROM hj212.rules_snapshot WHERE at < %s"
        " AND at < (SELECT max(at) FROM hj212.rules_snapshot WHERE at <= %s)",
        (keep_from, keep_from),
    )


def try_lock(conn: Conn) -> bool:
    """The runner's advisory lock, held by the session until it ends."""
    row = conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()
    return bool(row and row[0])


@contextmanager
def consistent_read(conn: Conn) -> Iterator[None]:
    """A read-only transaction on one snapshot of the database (REPEATABLE READ), so that
    frames and their measurements read in it agree."""
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        yield


AlarmKey = tuple[object, ...]


def stored_alarm_keys(
    conn: Conn, start: datetime, end: datetime, others: Sequence[str] = ()
) -> list[AlarmKey]:
    """The alarms raised and cleared in (start, end], as comparable tuples: ("alarm", key,
    mn, kind, severity, raised_at, pollutant, data_time, value, threshold, detail JSON)
    and ("clear", key, cleared_at); without the kinds in ``others`` (raised elsewhere)."""
    found: list[AlarmKey] = []
    for row in conn.execute(
        "SELECT key, mn, kind, severity, raised_at, pollutant, data_time, value, threshold,"
        " detail FROM hj212.alarm WHERE raised_at > %s AND raised_at <= %s AND key IS NOT NULL"
        " AND kind <> ALL(%s)",
        (start, end, list(others)),
    ):
        *head, detail = row
        found.append(("alarm", *head, json.dumps(detail, sort_keys=True)))
    for key, at in conn.execute(
        "SELECT key, cleared_at FROM hj212.alarm WHERE cleared_at > %s AND cleared_at <= %s"
        " AND key IS NOT NULL AND kind <> ALL(%s)",
        (start, end, list(others)),
    ):
        found.append(("clear", key, at))
    return found
