"""Manual monitoring results (手工监测值录入, docs/regulations.md §1.3 and §6.5) on a case:
their own series, reviewed by the regulator, never judged for exceedance.

SQL only; services/case_forms.py checks the form and holds the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from storage.db import Conn
from storage.incidents import AttachmentRow, attachments


@dataclass(frozen=True)
class FactorRow:
    """A station's registered factor as a sample is checked against it."""

    code: str
    unit: str | None
    range_low: float | None
    range_high: float | None


@dataclass(frozen=True)
class Sample:
    id: int
    mn: str
    case_id: int
    pollutant: str
    sampled_at: datetime
    value: float
    unit: str
    method: str
    laboratory: str
    entered_by: str
    entered_at: datetime
    state: str
    reviewed_by: str | None
    reviewed_at: datetime | None
    review_note: str
    attachments: tuple[AttachmentRow, ...] = ()


def factors(conn: Conn, mn: str) -> dict[str, FactorRow]:
    rows = conn.execute(
        "SELECT pollutant, unit, range_low, range_high FROM hj212.station_pollutant WHERE mn = %s",
        (mn,),
    ).fetchall()
    return {r[0]: FactorRow(*r) for r in rows}


def insert(
    conn: Conn,
    *,
    mn: str,
    case_id: int,
    pollutant: str,
    sampled_at: datetime,
    value: float,
    unit: str,
    method: str,
    laboratory: str,
    who: str,
    at: datetime,
) -> int:
    row = conn.execute(
        "INSERT INTO hj212.manual_sample (mn, case_id, pollutant, sampled_at, value, unit,"
        " method, laboratory, entered_by, entered_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (mn, case_id, pollutant, sampled_at, value, unit, method, laboratory, who, at),
    ).fetchone()
    assert row is not None
    return int(row[0])


_SELECT = (
    "SELECT id, mn, case_id, pollutant, sampled_at, value, unit, method, laboratory,"
    " entered_by, entered_at, state, reviewed_by, reviewed_at, review_note"
    " FROM hj212.manual_sample"
)


def for_update(conn: Conn, sample_id: int) -> Sample | None:
    row = conn.execute(_SELECT + " WHERE id = %s FOR UPDATE", (sample_id,)).fetchone()
    return Sample(*row) if row is not None else None


def review(conn: Conn, sample_id: int, *, accept: bool, who: str, at: datetime, note: str) -> None:
    conn.execute(
        "UPDATE hj212.manual_sample SET state = %s, reviewed_by = %s, reviewed_at = %s,"
        " review_note = %s WHERE id = %s",
        ("accepted" if accept else "rejected", who, at, note, sample_id),
    )


def samples(
    conn: Conn,
    *,
    mns: list[str] | None = None,
    case_id: int | None = None,
    sample_id: int | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    pollutant: str | None = None,
    state: str | None = None,
) -> list[Sample]:
    """Samples by sampling time, with their attachments: of these stations, this case,
    taken in [start, end), of this factor, in this review state."""
    where, params = ["true"], dict[str, object]()
    for name, value, clause in (
        ("mns", mns, "mn = ANY(%(mns)s)"),
        ("case", case_id, "case_id = %(case)s"),
        ("id", sample_id, "id = %(id)s"),
        ("pollutant", pollutant, "pollutant = %(pollutant)s"),
        ("state", state, "state = %(state)s"),
    ):
        if value is not None:
            where.append(clause)
            params[name] = value
    if start is not None and end is not None:
        where.append("sampled_at >= %(start)s AND sampled_at < %(end)s")
        params.update(start=start, end=end)
    sql = f"{_SELECT} WHERE {' AND '.join(where)} ORDER BY sampled_at, id"
    rows = conn.execute(sql.encode(), params).fetchall()
    files = attachments(conn, "sample", [r[0] for r in rows])
    return [replace(Sample(*r), attachments=tuple(files.get(r[0], []))) for r in rows]


def accepted(
    conn: Conn, mns: list[str], start: datetime, end: datetime
) -> dict[str, list[tuple[str, datetime, float]]]:
    """Accepted samples of these stations taken in [start, end): (pollutant, time,
    value) per station, by time (the figures' manual values, rules/manual.py)."""
    found: dict[str, list[tuple[str, datetime, float]]] = {}
    for mn, pollutant, taken, value in conn.execute(
        "SELECT mn, pollutant, sampled_at, value FROM hj212.manual_sample"
        " WHERE state = 'accepted' AND mn = ANY(%s) AND sampled_at >= %s AND sampled_at < %s"
        " ORDER BY sampled_at, id",
        (mns, start, end),
    ):
        found.setdefault(mn, []).append((pollutant, taken, value))
    return found
