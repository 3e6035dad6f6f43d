"""Corrections and substitutions (migration 0135, docs/corrections.md): proposed, reviewed,
and read for the figures. SQL only; what a value may be is decided in rules/corrections.py
and services/corrections.py. Each write is one transaction with its audit entry."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import psycopg
from psycopg.types.json import Jsonb

from rules.corrections import Adjusted, CorrectionError
from rules.lifecycle import LifecycleError
from rules.model import Alarm, Output
from rules.times import us
from storage import alarms, audit
from storage.db import Conn
from storage.marks import Attachment  # one voucher shape for marks and corrections

OUTCOMES = ("approved", "returned", "rejected")


@dataclass(frozen=True)
class CorrectionRow:
    id: int
    mn: str
    pollutant: str
    period_kind: str
    data_time: datetime
    original: float | None
    new_value: float
    kind: str
    rule: str | None
    basis: dict[str, object]
    reason: str
    proposed_by: str
    proposed_at: datetime
    state: str
    reviewed_by: str | None
    reviewed_at: datetime | None
    review_note: str
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class Proposal:
    """A checked proposal, ready to store (services/corrections.py builds it)."""

    mn: str
    pollutant: str
    data_time: datetime
    original: float | None
    new_value: float
    kind: str
    rule: str | None
    basis: dict[str, object]
    reason: str
    files: tuple[tuple[str, bytes], ...] = ()


def insert(conn: Conn, proposal: Proposal, who: str, at: datetime) -> int:
    """Store a proposal, its vouchers and its audit entry in one transaction."""
    p = proposal
    values = (p.mn, p.pollutant, p.data_time, p.original, p.new_value, p.kind, p.rule)
    with conn.transaction():
        row = conn.execute(
            "INSERT INTO hj212.correction (mn, pollutant, data_time, original, new_value, kind,"
            " rule, basis, reason, proposed_by, proposed_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (*values, Jsonb(p.basis), p.reason, who, at),
        ).fetchone()
        assert row is not None
        ident = int(row[0])
        stored = []
        for name, content in p.files:
            digest = hashlib.sha256(content).digest()
            conn.execute(
                "INSERT INTO hj212.correction_attachment (correction_id, name, sha256, size,"
                " content) VALUES (%s, %s, %s, %s, %s)",
                (ident, name, digest, len(content), content),
            )
            stored.append({"name": name, "sha256": digest.hex(), "size": len(content)})
        detail = {
            "kind": p.kind,
            "pollutant": p.pollutant,
            "data_time": p.data_time.isoformat(),
            "original": p.original,
            "new_value": p.new_value,
            "rule": p.rule,
            "reason": p.reason,
            "attachments": stored,
        }
        audit.append(conn, who, p.kind, f"correction:{ident}", detail, mn=p.mn)
    return ident


def review(
    conn: Conn, ident: int, outcome: str, who: str, note: str, at: datetime
) -> CorrectionRow:
    """Approve, return (for the enterprise to propose again) or reject a pending row."""
    if outcome not in OUTCOMES:
        raise CorrectionError(f"outcome must be one of {', '.join(OUTCOMES)}")
    try:
        return _review(conn, ident, outcome, who, note, at)
    except psycopg.errors.UniqueViolation:  # an approval of the same hour won the race
        raise CorrectionError("an approved value for this hour is in force already") from None


def _review(
    conn: Conn, ident: int, outcome: str, who: str, note: str, at: datetime
) -> CorrectionRow:
    with conn.transaction():
        found = get(conn, ident, lock=True)
        if found is None:
            raise CorrectionError(f"no correction {ident}")
        if found.state != "pending":
            raise CorrectionError(f"correction {ident} was already {found.state}")
        if who == found.proposed_by:
            raise CorrectionError(
                f"correction {ident} was proposed by {who}: another user must review it"
            )
        if outcome != "approved" and not note.strip():
            raise CorrectionError("a correction returned or rejected needs a note saying why")
        if outcome == "approved" and _in_force(conn, found) is not None:
            raise CorrectionError("an approved value for this hour is in force already")
        conn.execute(
            "UPDATE hj212.correction SET state = %s, reviewed_by = %s, reviewed_at = %s,"
            " review_note = %s WHERE id = %s",
            (outcome, who, at, note, ident),
        )
        detail = {"decision": outcome, "note": note}
        audit.append(conn, who, "review", f"correction:{ident}", detail, mn=found.mn)
    done = get(conn, ident)
    assert done is not None
    return done


def taken(conn: Conn, mn: str, pollutant: str, data_time: datetime) -> bool:
    """Whether the hour has a proposal pending or a value in force already."""
    found = conn.execute(
        "SELECT 1 FROM hj212.correction WHERE mn = %s AND pollutant = %s AND data_time = %s"
        " AND state IN ('pending', 'approved') LIMIT 1",
        (mn, pollutant, data_time),
    ).fetchone()
    return found is not None


def _in_force(conn: Conn, row: CorrectionRow) -> int | None:
    found = conn.execute(
        "SELECT id FROM hj212.correction WHERE mn = %s AND pollutant = %s AND period_kind = %s"
        " AND data_time = %s AND state = 'approved'",
        (row.mn, row.pollutant, row.period_kind, row.data_time),
    ).fetchone()
    return int(found[0]) if found else None


_SELECT = (
    "SELECT id, mn, pollutant, period_kind, data_time, original, new_value, kind, rule, basis,"
    " reason, proposed_by, proposed_at, state, reviewed_by, reviewed_at, review_note"
    " FROM hj212.correction"
)


def get(conn: Conn, ident: int, *, lock: bool = False) -> CorrectionRow | None:
    sql = _SELECT + " WHERE id = %s" + (" FOR UPDATE" if lock else "")
    rows = _with_files(conn, conn.execute(sql.encode(), (ident,)).fetchall())
    return rows[0] if rows else None


def list_rows(
    conn: Conn,
    *,
    mns: Sequence[str] | None = None,
    state: str | None = None,
    limit: int = 500,
) -> list[CorrectionRow]:
    """Proposals, newest first, of the stations ``mns`` (None: all) and a state."""
    sql = (
        _SELECT + " WHERE (%(mns)s::text[] IS NULL OR mn = ANY(%(mns)s))"
        " AND (%(state)s::text IS NULL OR state = %(state)s)"
        " ORDER BY proposed_at DESC, id DESC LIMIT %(limit)s"
    )
    params = {"mns": list(mns) if mns is not None else None, "state": state, "limit": limit}
    return _with_files(conn, conn.execute(sql.encode(), params).fetchall())


def _with_files(conn: Conn, rows: list[tuple[object, ...]]) -> list[CorrectionRow]:
    files: dict[object, list[Attachment]] = {}
    if rows:
        for owner, aid, name, digest, size in conn.execute(
            "SELECT correction_id, id, name, sha256, size FROM hj212.correction_attachment"
            " WHERE correction_id = ANY(%s) ORDER BY id",
            ([r[0] for r in rows],),
        ):
            files.setdefault(owner, []).append(Attachment(aid, name, bytes(digest).hex(), size))
    out = []
    for r in rows:
        made = CorrectionRow(*r)  # type: ignore[arg-type]
        out.append(replace(made, attachments=tuple(files.get(r[0], []))))
    return out


def attachment(conn: Conn, correction_id: int, attachment_id: int) -> tuple[str, bytes]:
    row = conn.execute(
        "SELECT name, content FROM hj212.correction_attachment WHERE id = %s"
        " AND correction_id = %s",
        (attachment_id, correction_id),
    ).fetchone()
    if row is None:
        raise CorrectionError(f"no attachment {attachment_id} on correction {correction_id}")
    return str(row[0]), bytes(row[1])


def in_force(
    conn: Conn, mns: Sequence[str], start: datetime, end: datetime
) -> dict[str, dict[tuple[str, int], Adjusted]]:
    """The approved hourly values of ``mns`` over [start, end): MN -> (pollutant, hour
    µs) -> what it is and its value."""
    out: dict[str, dict[tuple[str, int], Adjusted]] = {}
    for mn, code, at, kind, value in conn.execute(
        "SELECT mn, pollutant, data_time, kind, new_value FROM hj212.correction"
        " WHERE state = 'approved' AND period_kind = 'hour' AND mn = ANY(%s)"
        " AND data_time >= %s AND data_time < %s",
        (list(mns), start, end),
    ):
        out.setdefault(mn, {})[(code, us(at))] = Adjusted(kind, float(value))
    return out


REJUDGE_ACTOR = "rules-engine"


def close_withdrawn(conn: Conn, outputs: Sequence[Output]) -> int:
    """Close (lifecycle) the alarms a re-judgement withdrew (rules/rejudge.py), with its
    reason as the note, in the caller's transaction; how many were closed."""
    closed = 0
    for out in outputs:
        if not isinstance(out, Alarm) or out.kind != "rejudged":
            continue
        keys = out.detail.get("cleared") or []
        reason = str(out.detail.get("reason", "re-judged"))
        for key in keys if isinstance(keys, list) else []:
            row = conn.execute("SELECT id FROM hj212.alarm WHERE key = %s", (key,)).fetchone()
            if row is None:
                continue
            try:
                alarms.act(conn, int(row[0]), "close", REJUDGE_ACTOR, f"re-judged: {reason}")
            except LifecycleError:
                continue  # closed already by an operator
            closed += 1
    return closed
