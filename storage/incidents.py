"""Reports and notices on cases, the regulator's reviews, and their attachments
(migration 0100; docs/regulations.md §6.5).

SQL only: the forms are checked and the transaction is opened by
services/case_forms.py, which calls these functions inside it, with the audit entry.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from psycopg.types.range import Range

from storage.console_queries import SCOPE
from storage.db import Conn, DictConn


@dataclass(frozen=True)
class CaseRow:
    """A case as a filing needs it: its station, its window, whether it is open."""

    id: int
    key: str
    mn: str
    kind: str
    pollutant: str | None
    state: str
    opened_at: datetime
    started_at: datetime | None
    closed_at: datetime | None
    report_due: datetime | None
    restore_due: datetime | None
    region_code: str = ""
    enterprise: str = ""


@dataclass(frozen=True)
class AttachmentRow:
    id: int
    name: str
    content_type: str
    sha256: str
    size: int


@dataclass(frozen=True)
class Report:
    id: int
    mn: str
    case_id: int | None
    kind: str
    cause: str
    started_at: datetime | None
    expected_restore: datetime | None
    measures: str
    start: datetime | None  # a notice's window
    end: datetime | None
    corrects: int | None
    filed_by: str
    filed_at: datetime
    state: str
    late: bool  # a written report filed after its case's report deadline
    review_note: str = ""
    attachments: tuple[AttachmentRow, ...] = ()


_CASE = (
    "SELECT c.id, c.key, c.mn, c.kind, c.pollutant, c.state, c.opened_at, c.started_at,"
    " c.closed_at, c.report_due, c.restore_due, coalesce(s.region_code, ''),"
    " coalesce(s.enterprise, '') FROM hj212.case c LEFT JOIN hj212.station s ON s.mn = c.mn"
)


def case(conn: Conn, case_id: int) -> CaseRow | None:
    row = conn.execute(_CASE + " WHERE c.id = %s", (case_id,)).fetchone()
    return CaseRow(*row) if row is not None else None


def case_for_update(conn: Conn, case_id: int) -> CaseRow | None:
    """The case, locked until the transaction ends (a filing and its case agree)."""
    row = conn.execute(_CASE + " WHERE c.id = %s FOR SHARE OF c", (case_id,)).fetchone()
    return CaseRow(*row) if row is not None else None


def open_cases(conn: Conn, mns: list[str]) -> list[CaseRow]:
    """The open cases of these stations, oldest first."""
    rows = conn.execute(
        _CASE + " WHERE c.state = 'open' AND c.mn = ANY(%s) ORDER BY c.opened_at, c.id", (mns,)
    ).fetchall()
    return [CaseRow(*r) for r in rows]


def stations_in(conn: Conn, prefix: str, enterprise: str | None) -> list[str]:
    """The stations of a jurisdiction (storage/console_queries.py SCOPE)."""
    rows = conn.execute(
        f"SELECT s.mn FROM hj212.station s WHERE {SCOPE} ORDER BY s.mn".encode(),
        {"prefix": prefix, "enterprise": enterprise},
    ).fetchall()
    return [str(r[0]) for r in rows]


def station_exists(conn: Conn, mn: str) -> bool:
    return conn.execute("SELECT 1 FROM hj212.station WHERE mn = %s", (mn,)).fetchone() is not None


def insert_report(
    conn: Conn,
    *,
    mn: str,
    case_id: int | None,
    kind: str,
    who: str,
    at: datetime,
    cause: str = "",
    started_at: datetime | None = None,
    expected_restore: datetime | None = None,
    measures: str = "",
    window: tuple[datetime, datetime] | None = None,
    corrects: int | None = None,
) -> int:
    period = Range(window[0], window[1], "[)") if window is not None else None
    values = (mn, case_id, kind, cause, started_at, expected_restore, measures, period)
    row = conn.execute(
        "INSERT INTO hj212.case_report (mn, case_id, kind, cause, started_at,"
        " expected_restore, measures, period, corrects, filed_by, filed_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
        (*values, corrects, who, at),
    ).fetchone()
    assert row is not None
    return int(row[0])


def insert_attachment(
    conn: Conn,
    owner: str,
    owner_id: int,
    *,
    name: str,
    content_type: str,
    sha256: bytes,
    content: bytes,
) -> int:
    """An attachment of a report (``owner`` "report") or a sample ("sample"); the
    database checks the SHA-256 against the content (migration 0100)."""
    column = {"report": "report_id", "sample": "sample_id"}[owner]
    row = conn.execute(
        f"INSERT INTO hj212.case_attachment ({column}, name, content_type, sha256, size,"  # the column: from the table above
        " content) VALUES (%s, %s, %s, %s, %s, %s) RETURNING id".encode(),
        (owner_id, name, content_type, sha256, len(content), content),
    ).fetchone()
    assert row is not None
    return int(row[0])


def report_for_update(conn: Conn, report_id: int) -> Report | None:
    found = _reports(conn, "r.id = %(id)s", {"id": report_id}, lock=True)
    return found[0] if found else None


def insert_review(
    conn: Conn,
    report_id: int,
    *,
    decision: str,
    note: str,
    who: str,
    at: datetime,
    mark_id: int | None = None,
) -> int:
    row = conn.execute(
        "INSERT INTO hj212.case_review (report_id, decision, note, reviewed_by, reviewed_at,"
        " mark_id) VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
        (report_id, decision, note, who, at, mark_id),
    ).fetchone()
    assert row is not None
    conn.execute("UPDATE hj212.case_report SET state = %s WHERE id = %s", (decision, report_id))
    return int(row[0])


def insert_notice_mark(
    conn: Conn, mn: str, window: tuple[datetime, datetime], category: str, reason: str, who: str
) -> int:
    """The data mark an acknowledged advance notice gives its window (docs/regulations.md
    §6.5: a planned stop is 停运, planned maintenance 自动监测设备维护)."""
    row = conn.execute(
        "INSERT INTO hj212.data_mark (mn, pollutant, period, category, invalidates, reason,"
        " source, marked_by) VALUES (%s, NULL, %s, %s, true, %s, 'manual', %s) RETURNING id",
        (mn, Range(window[0], window[1], "[)"), category, reason, who),
    ).fetchone()
    assert row is not None
    return int(row[0])


_REPORT = (
    "SELECT r.id, r.mn, r.case_id, r.kind, r.cause, r.started_at, r.expected_restore,"
    " r.measures, lower(r.period), upper(r.period), r.corrects, r.filed_by, r.filed_at,"
    " r.state, (r.kind = 'written' AND r.filed_at > c.report_due) IS TRUE,"
    " coalesce((SELECT v.note FROM hj212.case_review v WHERE v.report_id = r.id"
    " ORDER BY v.id DESC LIMIT 1), '')"
    " FROM hj212.case_report r LEFT JOIN hj212.case c ON c.id = r.case_id"
)


def _reports(
    conn: Conn, where: str, params: dict[str, object], *, lock: bool = False
) -> list[Report]:
    sql = f"{_REPORT} WHERE {where} ORDER BY r.id" + (" FOR UPDATE OF r" if lock else "")
    rows = conn.execute(sql.encode(), params).fetchall()
    files = attachments(conn, "report", [r[0] for r in rows])
    return [replace(Report(*r), attachments=tuple(files.get(r[0], []))) for r in rows]


def reports(
    conn: Conn,
    *,
    mns: list[str] | None = None,
    case_id: int | None = None,
    report_id: int | None = None,
    state: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[Report]:
    """Reports and notices, oldest first: of these stations, this case, in this state,
    filed in [start, end)."""
    where, params = ["true"], dict[str, object]()
    if mns is not None:
        where.append("r.mn = ANY(%(mns)s)")
        params["mns"] = mns
    if case_id is not None:
        where.append("r.case_id = %(case)s")
        params["case"] = case_id
    if report_id is not None:
        where.append("r.id = %(id)s")
        params["id"] = report_id
    if state is not None:
        where.append("r.state = %(state)s")
        params["state"] = state
    if start is not None and end is not None:
        where.append("r.filed_at >= %(start)s AND r.filed_at < %(end)s")
        params.update(start=start, end=end)
    return _reports(conn, " AND ".join(where), params)


def attachments(conn: Conn, owner: str, ids: list[int]) -> dict[int, list[AttachmentRow]]:
    """The attachments of these reports or samples, by owner id, in the order added."""
    if not ids:
        return {}
    column = {"report": "report_id", "sample": "sample_id"}[owner]
    found: dict[int, list[AttachmentRow]] = {}
    for owner_id, ident, name, content_type, digest, size in conn.execute(
        f"SELECT {column}, id, name, content_type, sha256, size FROM hj212.case_attachment"  # the column: from the table above
        f" WHERE {column} = ANY(%s) ORDER BY id".encode(),
        (ids,),
    ):
        row = AttachmentRow(ident, name, content_type, bytes(digest).hex(), size)
        found.setdefault(owner_id, []).append(row)
    return found


def attachment(conn: Conn, attachment_id: int) -> tuple[str, str, str, bytes] | None:
    """(station, name, content type, content) of one attachment."""
    row = conn.execute(
        "SELECT coalesce(r.mn, s.mn), a.name, a.content_type, a.content"
        " FROM hj212.case_attachment a"
        " LEFT JOIN hj212.case_report r ON r.id = a.report_id"
        " LEFT JOIN hj212.manual_sample s ON s.id = a.sample_id WHERE a.id = %s",
        (attachment_id,),
    ).fetchone()
    if row is None:
        return None
    return row[0], row[1], row[2], bytes(row[3])


# -- the evidence bundle's part (evidence/export.py, on its dict-row snapshot) --------
_WINDOW_REPORTS = (
    "SELECT r.id, r.mn, r.case_id, c.key AS case_key, r.kind, r.cause, r.started_at,"
    " r.expected_restore, r.measures, lower(r.period) AS start, upper(r.period) AS end,"
    " r.corrects, r.filed_by, r.filed_at, r.state,"
    " (r.kind = 'written' AND r.filed_at > c.report_due) IS TRUE AS late"
    " FROM hj212.case_report r LEFT JOIN hj212.case c ON c.id = r.case_id"
    " WHERE r.mn = %(mn)s AND ((r.filed_at >= %(start)s AND r.filed_at < %(end)s)"
    " OR r.period && tstzrange(%(start)s, %(end)s)"
    " OR (c.opened_at < %(end)s AND (c.closed_at IS NULL OR c.closed_at >= %(start)s)))"
    " ORDER BY r.id"
)
_WINDOW_SAMPLES = (
    "SELECT s.*, c.key AS case_key FROM hj212.manual_sample s JOIN hj212.case c"
    " ON c.id = s.case_id WHERE s.mn = %(mn)s AND ((s.sampled_at >= %(start)s"
    " AND s.sampled_at < %(end)s) OR (c.opened_at < %(end)s"
    " AND (c.closed_at IS NULL OR c.closed_at >= %(start)s))) ORDER BY s.sampled_at, s.id"
)


def window_filings(conn: DictConn, mn: str, start: datetime, end: datetime) -> dict[str, Any]:
    """The reports (with their reviews), samples and attachments (with their content)
    of ``mn`` that concern [start, end): filed in it, or on a case open in it."""
    window = {"mn": mn, "start": start, "end": end}
    reports = conn.execute(_WINDOW_REPORTS, window).fetchall()
    ids = [r["id"] for r in reports]
    reviews = conn.execute(
        "SELECT * FROM hj212.case_review WHERE report_id = ANY(%s) ORDER BY id", (ids,)
    ).fetchall()
    for report in reports:
        report["reviews"] = [v for v in reviews if v["report_id"] == report["id"]]
    samples = conn.execute(_WINDOW_SAMPLES, window).fetchall()
    files = conn.execute(
        "SELECT id, report_id, sample_id, name, content_type, sha256, size, content, added_at"
        " FROM hj212.case_attachment WHERE report_id = ANY(%s) OR sample_id = ANY(%s)"
        " ORDER BY id",
        (ids, [s["id"] for s in samples]),
    ).fetchall()
    return {"reports": reports, "samples": samples, "attachments": files}
