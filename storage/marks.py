"""Data marks (标记) proposed by the enterprise, reviewed by the regulator.

A proposal (``hj212.mark_request``) changes nothing until a regulator approves it:
approval writes the ``hj212.data_mark`` row that the rules engine and the reports
apply (docs/regulations.md §1.3; migration 0031). Every step is audited in the same
transaction (:func:`storage.audit.append`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from psycopg.types.range import Range

from storage import audit
from storage.db import Conn

KINDS = ("shutdown", "maintenance", "calibration", "force-majeure", "other")
# What rules/validity.py makes of each category: shutdown and force majeure take the
# hours out of the period (SHUTDOWN / EXEMPT); the others make them invalid.
CATEGORY = {k: k for k in KINDS}


class MarkError(ValueError):
    """A mark that cannot be made or reviewed as asked."""


@dataclass(frozen=True)
class Attachment:
    id: int
    name: str
    sha256: str
    size: int


@dataclass(frozen=True)
class MarkRequest:
    id: int
    mn: str
    pollutant: str | None
    start: datetime
    end: datetime
    kind: str
    reason: str
    requested_by: str
    requested_at: datetime
    state: str
    reviewed_by: str | None
    reviewed_at: datetime | None
    review_note: str
    mark_id: int | None
    attachments: tuple[Attachment, ...] = ()


def add(
    conn: Conn,
    *,
    mn: str,
    start: datetime,
    end: datetime,
    kind: str,
    reason: str,
    who: str,
    pollutant: str | None = None,
    attachments: tuple[Path, ...] = (),
    contents: tuple[tuple[str, bytes], ...] = (),
) -> int:
    """Propose a mark; returns its id. Commits (with its audit entry). Attachments are
    files (``attachments``) or (name, bytes) sent through the console (``contents``)."""
    if kind not in KINDS:
        raise MarkError(f"kind must be one of {', '.join(KINDS)}")
    if not end > start:
        raise MarkError("the period is empty: --to must be after --from")
    if not reason.strip():
        raise MarkError("a mark needs a reason")
    files = [(p.name, p.read_bytes()) for p in attachments] + list(contents)
    with conn.transaction():
        row = conn.execute(
            "INSERT INTO hj212.mark_request (mn, pollutant, period, kind, reason, requested_by)"
            " VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
            (mn, pollutant, Range(start, end, "[)"), kind, reason, who),
        ).fetchone()
        assert row is not None
        ident = int(row[0])
        stored = []
        for name, content in files:
            digest = hashlib.sha256(content).digest()
            conn.execute(
                "INSERT INTO hj212.mark_attachment (request_id, name, sha256, size, content)"
                " VALUES (%s, %s, %s, %s, %s)",
                (ident, name, digest, len(content), content),
            )
            stored.append({"name": name, "sha256": digest.hex(), "size": len(content)})
        detail = {
            "kind": kind,
            "pollutant": pollutant,
            "from": start.isoformat(),
            "to": end.isoformat(),
            "reason": reason,
            "attachments": stored,
        }
        audit.append(conn, who, "mark", f"mark_request:{ident}", detail, mn=mn)
    return ident


def review(conn: Conn, ident: int, *, approve: bool, who: str, note: str = "") -> int | None:
    """Approve (writes the data_mark the engine applies; returns its id) or reject."""
    with conn.transaction():
        row = conn.execute(
            "SELECT mn, pollutant, period, kind, reason, state, requested_by"
            " FROM hj212.mark_request WHERE id = %s FOR UPDATE",
            (ident,),
        ).fetchone()
        if row is None:
            raise MarkError(f"no mark {ident}")
        mn, pollutant, period, kind, reason, state, requested_by = row
        if state != "pending":
            raise MarkError(f"mark {ident} was already {state}")
        if who == requested_by:
            raise MarkError(f"mark {ident} was made by {who}: another user must review it")
        mark_id = None
        if approve:
            found = conn.execute(
                "INSERT INTO hj212.data_mark"
                " (mn, pollutant, period, category, invalidates, reason, source, marked_by)"
                " VALUES (%s, %s, %s, %s, true, %s, 'manual', %s) RETURNING id",
                (mn, pollutant, period, CATEGORY[kind], f"{reason} (mark {ident})", who),
            ).fetchone()
            assert found is not None
            mark_id = int(found[0])
        conn.execute(
            "UPDATE hj212.mark_request SET state = %s, reviewed_by = %s,"
            " reviewed_at = now(), review_note = %s, mark_id = %s WHERE id = %s",
            ("approved" if approve else "rejected", who, note, mark_id, ident),
        )
        detail: dict[str, object] = {"decision": "approved" if approve else "rejected"}
        detail["note"] = note
        if mark_id is not None:
            detail["data_mark"] = mark_id
        audit.append(conn, who, "review", f"mark_request:{ident}", detail, mn=mn)
    return mark_id


_SELECT = (
    "SELECT id, mn, pollutant, lower(period), upper(period), kind, reason, requested_by,"
    " requested_at, state, reviewed_by, reviewed_at, review_note, mark_id"
    " FROM hj212.mark_request"
)


def list_requests(
    conn: Conn,
    *,
    mn: str | None = None,
    state: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[MarkRequest]:
    """Proposed marks (with their attachments), oldest first; overlapping a window if given."""
    where, params = ["true"], dict[str, object]()
    if mn is not None:
        where.append("mn = %(mn)s")
        params["mn"] = mn
    if state is not None:
        where.append("state = %(state)s")
        params["state"] = state
    if start is not None and end is not None:
        where.append("period && tstzrange(%(start)s, %(end)s)")
        params.update(start=start, end=end)
    sql = f"{_SELECT} WHERE {' AND '.join(where)} ORDER BY id"
    rows = conn.execute(sql.encode(), params).fetchall()
    files: dict[int, list[Attachment]] = {}
    if rows:
        for req, aid, name, digest, size in conn.execute(
            "SELECT request_id, id, name, sha256, size FROM hj212.mark_attachment"
            " WHERE request_id = ANY(%s) ORDER BY id",
            ([r[0] for r in rows],),
        ):
            files.setdefault(req, []).append(Attachment(aid, name, bytes(digest).hex(), size))
    return [replace(MarkRequest(*r), attachments=tuple(files.get(r[0], []))) for r in rows]


def attachment_content(conn: Conn, attachment_id: int) -> bytes:
    row = conn.execute(
        "SELECT content FROM hj212.mark_attachment WHERE id = %s", (attachment_id,)
    ).fetchone()
    if row is None:
        raise MarkError(f"no attachment {attachment_id}")
    return bytes(row[0])
