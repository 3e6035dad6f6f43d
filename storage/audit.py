"""The audit log (``hj212.audit_log``): who did what, append-only and hash-chained.

Every writer of the audit log goes through :func:`append` (or, for changes to stations,
marks, commands and users, the database's own triggers; a console read's first count in
its interval, storage/access_log.py, inserts its entry in the statement that counts it). The database links each entry into
one SHA-256 chain as it is inserted (migration 0030), in ``seq`` order::

    hash = SHA-256( b"hj212-audit-v1\\x00" || prev_hash (32 bytes)
                    || seq || id || at (µs since 1970-01-01 UTC)     (8 bytes each, BE)
                    || text(actor) || text(action) || text(object) || text(mn)
                    || text(detail as jsonb text) )
    text(s) = len(UTF-8 of s) (8 bytes, BE, signed) || UTF-8 of s;  text(NULL) = -1

The first entry's ``prev_hash`` is 32 zero bytes; ``hj212.audit_head`` holds the last
link. :func:`verify` recomputes the chain in Python: an edited entry breaks its own
hash, a removed or inserted one the next ``prev_hash``, a removed tail the head.
Retention (``drop_chunks``, [storage] retention_days_audit, 5 years by default) drops
whole old chunks: verification then anchors on the first remaining entry's prev_hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import TupleRow
from psycopg.types.json import Jsonb

from rules.times import machine
from storage.chain import GENESIS, micros
from storage.db import Conn

DOMAIN = b"hj212-audit-v1\x00"

_INSERT = (
    "INSERT INTO hj212.audit_log (actor, action, object, mn, detail)"
    " VALUES (%s, %s, %s, %s, %s) RETURNING id"
)


def append(
    conn_or_dsn: Conn | str,
    who: str,
    action: str,
    target: str,
    detail: Mapping[str, object] | None = None,
    *,
    mn: str | None = None,
) -> int:
    """Write one audit entry and return its id.

    :param conn_or_dsn: a connection (the entry joins its transaction, so it commits or
        rolls back with the action it records) or a DSN (written and committed at once).
    :param who: the user (login name) or component acting.
    :param action: what was done: ``login``, ``read``, ``export``, ``command``, ``mark``,
        ``review``, ``config`` ...
    :param target: what it was done to (``station:MN``, ``mark:12``, a report name ...).
    :param detail: anything else, as JSON (never secrets).
    :param mn: the station concerned, if any (indexed for the console's station view).
    """
    params = (who, action, target, mn, Jsonb(dict(detail or {})))
    if isinstance(conn_or_dsn, str):
        with psycopg.connect(conn_or_dsn, autocommit=True) as conn:
            return _insert(conn, params)
    return _insert(conn_or_dsn, params)


async def append_async(
    conn: psycopg.AsyncConnection[TupleRow],
    who: str,
    action: str,
    target: str,
    detail: Mapping[str, object] | None = None,
    *,
    mn: str | None = None,
) -> int:
    """:func:`append` for an async connection (the entry joins its transaction)."""
    cur = await conn.execute(_INSERT, (who, action, target, mn, Jsonb(dict(detail or {}))))
    row = await cur.fetchone()
    assert row is not None
    return int(row[0])


def name_client(conn: Conn, client: str) -> None:
    """Name ``client`` (an address, ``local:user@host``) on this connection, for the rest
    of its session, and no actor yet: the entries written through it, by triggers too,
    carry them (migration 0062). Session-level, so a pooled connection is named afresh
    for every request that takes it and none inherits another's user."""
    conn.execute(
        "SELECT set_config('hj212.client', %s, false), set_config('hj212.actor', '', false)",
        (client,),
    )


def name_actor(conn: Conn, actor: str) -> None:
    """Name ``actor`` (a console user) on this connection for the rest of its session, as
    the ``actor`` of the audit entries triggers write through it (migration 0062); the
    transaction-local form is storage/console_store.py's ``acting``."""
    conn.execute("SELECT set_config('hj212.actor', %s, false)", (actor,))


def _insert(conn: Conn, params: tuple[object, ...]) -> int:
    row = conn.execute(_INSERT, params).fetchone()
    assert row is not None
    return int(row[0])


def _text(value: str | None) -> bytes:
    if value is None:
        return (-1).to_bytes(8, "big", signed=True)
    data = value.encode()
    return len(data).to_bytes(8, "big", signed=True) + data


def link_hash(
    prev: bytes,
    seq: int,
    ident: int,
    at: datetime,
    actor: str,
    action: str,
    target: str,
    mn: str | None,
    detail_text: str,
) -> bytes:
    """The hash of one entry, chained to ``prev`` (see the module docstring)."""
    numbers = b"".join(n.to_bytes(8, "big", signed=True) for n in (seq, ident, micros(at)))
    parts = (DOMAIN, prev, numbers, *map(_text, (actor, action, target, mn, detail_text)))
    return hashlib.sha256(b"".join(parts)).digest()


@dataclass(frozen=True)
class Entry:
    seq: int | None
    id: int
    at: datetime
    actor: str
    action: str
    target: str  # the audit_log column "object"
    mn: str | None
    detail: dict[str, Any]


@dataclass
class AuditReport:
    entries: int = 0
    unchained: int = 0  # written before migration 0030
    anchored_at_genesis: bool = True
    first_bad: str | None = None  # the first broken entry, described
    first_seq: int | None = None  # the first entry still stored
    # checkpoints from a signed anchor (evidence/anchor.py): seq -> hash, and what was
    # found there: seq -> "match" | "differs"
    checkpoints: dict[int, bytes] = field(default_factory=dict)
    checked: dict[int, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.first_bad is None


_ROWS = (
    "SELECT seq, id, at, actor, action, object, mn, detail::text, hash, prev_hash"
    " FROM hj212.audit_log WHERE seq IS NOT NULL ORDER BY seq"
)
# An entry without a link after the chain began was written with the trigger bypassed.
_UNCHAINED = (
    "SELECT count(*), min(id) FILTER (WHERE id > (SELECT min(id) FROM hj212.audit_log"
    " WHERE seq IS NOT NULL)) FROM hj212.audit_log WHERE seq IS NULL"
)


def _rows(conn: Conn) -> Iterator[TupleRow]:
    with conn.transaction(), conn.cursor(name="audit_verify") as cur:
        cur.itersize = 2000
        cur.execute(_ROWS)
        yield from cur


def verify(conn: Conn, checkpoints: Mapping[int, bytes] | None = None) -> AuditReport:
    """Recompute the audit chain; the report names the first bad entry, if any, and
    what it found at each checkpoint (seq -> hash a signed anchor recorded)."""
    report = AuditReport(checkpoints=dict(checkpoints or {}))
    count, late = conn.execute(_UNCHAINED).fetchone() or (0, None)
    report.unchained = int(count)
    if late is not None:
        report.first_bad = f"audit entry id {late}: has no hash (written around the chain)"
        return report
    prev: bytes | None = None
    last: tuple[int, int] | None = None  # (seq, id)
    for seq, ident, at, actor, action, target, mn, detail, stored, linked in _rows(conn):
        where = f"audit entry id {ident} (seq {seq}, {at.isoformat()}, {action} {target})"
        if stored is None:
            report.first_bad = f"{where}: has no hash"
            return report
        report.entries += 1
        link = bytes(linked) if linked is not None else b""
        if prev is None:
            report.anchored_at_genesis = link == GENESIS
        elif link != prev:
            report.first_bad = (
                f"{where}: prev_hash does not match the previous entry (seq {last and last[0]}):"
                " entries removed, inserted or reordered"
            )
            return report
        if last is not None and seq != last[0] + 1:
            report.first_bad = f"{where}: seq follows {last[0]}: entries removed"
            return report
        computed = link_hash(link, seq, ident, at, actor, action, target, mn, detail)
        if computed != bytes(stored):
            report.first_bad = f"{where}: hash does not match its content: the entry was altered"
            return report
        prev, last = computed, (seq, ident)
        if report.first_seq is None:
            report.first_seq = seq
        if seq in report.checkpoints:
            report.checked[seq] = "match" if report.checkpoints[seq] == computed else "differs"
    _check_head(conn, last, prev, report)
    return report


def _check_head(
    conn: Conn, last: tuple[int, int] | None, last_hash: bytes | None, report: AuditReport
) -> None:
    row = conn.execute("SELECT last_seq, last_hash FROM hj212.audit_head").fetchone()
    if row is None:
        report.first_bad = "hj212.audit_head is missing: the chain head was removed"
        return
    head_seq, head_hash = int(row[0]), bytes(row[1])
    if last is None:
        if head_seq != 0:
            report.first_bad = f"the chain head names entry seq {head_seq} but no entry is stored"
        return
    if head_seq != last[0] or head_hash != last_hash:
        report.first_bad = (
            f"the chain head names entry seq {head_seq} but the last stored entry is seq"
            f" {last[0]} (id {last[1]}): entries removed from the end"
        )


def entries(
    conn: Conn,
    *,
    mn: str | None = None,
    action: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    limit: int = 1000,
) -> list[Entry]:
    """Audit entries, newest first, filtered by station, action and time."""
    where, params = ["true"], dict[str, object]()
    for name, value, clause in (
        ("mn", mn, "mn = %(mn)s"),
        ("action", action, "action = %(action)s"),
        ("start", start, "at >= %(start)s"),
        ("end", end, "at < %(end)s"),
    ):
        if value is not None:
            where.append(clause)
            params[name] = value
    params["limit"] = limit
    sql = (
        "SELECT seq, id, at, actor, action, object, mn, detail FROM hj212.audit_log"
        f" WHERE {' AND '.join(where)} ORDER BY at DESC, id DESC LIMIT %(limit)s"
    )
    return [Entry(*row) for row in conn.execute(sql.encode(), params)]


def to_json(entry: Entry) -> str:
    """One entry as a JSON line."""
    row = dict(entry.__dict__, at=machine(entry.at))  # ISO 8601, Beijing time
    return json.dumps(row, ensure_ascii=False, default=str)
