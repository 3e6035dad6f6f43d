"""Quarterly submissions, their frozen versions, reviews and attachments (migration
0131; docs/quarterly.md §2). SQL only: services/quarterly.py decides what may happen.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.types.json import Jsonb

from storage.db import Conn


@dataclass(frozen=True)
class Submission:
    id: int
    enterprise_id: int
    enterprise: str  # the current name
    quarter: str
    region_code: str
    state: str
    draft: list[dict[str, Any]]
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Version:
    submission_id: int
    version: int
    canonical: str
    sha256: bytes
    submitted_by: str
    submitted_at: datetime
    late: bool
    note: str

    def verifies(self) -> bool:
        """Whether the stored lines still hash to the stored SHA-256."""
        return hashlib.sha256(self.canonical.encode()).digest() == self.sha256


@dataclass(frozen=True)
class Review:
    id: int
    version: int
    level: str
    outcome: str
    reviewer: str
    at: datetime
    comment: str


_SUBMISSION = (
    "SELECT q.id, q.enterprise_id, e.name, q.quarter, q.region_code, q.state, q.draft,"
    " q.version, q.created_at, q.updated_at FROM hj212.quarterly_submission q"
    " JOIN hj212.enterprise e ON e.id = q.enterprise_id"
)


def get(conn: Conn, ident: int, *, lock: bool = False) -> Submission | None:
    sql = _SUBMISSION + " WHERE q.id = %s" + (" FOR UPDATE OF q" if lock else "")
    row = conn.execute(sql, (ident,)).fetchone()
    return Submission(*row) if row else None


def of(conn: Conn, enterprise_id: int, quarter: str) -> Submission | None:
    row = conn.execute(
        _SUBMISSION + " WHERE q.enterprise_id = %s AND q.quarter = %s", (enterprise_id, quarter)
    ).fetchone()
    return Submission(*row) if row else None


def listed(
    conn: Conn, quarter: str | None, prefix: str, states: tuple[str, ...] = ()
) -> list[Submission]:
    rows = conn.execute(
        _SUBMISSION + " WHERE (%(q)s::text IS NULL OR q.quarter = %(q)s)"
        " AND q.region_code LIKE %(p)s AND (cardinality(%(s)s::text[]) = 0 OR q.state = ANY(%(s)s))"
        " ORDER BY q.quarter DESC, q.region_code, e.name",
        {"q": quarter, "p": prefix + "%", "s": list(states)},
    ).fetchall()
    return [Submission(*r) for r in rows]


def create(
    conn: Conn,
    enterprise_id: int,
    quarter: str,
    region_code: str,
    lines: list[dict[str, Any]],
    by: str,
    at: datetime,
) -> int:
    row = conn.execute(
        "INSERT INTO hj212.quarterly_submission (enterprise_id, quarter, region_code, draft,"
        " created_by, created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (enterprise_id, quarter) DO NOTHING RETURNING id",
        (enterprise_id, quarter, region_code, Jsonb(lines), by, at, at),
    ).fetchone()
    if row is None:  # made meanwhile by another request: that one stands
        found = of(conn, enterprise_id, quarter)
        assert found is not None
        return found.id
    return int(row[0])


def save_draft(conn: Conn, ident: int, lines: list[dict[str, Any]], at: datetime) -> None:
    conn.execute(
        "UPDATE hj212.quarterly_submission SET draft = %s, updated_at = %s WHERE id = %s",
        (Jsonb(lines), at, ident),
    )


def set_state(conn: Conn, ident: int, state: str, at: datetime, version: int | None = None) -> None:
    conn.execute(
        "UPDATE hj212.quarterly_submission SET state = %s, updated_at = %s,"
        " version = coalesce(%s, version) WHERE id = %s",
        (state, at, version, ident),
    )


def add_version(
    conn: Conn,
    ident: int,
    version: int,
    canonical: str,
    by: str,
    at: datetime,
    late: bool,
    note: str,
) -> bytes:
    digest = hashlib.sha256(canonical.encode()).digest()
    conn.execute(
        "INSERT INTO hj212.quarterly_version (submission_id, version, canonical, sha256,"
        " submitted_by, submitted_at, late, note) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (ident, version, canonical, digest, by, at, late, note),
    )
    return digest


def versions(conn: Conn, ident: int) -> list[Version]:
    rows = conn.execute(
        "SELECT submission_id, version, canonical, sha256, submitted_by, submitted_at, late,"
        " note FROM hj212.quarterly_version WHERE submission_id = %s ORDER BY version",
        (ident,),
    ).fetchall()
    return [Version(r[0], r[1], r[2], bytes(r[3]), r[4], r[5], r[6], r[7]) for r in rows]


def add_review(
    conn: Conn,
    ident: int,
    version: int,
    level: str,
    outcome: str,
    by: str,
    at: datetime,
    comment: str,
) -> int:
    row = conn.execute(
        "INSERT INTO hj212.quarterly_review (submission_id, version, level, outcome, reviewer,"
        " at, comment) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (ident, version, level, outcome, by, at, comment),
    ).fetchone()
    assert row is not None
    return int(row[0])


def reviews(conn: Conn, ident: int) -> list[Review]:
    rows = conn.execute(
        "SELECT id, version, level, outcome, reviewer, at, comment FROM hj212.quarterly_review"
        " WHERE submission_id = %s ORDER BY at, id",
        (ident,),
    ).fetchall()
    return [Review(*r) for r in rows]


def add_attachment(
    conn: Conn, ident: int, name: str, content_type: str, content: bytes, by: str, at: datetime
) -> int:
    row = conn.execute(
        "INSERT INTO hj212.quarterly_attachment (submission_id, name, content_type, sha256,"
        " content, added_by, added_at) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (ident, name, content_type, hashlib.sha256(content).digest(), content, by, at),
    ).fetchone()
    assert row is not None
    return int(row[0])


def attachment(conn: Conn, ident: int, attachment_id: int) -> tuple[str, str, bytes] | None:
    row = conn.execute(
        "SELECT name, content_type, content FROM hj212.quarterly_attachment"
        " WHERE id = %s AND submission_id = %s",
        (attachment_id, ident),
    ).fetchone()
    return (row[0], row[1], bytes(row[2])) if row else None


def run_hours(
    conn: Conn, mns: list[str], start: datetime, end: datetime
) -> list[tuple[str, str, datetime, float]]:
    """The treatment facilities' daily run times (2041 SBx-RT, hours) in [start, end):
    (mn, device, day, hours)."""
    rows = conn.execute(
        "SELECT mn, device, data_time, value FROM hj212.device_status WHERE cn = '2041'"
        " AND item = 'RT' AND value IS NOT NULL AND data_time >= %s AND data_time < %s"
        " AND mn = ANY(%s) ORDER BY mn, device, data_time",
        (start, end, mns),
    ).fetchall()
    return [(r[0], r[1], r[2], float(r[3])) for r in rows]


def expected(conn: Conn, prefix: str, until: datetime) -> list[tuple[int, str, str, str]]:
    """Enterprises with an active gas or water outlet in the region prefix, monitored
    (station.created_at: since when) before ``until``, the quarter's end: (id, name,
    region code, first station MN) — those that report that quarter (seed 004 二.1). An
    outlet registered after the quarter owes nothing for it."""
    rows = conn.execute(
        "SELECT e.id, e.name, coalesce(e.region_code, min(s.region_code)), min(s.mn)"
        " FROM hj212.enterprise e JOIN hj212.station s ON s.enterprise_id = e.id"
        " WHERE s.active AND s.medium IN ('gas', 'water') AND s.created_at < %s"
        " GROUP BY e.id HAVING coalesce(e.region_code, min(s.region_code)) LIKE %s"
        " ORDER BY 3, 2",
        (until, prefix + "%"),
    ).fetchall()
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def user_enterprise(conn: Conn, name: str) -> int | None:
    row = conn.execute(
        "SELECT enterprise_id FROM hj212.console_user WHERE name = %s", (name,)
    ).fetchone()
    return int(row[0]) if row and row[0] is not None else None


def raised(conn: Conn, keys: list[str]) -> set[str]:
    """Which of these alarm keys were raised already (reminders are raised once)."""
    rows = conn.execute("SELECT key FROM hj212.alarm WHERE key = ANY(%s)", (keys,)).fetchall()
    return {r[0] for r in rows}
