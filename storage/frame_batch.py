"""One batch of frames in one transaction: the SQL of the batched writer
(services/writer.py groups the frames and resolves their futures).

:func:`write` stores the frames' archive rows and their measurements and device-status
rows, and returns each frame's archive status (``ok``, ``duplicate``, ``rejected``,
``garbage``) once committed (``synchronous_commit`` on: the WAL is flushed).

One transaction per batch (storage/chain.py explains the chain):
1. the head of every station in the batch: from the lane's :class:`HeadCache` (what this
   lane itself last committed for the chain), else read and locked (``SELECT ... FOR
   UPDATE``, in key order: no deadlocks between gateway processes);
2. take frame ids (within a chain, id order is chain order: see step 5);
3. find which measurements are repeats. A record newer than the station's high-water
   DataTime per CN (``chain_head.data_high``) cannot be stored yet, so in the usual,
   in-order case no lookup is made at all; older ones (retransmissions, back-filled 补传
   data) are looked up on the unique index, bounded in time so that only the chunks
   concerned are probed (a unique violation, possible only for rows written around the
   writer, redoes the batch looking every record up);
4. hash chain, then binary COPY of every frame with its status: a frame whose every
   record was already stored is archived as ``duplicate``;
5. advance the chain heads, each only if its ``last_id`` is still the one this batch
   built on (docs/performance.md §9). Another writer of the station holds its head row
   from its first step to its commit, so the UPDATE waits for it and then finds the
   head moved: the batch fails and is redone with those heads locked. Whatever this
   batch read (head, high-water mark) is thus what is stored when it commits, which
   makes check-then-insert exact; a cached head costs no lock and no read;
6. binary COPY of the new measurements straight into the hypertable (no staging table,
   no ON CONFLICT); commit. Device-status rows and device events (``hj212.device_event``:
   what answers and event uploads say, a few per frame) go in before step 4, with ON
   CONFLICT DO NOTHING: whether they were new decides ``duplicate``.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import TupleRow

from storage import upstream_queue
from storage.chain import GENESIS, link_hash, micros
from storage.db import AsyncConn
from storage.records import EventRow, FrameRecord, MeasurementRow, StatusRow, safe

log = logging.getLogger(__name__)

Cursor = psycopg.AsyncCursor[TupleRow]

_LOCK_HEADS = (
    "SELECT chain, last_id, last_hash, data_high FROM hj212.chain_head"
    " WHERE chain = ANY(%s::text[]) ORDER BY chain FOR UPDATE"
)
_NEW_HEADS = (
    "INSERT INTO hj212.chain_head AS h (chain) SELECT unnest(%s::text[])"
    " ON CONFLICT (chain) DO UPDATE SET updated_at = now()"
    " RETURNING chain, last_id, last_hash, data_high"
)
_NEXT_IDS = "SELECT nextval('hj212.frame_id_seq') FROM generate_series(1, %s)"
# Errors caused by the data of some frame (the rest of the batch is fine).
DATA_ERRORS = (
    psycopg.errors.DataError,
    psycopg.errors.IntegrityError,
    psycopg.errors.ProgramLimitExceeded,
)
_KEYS_TABLE = (
    "CREATE TEMP TABLE IF NOT EXISTS measurement_key"
    " (mn text, cn text, pollutant text, data_time timestamptz) ON COMMIT DELETE ROWS"
)
_KEYS_COPY = "COPY measurement_key FROM STDIN (FORMAT BINARY)"
_KEY_TYPES = ["text", "text", "text", "timestamptz"]
_EXISTING = (
    "SELECT k.mn, k.cn, k.pollutant, k.data_time FROM measurement_key k"
    " WHERE EXISTS (SELECT 1 FROM hj212.measurement m WHERE m.mn = k.mn AND m.cn = k.cn"
    " AND m.pollutant = k.pollutant AND m.data_time = k.data_time"
    " AND m.data_time BETWEEN %s AND %s)"
)
_STATUS_INSERT = (
    "INSERT INTO hj212.device_status"
    " (data_time, mn, cn, device, item, value, text_value, frame_id, received_at)"
    " SELECT * FROM unnest(%s::timestamptz[], %s::text[], %s::text[], %s::text[], %s::text[],"
    " %s::float8[], %s::text[], %s::int8[], %s::timestamptz[])"
    " ON CONFLICT DO NOTHING RETURNING mn, cn, device, item, data_time"
)
_EVENT_INSERT = (
    "INSERT INTO hj212.device_event"
    " (data_time, mn, cn, kind, pollutant, payload, frame_id, received_at)"
    " SELECT * FROM unnest(%s::timestamptz[], %s::text[], %s::text[], %s::text[], %s::text[],"
    " %s::jsonb[], %s::int8[], %s::timestamptz[])"
    " ON CONFLICT DO NOTHING RETURNING mn, cn, kind, pollutant, data_time"
)
_HEADS_TABLE = (
    "CREATE TEMP TABLE IF NOT EXISTS head_update (chain text, last_id int8, last_hash bytea,"
    " n int8, high text, accepted bool, data bool, refused text, expected int8)"
    " ON COMMIT DELETE ROWS"
)
_HEADS_COPY = "COPY head_update FROM STDIN (FORMAT BINARY)"
_HEAD_TYPES = ["text", "int8", "bytea", "int8", "text", "bool", "bool", "text", "int8"]
# accepted_at / refused_at (migration 0040): whether any frame of the station gets
# through, which updated_at (every frame, refused ones too) cannot say.
_UPDATE_HEADS = (
    "UPDATE hj212.chain_head AS h SET last_id = u.last_id, last_hash = u.last_hash,"
    " frames = h.frames + u.n, data_high = h.data_high || u.high::jsonb, updated_at = now(),"
    " accepted_at = CASE WHEN u.accepted THEN now() ELSE h.accepted_at END,"
    " data_at = CASE WHEN u.data THEN now() ELSE h.data_at END,"
    " refused_at = CASE WHEN u.refused IS NULL THEN h.refused_at ELSE now() END,"
    " refused_code = coalesce(u.refused, h.refused_code)"
    " FROM head_update u WHERE h.chain = u.chain"
    " AND h.last_id IS NOT DISTINCT FROM u.expected"  # the head this batch built on
)
ACCEPTED = frozenset({"ok", "duplicate"})
REFUSED = frozenset({"rejected", "unauthorized"})
_FRAME_COPY = (
    "COPY hj212.frame (received_at, id, peer, transport, mn, qn, st, cn, flag, raw, status,"
    " error, hash, prev_hash, spool_id, deviations, rf) FROM STDIN (FORMAT BINARY)"
)
_FRAME_TYPES = ["timestamptz", "int8", *["text"] * 6, "int2", "bytea", "text", "text"]
_FRAME_TYPES += ["bytea", "bytea", "uuid", "text[]", "bool"]
_MEASUREMENT_COPY = (
    "COPY hj212.measurement (data_time, mn, cn, pollutant, rtd, min, avg, max, cou, zs_rtd,"
    " zs_min, zs_avg, zs_max, flag, eflag, frame_id, received_at, data, day_data, night_data)"
    " FROM STDIN (FORMAT BINARY)"
)
_MEASUREMENT_TYPES = [
    "timestamptz",
    *["text"] * 3,
    *["float8"] * 9,
    "text",
    "text",
    "int8",
    "timestamptz",
    *["float8"] * 3,
]
_NO_NOISE = (None, None, None)


@dataclass(slots=True)
class Known:
    """A chain head as its lane last committed it (or read it under the row lock)."""

    last_id: int | None
    last_hash: bytes
    data_high: dict[str, int]  # CN -> latest DataTime stored, µs since the epoch


class HeadCache:
    """The chain heads one writer lane knows (docs/performance.md §9).

    A hint, never the truth: each use is checked when the head is advanced (step 6), so
    a head moved by another process, or a commit whose outcome the lane never learnt,
    costs one redone batch, not a broken chain or a missed duplicate.
    """

    def __init__(self) -> None:
        self.known: dict[str, Known] = {}
        self.hits = 0
        self.misses = 0
        self.moved = 0  # batches redone because a cached head had moved

    def forget(self, chains: Sequence[str]) -> None:
        for chain in chains:
            self.known.pop(chain, None)


class _Moved(Exception):
    """A cached head is not the stored one any more: the batch is redone with locks."""


@dataclass(slots=True)
class _Head:
    last_hash: bytes
    data_high: dict[str, int]  # CN -> latest DataTime stored, µs since the epoch
    expected: int | None  # the head's last_id this batch builds on (the guard of step 6)
    last_id: int | None = None
    frames: int = 0
    accepted: bool = False  # a frame of this batch was stored as ok or duplicate
    data: bool = False  # ... one that carried data
    refused: str | None = None  # the code of the last one refused


async def write(
    conn: AsyncConn,
    records: Sequence[FrameRecord],
    *,
    forward: bool = False,
    heads: HeadCache | None = None,
) -> tuple[list[str], int]:
    """Store ``records`` in one transaction: each one's archive status, and how many new
    measurement rows. With ``forward``, the stored frames also enter the upstreams'
    queues in it (storage/upstream_queue.py). ``heads``: the lane's cache of chain heads
    (none: every head is read and locked). :raises DATA_ERRORS: a frame's data the
    database refuses."""
    for r in records:
        safe(r)
    cache = heads if heads is not None else HeadCache()
    chains = sorted({r.chain for r in records})
    trust = True
    for _ in range(3):
        try:
            return await _transaction(conn, records, chains, cache, trust, forward)
        except _Moved:
            cache.moved += 1  # another writer advanced a head: redo, those heads locked
        except psycopg.errors.DeadlockDetected:
            pass  # two writers met new stations in opposite orders; PostgreSQL broke the tie
        except psycopg.errors.UniqueViolation:
            # A row the high-water mark did not know of (inserted by something other than
            # this writer): redo the batch looking every record up. Rare, and exact.
            log.warning("a stored record was not covered by the high-water mark; rechecking")
            trust = False
        cache.forget(chains)
    return await _transaction(conn, records, chains, cache, trust, forward)


async def prepare(conn: AsyncConn) -> None:
    """Make ``conn`` ready for :func:`write`: its session tables (a connection of its
    own, not in autocommit, held by one writer lane)."""
    await conn.execute(_KEYS_TABLE)
    await conn.execute(_HEADS_TABLE)
    await conn.commit()


async def _transaction(
    conn: AsyncConn,
    records: Sequence[FrameRecord],
    chains: list[str],
    cache: HeadCache,
    trust_high_water: bool,
    forward: bool,
) -> tuple[list[str], int]:
    """One batch in one transaction: statuses per record, new measurement rows."""
    async with conn.transaction():
        cur = conn.cursor()
        heads = await _heads(cur, chains, cache)
        await cur.execute(_NEXT_IDS, (len(records),))
        ids = [int(row[0]) for row in await cur.fetchall()]
        new_m = await _new_measurements(cur, records, heads, trust_high_water)
        new_s = await _insert_status(cur, records, ids)
        new_e = await _insert_events(cur, records, ids)
        statuses = [_status(r, new_m[i], new_s[i] + new_e[i]) for i, r in enumerate(records)]
        await _copy_frames(cur, records, ids, statuses, heads)
        # before the rows: a moved head is found here, not as a unique violation later
        await _advance_heads(cur, heads)
        await _copy_measurements(cur, records, ids, new_m)
        if forward:  # docs/forwarding.md §3: queued in the transaction that stores them
            await _enqueue(cur, records, ids, statuses)
    # committed: these are now the stored heads
    known = cache.known
    for chain, head in heads.items():
        known[chain] = Known(head.last_id, head.last_hash, head.data_high)
    return statuses, sum(len(rows) for rows in new_m)


async def _heads(cur: Cursor, chains: list[str], cache: HeadCache) -> dict[str, _Head]:
    """The batch's heads: cached ones as the lane left them, the others locked."""
    known = cache.known
    heads: dict[str, _Head] = {}
    missing = []
    for chain in chains:
        k = known.get(chain)
        if k is None:
            missing.append(chain)
        else:  # a copy: a batch that fails leaves the cache as it was
            heads[chain] = _Head(k.last_hash, dict(k.data_high), k.last_id)
    cache.hits += len(heads)
    cache.misses += len(missing)
    if missing:
        heads.update(await _lock_heads(cur, missing))
    return heads


async def _enqueue(
    cur: Cursor, records: Sequence[FrameRecord], ids: list[int], statuses: list[str]
) -> None:
    ok = [i for i, status in enumerate(statuses) if status == "ok" and records[i].qn]
    await upstream_queue.enqueue(
        cur,
        [ids[i] for i in ok],
        [records[i].mn for i in ok],
        [records[i].cn for i in ok],
        [records[i].received_at for i in ok],
    )


def _status(record: FrameRecord, new_m: list[MeasurementRow], new_s: int) -> str:
    carried = len(record.measurements) + len(record.status_rows) + len(record.events)
    if record.status == "ok" and carried and not new_m and not new_s:
        return "duplicate"
    return record.status


async def _lock_heads(cur: Cursor, chains: list[str]) -> dict[str, _Head]:
    """Lock every chain head of the batch (existing ones in key order, then new ones)."""
    await cur.execute(_LOCK_HEADS, (chains,))
    rows = await cur.fetchall()
    if len(rows) < len(chains):
        known = {row[0] for row in rows}
        await cur.execute(_NEW_HEADS, ([c for c in chains if c not in known],))
        rows += await cur.fetchall()
    heads = {}
    for chain, last_id, last_hash, data_high in rows:
        high = {str(cn): int(us) for cn, us in (data_high or {}).items()}
        last = bytes(last_hash) if last_hash is not None else GENESIS
        heads[chain] = _Head(last, high, int(last_id) if last_id is not None else None)
    return heads


_Group = tuple[tuple[str, str, datetime], list[MeasurementRow], int, bool]


def _groups(rows: list[MeasurementRow]) -> list[tuple[str, datetime, list[MeasurementRow]]]:
    """Rows by (CN, DataTime): one group for anything the codec produces (one record)."""
    first = rows[0]
    if all(m.data_time == first.data_time and m.cn == first.cn for m in rows):
        return [(first.cn, first.data_time, rows)]
    by: dict[tuple[str, datetime], list[MeasurementRow]] = {}
    for m in rows:
        by.setdefault((m.cn, m.data_time), []).append(m)
    return [(cn, at, group) for (cn, at), group in by.items()]


async def _new_measurements(
    cur: Cursor,
    records: Sequence[FrameRecord],
    heads: dict[str, _Head],
    trust_high_water: bool,
) -> list[list[MeasurementRow]]:
    """Per record, the measurements not stored yet (in the database or earlier in the batch).

    With ``trust_high_water``, a record is looked up only when it is not newer than its
    station's high-water DataTime for its CN; no mark at all means nothing stored yet.
    The work is per record (MN, CN, DataTime), per row only when a record repeats.
    """
    never = -(1 << 62)  # no high-water mark: nothing stored yet
    plans: list[list[_Group]] = []
    candidates: list[MeasurementRow] = []
    for r in records:
        plan: list[_Group] = []
        if r.measurements:
            high = heads[r.chain].data_high
            for cn, at, rows in _groups(r.measurements):
                us = micros(at)
                lookup = not trust_high_water or us <= high.get(cn, never)
                if lookup:
                    candidates.extend(rows)
                plan.append(((r.chain, cn, at), rows, us, lookup))
        plans.append(plan)
    stored = await _stored_keys(cur, candidates) if candidates else set()
    taken: dict[tuple[str, str, datetime], list[MeasurementRow] | set[str]] = {}
    out = []
    for r, plan in zip(records, plans, strict=True):
        fresh: list[MeasurementRow] = []
        for key, rows, us, lookup in plan:
            prior = taken.get(key)
            if prior is None and not lookup:  # the usual case: a record seen first here
                fresh.extend(rows)
                taken[key] = rows  # made a set only if the record comes again
                added = True
            else:
                if isinstance(prior, list):
                    prior = {m.pollutant for m in prior}
                prior = prior if prior is not None else set()
                taken[key] = prior
                added = False
                for m in rows:
                    if m.pollutant in prior or (lookup and m.key in stored):
                        continue
                    prior.add(m.pollutant)
                    fresh.append(m)
                    added = True
            high = heads[r.chain].data_high
            if added and us > high.get(key[1], -(1 << 62)):
                high[key[1]] = us
        out.append(fresh)
    return out


async def _stored_keys(
    cur: Cursor, candidates: list[MeasurementRow]
) -> set[tuple[str, str, str, datetime]]:
    """Which of these records are in hj212.measurement (unique index lookups)."""
    async with cur.copy(_KEYS_COPY) as copy:
        copy.set_types(_KEY_TYPES)
        for m in candidates:
            await copy.write_row(m.key)
    times = [m.data_time for m in candidates]
    # planned with the time bounds as constants (no prepare): chunk exclusion
    await cur.execute(_EXISTING, (min(times), max(times)), prepare=False)
    return {(mn, cn, pollutant, at) for mn, cn, pollutant, at in await cur.fetchall()}


async def _insert_status(cur: Cursor, records: Sequence[FrameRecord], ids: list[int]) -> list[int]:
    """Insert the device-status rows; per record, how many of its rows were new."""
    rows: list[tuple[StatusRow, int, datetime, int]] = []
    seen: set[tuple[str, str, str, str, datetime]] = set()
    for index, (r, frame_id) in enumerate(zip(records, ids, strict=True)):
        for s in r.status_rows:
            if s.key not in seen:
                seen.add(s.key)
                rows.append((s, frame_id, r.received_at, index))
    counts = [0] * len(records)
    if not rows:
        return counts
    columns = (
        [s.data_time for s, *_ in rows],
        [s.mn for s, *_ in rows],
        [s.cn for s, *_ in rows],
        [s.device for s, *_ in rows],
        [s.item for s, *_ in rows],
        [s.value for s, *_ in rows],
        [s.text_value for s, *_ in rows],
        [frame_id for _, frame_id, _, _ in rows],
        [received_at for _, _, received_at, _ in rows],
    )
    await cur.execute(_STATUS_INSERT, columns)
    inserted = {tuple(row) for row in await cur.fetchall()}
    for s, _, _, index in rows:
        if s.key in inserted:
            counts[index] += 1
    return counts


async def _insert_events(cur: Cursor, records: Sequence[FrameRecord], ids: list[int]) -> list[int]:
    """Insert the device events; per record, how many of its events were new."""
    rows: list[tuple[EventRow, int, datetime, int]] = []
    seen: set[tuple[str, str, str, str, datetime]] = set()
    for index, (r, frame_id) in enumerate(zip(records, ids, strict=True)):
        for e in r.events:
            if e.key not in seen:
                seen.add(e.key)
                rows.append((e, frame_id, r.received_at, index))
    counts = [0] * len(records)
    if not rows:
        return counts
    columns = (
        [e.data_time for e, *_ in rows],
        [e.mn for e, *_ in rows],
        [e.cn for e, *_ in rows],
        [e.kind for e, *_ in rows],
        [e.pollutant for e, *_ in rows],
        [json.dumps(e.payload, ensure_ascii=False) for e, *_ in rows],
        [frame_id for _, frame_id, _, _ in rows],
        [received_at for _, _, received_at, _ in rows],
    )
    await cur.execute(_EVENT_INSERT, columns)
    inserted = {tuple(row) for row in await cur.fetchall()}
    for e, _, _, index in rows:
        if e.key in inserted:
            counts[index] += 1
    return counts


async def _copy_frames(
    cur: Cursor,
    records: Sequence[FrameRecord],
    ids: list[int],
    statuses: list[str],
    heads: dict[str, _Head],
) -> None:
    async with cur.copy(_FRAME_COPY) as copy:
        copy.set_types(_FRAME_TYPES)
        for frame_id, r, status in zip(ids, records, statuses, strict=True):
            head = heads[r.chain]
            prev = head.last_hash
            head.last_hash = link_hash(prev, r.received_at, r.transport, r.peer, r.raw)
            head.last_id = frame_id
            head.frames += 1
            if status in ACCEPTED:
                head.accepted = True
                head.data = head.data or bool(r.measurements)
            elif status in REFUSED:
                head.refused = (r.error or status).split(":")[0]
            await copy.write_row(
                (
                    r.received_at,
                    frame_id,
                    r.peer,
                    r.transport,
                    r.mn,
                    r.qn,
                    r.st,
                    r.cn,
                    r.flag,
                    r.raw,
                    status,
                    r.error,
                    head.last_hash,
                    prev,
                    # set when the frame was acknowledged from the gateway's spool
                    uuid.UUID(r.spool_id) if r.spool_id else None,
                    list(r.deviations) or None,
                    r.rf,
                )
            )


async def _copy_measurements(
    cur: Cursor, records: Sequence[FrameRecord], ids: list[int], new: list[list[MeasurementRow]]
) -> None:
    if not any(new):
        return
    async with cur.copy(_MEASUREMENT_COPY) as copy:
        copy.set_types(_MEASUREMENT_TYPES)
        for frame_id, r, rows in zip(ids, records, new, strict=True):
            for m in rows:
                await copy.write_row(
                    (
                        m.data_time,
                        m.mn,
                        m.cn,
                        m.pollutant,
                        *m.values,
                        m.flag,
                        m.eflag,
                        frame_id,
                        r.received_at,
                        *(m.noise or _NO_NOISE),
                    )
                )


async def _advance_heads(cur: Cursor, heads: dict[str, _Head]) -> None:
    """Advance every head the batch moved, each only from the head it built on.

    :raises _Moved: some head was advanced by another writer meanwhile (the UPDATE waits
        for that writer's commit, then finds a ``last_id`` other than the expected one).
    """
    advanced = 0
    async with cur.copy(_HEADS_COPY) as copy:
        copy.set_types(_HEAD_TYPES)
        for chain, head in heads.items():
            if head.last_id is not None:
                high = json.dumps(head.data_high)
                row = (chain, head.last_id, head.last_hash, head.frames, high)
                await copy.write_row((*row, head.accepted, head.data, head.refused, head.expected))
                advanced += 1
    await cur.execute(_UPDATE_HEADS)
    if cur.rowcount != advanced:
        raise _Moved(f"{advanced - cur.rowcount} of {advanced} chain heads moved meanwhile")
