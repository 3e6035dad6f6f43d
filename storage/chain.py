"""The tamper-evident raw archive: a SHA-256 hash chain over every frame, per station.

Each row of ``hj212.frame`` stores ``hash`` and ``prev_hash``. Frames chain per station:
the chain key is the frame's MN, or ``''`` for frames without one (garbage, or a header
too damaged to read). Chain order is frame id order within the key: a writer takes a
chain's ids after it learnt the head it builds on, and commits only if that head is
still the stored one (storage/frame_batch.py step 5), so every frame committed to the
chain before has a lower id. The first frame of a chain has ``prev_hash`` = 32 zero bytes.

The hashed message is unambiguous (every variable part is length-prefixed)::

    SHA-256( b"hj212-frame-v1\\x00"
             || prev_hash                                   (32 bytes)
             || received_at, µs since 1970-01-01 UTC        (8 bytes, big-endian, signed)
             || len(transport) || transport (UTF-8)         (length: 8 bytes, big-endian)
             || len(peer)      || peer      (UTF-8)
             || len(raw)       || raw )

Changing a stored byte of ``raw``, the receive time, the peer or the transport breaks
that frame's hash; removing, inserting or reordering frames breaks the next frame's
``prev_hash`` link; removing frames at the end disagrees with ``chain_head``.
Retention (``drop_chunks``) removes the oldest frames whole, so verification anchors on
the stored ``prev_hash`` of the first frame it reads (and says whether that is genesis).

Each chain is read, frames and head, in one REPEATABLE READ snapshot: the writer stores
a batch's frames and advances their heads in one transaction, so a snapshot sees both or
neither. Read in two statements, a head committed between them named frames the first
read had not seen, and a healthy running system looked as if frames had been removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import struct
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import psycopg
from psycopg.rows import TupleRow

GENESIS = bytes(32)
DOMAIN = b"hj212-frame-v1\x00"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def micros(moment: datetime) -> int:
    """Microseconds since the epoch, UTC (a naive moment is taken as UTC); exact."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    delta = moment - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


_PACK = struct.Struct(">qQ").pack  # received_at µs (signed), then len(transport)


def link_hash(prev: bytes, received_at: datetime, transport: str, peer: str, raw: bytes) -> bytes:
    """The hash of one frame, chained to ``prev`` (see the module docstring)."""
    t, p = transport.encode(), peer.encode()
    size = len(p).to_bytes(8, "big"), len(raw).to_bytes(8, "big")
    message = (DOMAIN, prev, _PACK(micros(received_at), len(t)), t, size[0], p, size[1], raw)
    return hashlib.sha256(b"".join(message)).digest()


@dataclass(frozen=True)
class Break:
    """The first broken link found in one chain."""

    chain: str
    frame_id: int
    received_at: datetime
    reason: str


@dataclass
class Report:
    chains: int = 0
    frames: int = 0
    breaks: list[Break] = field(default_factory=list)
    unanchored: list[str] = field(default_factory=list)  # chains not starting at genesis
    # checkpoints (a signed anchor's chain heads, evidence/anchor.py): chain -> what was
    # found at the anchored frame: "match", "differs" (re-hashed), "missing"
    checkpoints: dict[str, tuple[int, bytes]] = field(default_factory=dict)
    checked: dict[str, str] = field(default_factory=dict)
    first_ids: dict[str, int] = field(default_factory=dict)  # first frame read per chain

    @property
    def ok(self) -> bool:
        return not self.breaks


_FRAMES = (
    "SELECT id, received_at, transport, peer, raw, hash, prev_hash FROM hj212.frame"
    " WHERE {chain} {window} ORDER BY id"
)


def _chain_filter(chain: str) -> str:
    return "(mn IS NULL OR mn = '')" if chain == "" else "mn = %(chain)s"


def _window(start: datetime | None, end: datetime | None) -> str:
    parts = []
    if start is not None:
        parts.append("AND received_at >= %(start)s")
    if end is not None:
        parts.append("AND received_at < %(end)s")
    return " ".join(parts)


def chains(
    conn: psycopg.Connection[TupleRow], start: datetime | None = None, end: datetime | None = None
) -> list[str]:
    """Every chain key with frames (in the window), and every chain head."""
    sql = f"SELECT DISTINCT coalesce(mn, '') FROM hj212.frame WHERE true {_window(start, end)}"
    with conn.transaction():  # ended here: each chain is then read in a snapshot of its own
        keys = {str(row[0]) for row in conn.execute(sql.encode(), {"start": start, "end": end})}
        if start is None and end is None:
            keys |= {str(row[0]) for row in conn.execute("SELECT chain FROM hj212.chain_head")}
    return sorted(keys)


def _rows(
    conn: psycopg.Connection[TupleRow],
    chain: str,
    start: datetime | None,
    end: datetime | None,
) -> Generator[TupleRow, None, None]:
    sql = _FRAMES.format(chain=_chain_filter(chain), window=_window(start, end))
    # a server-side cursor streams a long chain; it needs a transaction (or savepoint)
    with conn.transaction(), conn.cursor(name=f"verify_chain_{abs(hash(chain))}") as cur:
        cur.itersize = 2000
        cur.execute(sql.encode(), {"chain": chain, "start": start, "end": end})
        yield from cur


def verify_chain(
    conn: psycopg.Connection[TupleRow],
    chain: str,
    start: datetime | None = None,
    end: datetime | None = None,
    report: Report | None = None,
) -> Report:
    """Recompute one chain (in the window, if any); record its first broken link."""
    report = report if report is not None else Report()
    report.chains += 1
    with _snapshot(conn), contextlib.closing(_rows(conn, chain, start, end)) as frames:
        return _walk(conn, chain, frames, start, end, report)


@contextlib.contextmanager
def _snapshot(conn: psycopg.Connection[TupleRow]) -> Iterator[None]:
    """One read-only REPEATABLE READ transaction: every statement inside sees the same
    committed state. Inside a caller's transaction, that one must be a snapshot too."""
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        row = conn.execute("SHOW transaction_isolation").fetchone()
        if row is None or row[0] not in ("repeatable read", "serializable"):
            raise ValueError("verify a chain outside a transaction, or inside a snapshot")
        yield
        return
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def _walk(
    conn: psycopg.Connection[TupleRow],
    chain: str,
    frames: Iterator[TupleRow],
    start: datetime | None,
    end: datetime | None,
    report: Report,
) -> Report:
    prev_id: int | None = None
    prev_hash: bytes | None = None
    for frame_id, received_at, transport, peer, raw, stored, linked in frames:
        if stored is None:
            if prev_hash is None:
                continue  # archived before the chain existed (migration 0003)
            report.breaks.append(Break(chain, frame_id, received_at, "frame has no hash"))
            return report
        report.frames += 1
        report.first_ids.setdefault(chain, frame_id)
        link = bytes(linked) if linked is not None else b""
        if prev_hash is None:
            if link != GENESIS:
                report.unanchored.append(chain)  # retention dropped the start, or a window
        elif link != prev_hash:
            reason = f"prev_hash does not match the hash of frame {prev_id}: frames removed,"
            report.breaks.append(Break(chain, frame_id, received_at, reason + " added or moved"))
            return report
        computed = link_hash(link, received_at, transport, peer, bytes(raw))
        if computed != bytes(stored):
            reason = "hash does not match the frame's content: raw, time, peer or transport changed"
            report.breaks.append(Break(chain, frame_id, received_at, reason))
            return report
        prev_id, prev_hash = frame_id, computed
        _checkpoint(report, chain, frame_id, computed)
    if end is None:
        _check_head(conn, chain, prev_id, prev_hash, report)
    return report


def _checkpoint(report: Report, chain: str, frame_id: int, computed: bytes) -> None:
    """At the frame a signed anchor names: is the recomputed link the anchored one? An
    edit re-hashed all the way to the head passes every link, but not this."""
    anchored = report.checkpoints.get(chain)
    if anchored is not None and anchored[0] == frame_id:
        report.checked[chain] = "match" if anchored[1] == computed else "differs"


def _check_head(
    conn: psycopg.Connection[TupleRow],
    chain: str,
    last_id: int | None,
    last_hash: bytes | None,
    report: Report,
) -> None:
    row = conn.execute(
        "SELECT last_id, last_hash FROM hj212.chain_head WHERE chain = %s", (chain,)
    ).fetchone()
    if row is None or row[0] is None:
        if last_id is not None:
            report.breaks.append(
                Break(chain, last_id, _EPOCH, "chain head missing: hj212.chain_head was altered")
            )
        return
    head_id, head_hash = row
    if head_id != last_id or bytes(head_hash) != last_hash:
        report.breaks.append(
            Break(
                chain,
                int(head_id),
                _EPOCH,
                f"chain head names frame {head_id} but the last stored frame is {last_id}:"
                " frames removed from the end",
            )
        )


def verify(
    conn: psycopg.Connection[TupleRow],
    mn: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    checkpoints: dict[str, tuple[int, bytes]] | None = None,
) -> Report:
    """Verify one chain (``mn``; '' for frames without MN) or all of them; at each
    checkpoint (chain -> (frame id, hash), a signed anchor's) compare the recomputed link."""
    report = Report(checkpoints=dict(checkpoints or {}))
    for chain in [mn] if mn is not None else chains(conn, start, end):
        verify_chain(conn, chain, start, end, report)
    return report


# -- what an anchor signs (evidence/anchor.py) -------------------------------------------
Head = tuple[str, int, bytes, datetime]  # chain (or 'first'/'last'), id or seq, hash, time


@dataclass(frozen=True)
class Heads:
    """Every chain's head and the audit chain's first and last entries, in one snapshot."""

    database: str | None  # hj212.instance id
    at: datetime  # the snapshot's time, by the database's clock
    chains: list[Head]
    audit: list[Head]


def heads(conn: psycopg.Connection[TupleRow]) -> Heads:
    with conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        chains = conn.execute(
            "SELECT chain, last_id, last_hash, updated_at FROM hj212.chain_head"
            " WHERE last_id IS NOT NULL ORDER BY chain"
        ).fetchall()
        ends = conn.execute(
            "(SELECT 'first', seq, hash, at FROM hj212.audit_log WHERE seq IS NOT NULL"
            " ORDER BY seq LIMIT 1) UNION ALL (SELECT 'last', seq, hash, at FROM"
            " hj212.audit_log WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1)"
        ).fetchall()
        now = conn.execute("SELECT now(), (SELECT id::text FROM hj212.instance)").fetchone()
    assert now is not None
    return Heads(
        now[1],
        now[0],
        [(c, int(i), bytes(h), t) for c, i, h, t in chains],
        [(k, int(q), bytes(h), t) for k, q, h, t in ends],
    )


def instance_id(conn: psycopg.Connection[TupleRow]) -> str | None:
    """The id of the database ``conn`` is on (hj212.instance, migration 0053)."""
    row = conn.execute("SELECT id::text FROM hj212.instance").fetchone()
    return str(row[0]) if row else None
