"""The batched writer: frames in, one transaction per batch, a future per frame.

:meth:`Writer.submit` returns a future that resolves, with the frame's archive status
(``ok``, ``duplicate``, ``rejected``, ``garbage``), once the frame's archive row and
its rows are committed (``synchronous_commit`` on: the WAL is flushed). The gateway
acknowledges a frame only then. A database error fails the futures of that batch (the
caller decides: the gateway does not acknowledge, the device sends again) and the
writer reconnects with backoff; no frame is dropped silently. Text the database cannot
hold is made storable first (:func:`storage.records.safe`), and a frame the database
still refuses (a data error) is isolated by halving the batch: only its future fails.

Group commit: a batch closes when it holds ``max_batch`` frames or when its oldest
frame has waited ``max_delay`` seconds, whichever comes first; while one batch commits
the next one fills, so under load batches grow without any added delay. ``lanes``
connections do this side by side, each for its own share of the stations.

One transaction per batch (storage/chain.py explains the chain):

1. lock the ``hj212.chain_head`` row of every station in the batch, in key order (no
   deadlocks between gateway processes); the lock serializes all writers of a station;
2. take frame ids (within a chain, id order is chain order);
3. find which measurements are repeats. Under the station's lock nobody else inserts
   its rows, so a check-then-insert is exact. A record newer than the station's
   high-water DataTime per CN (``chain_head.data_high``) cannot be stored yet, so in the
   usual, in-order case no lookup is made at all; older ones (retransmissions,
   back-filled 补传 data) are looked up on the unique index, bounded in time so that
   only the chunks concerned are probed (a unique violation, possible only for rows
   written around the writer, redoes the batch looking every record up);
4. binary COPY of the new measurements straight into the hypertable (no staging table,
   no ON CONFLICT), device-status rows with ON CONFLICT DO NOTHING (a few per frame);
5. hash chain, then binary COPY of every frame with its status: a frame whose every
   record was already stored is archived as ``duplicate``;
6. advance the chain heads; commit.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import psycopg
from psycopg.rows import TupleRow

from storage.chain import GENESIS, link_hash, micros
from storage.records import FrameRecord, MeasurementRow, StatusRow, safe

log = logging.getLogger(__name__)

Connection = psycopg.AsyncConnection[TupleRow]
Cursor = psycopg.AsyncCursor[TupleRow]

_LOCK_HEADS = (
    "SELECT chain, last_hash, data_high FROM hj212.chain_head"
    " WHERE chain = ANY(%s::text[]) ORDER BY chain FOR UPDATE"
)
_NEW_HEADS = (
    "INSERT INTO hj212.chain_head AS h (chain) SELECT unnest(%s::text[])"
    " ON CONFLICT (chain) DO UPDATE SET updated_at = now()"
    " RETURNING chain, last_hash, data_high"
)
_NEXT_IDS = "SELECT nextval('hj212.frame_id_seq') FROM generate_series(1, %s)"
# Errors caused by the data of some frame (the rest of the batch is fine).
_DATA_ERRORS = (
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
_HEADS_TABLE = (
    "CREATE TEMP TABLE IF NOT EXISTS head_update (chain text, last_id int8, last_hash bytea,"
    " n int8, high text, accepted bool, data bool, refused text) ON COMMIT DELETE ROWS"
)
_HEADS_COPY = "COPY head_update FROM STDIN (FORMAT BINARY)"
_HEAD_TYPES = ["text", "int8", "bytea", "int8", "text", "bool", "bool", "text"]
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
)
ACCEPTED = frozenset({"ok", "duplicate"})
REFUSED = frozenset({"rejected", "unauthorized"})
_FRAME_COPY = (
    "COPY hj212.frame (received_at, id, peer, transport, mn, qn, st, cn, flag, raw, status,"
    " error, hash, prev_hash, spool_id) FROM STDIN (FORMAT BINARY)"
)
_FRAME_TYPES = ["timestamptz", "int8", *["text"] * 6, "int2", "bytea", "text", "text"]
_FRAME_TYPES += ["bytea", "bytea", "uuid"]
_MEASUREMENT_COPY = (
    "COPY hj212.measurement (data_time, mn, cn, pollutant, rtd, min, avg, max, cou, zs_rtd,"
    " zs_min, zs_avg, zs_max, flag, eflag, frame_id, received_at) FROM STDIN (FORMAT BINARY)"
)
_MEASUREMENT_TYPES = [
    "timestamptz",
    *["text"] * 3,
    *["float8"] * 9,
    "text",
    "text",
    "int8",
    "timestamptz",
]


@dataclass
class _Head:
    last_hash: bytes
    data_high: dict[str, int]  # CN -> latest DataTime stored, µs since the epoch
    last_id: int | None = None
    frames: int = 0
    accepted: bool = False  # a frame of this batch was stored as ok or duplicate
    data: bool = False  # ... one that carried data
    refused: str | None = None  # the code of the last one refused


@dataclass
class _Item:
    record: FrameRecord
    future: asyncio.Future[str]
    submitted: float  # loop time


@dataclass
class _Lane:
    """One connection and its queue; a station always goes to the same lane."""

    queue: asyncio.Queue[_Item] = field(default_factory=asyncio.Queue)
    inflight: list[_Item] = field(default_factory=list)
    progress: asyncio.Event = field(default_factory=asyncio.Event)  # a batch settled

    @property
    def idle(self) -> bool:
        return self.queue.empty() and not self.inflight


class Writer:
    """Group-committing writer into ``hj212.frame``, ``measurement`` and ``device_status``.

    ``lanes`` connections write concurrently, each its own batches of its own stations
    (a stable hash of the chain key picks the lane), so batches of different lanes never
    wait for each other's chain locks; the server inserts on several cores. Two lanes
    measured best on a 2-core machine (benchmarks/RESULTS.md).
    """

    def __init__(
        self, dsn: str, *, max_batch: int = 2000, max_delay: float = 0.0, lanes: int = 1
    ) -> None:
        self.dsn = dsn
        self.max_batch = max(1, max_batch)
        self.max_delay = max(0.0, max_delay)  # seconds
        self._lanes = [_Lane() for _ in range(max(1, lanes))]
        self.committed_frames = 0
        self.committed_batches = 0
        self.committed_rows = 0  # new measurement rows
        self.duplicate_frames = 0
        self.failed_batches = 0  # whole batches failed (database unreachable, ...)
        self.failed_frames = 0  # single frames the database refused (isolated)
        self.last_batch_size = 0

    @property
    def queued(self) -> int:
        return sum(lane.queue.qsize() for lane in self._lanes)

    def submit(self, record: FrameRecord) -> asyncio.Future[str]:
        """Queue one frame; the future resolves to its archive status once committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str] = loop.create_future()
        lanes = self._lanes
        lane = lanes[zlib.crc32(record.chain.encode()) % len(lanes)] if len(lanes) > 1 else lanes[0]
        lane.queue.put_nowait(_Item(record, future, loop.time()))
        return future

    async def run(self) -> None:
        """Write batches until cancelled; on cancellation, fail what is not yet written."""
        await asyncio.gather(*(self._run_lane(lane) for lane in self._lanes))

    async def _run_lane(self, lane: _Lane) -> None:
        conn: Connection | None = None
        backoff = 0.1
        try:
            while True:
                await self._collect(lane)
                try:
                    if conn is None or conn.closed:
                        conn = await _connect(self.dsn)
                    await self._write_items(conn, lane.inflight)
                except Exception as exc:  # noqa: BLE001 - every failure must reach the futures
                    self.failed_batches += 1
                    log.error("write of %d frames failed: %s", len(lane.inflight), exc)
                    self._fail(lane.inflight, exc)
                    lane.inflight = []
                    lane.progress.set()
                    if conn is not None:
                        await conn.close()
                    conn = None
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 5.0)
                    continue
                backoff = 0.1
                lane.inflight = []
                lane.progress.set()
        finally:
            self._fail(lane.inflight, ConnectionError("writer stopped while writing the frame"))
            lane.inflight = []
            while not lane.queue.empty():
                self._fail([lane.queue.get_nowait()], ConnectionError("writer stopped"))
            lane.progress.set()
            if conn is not None:
                await conn.close()

    async def _write_items(self, conn: Connection, items: list[_Item]) -> None:
        """Write and resolve ``items``; a data error fails only the frame that causes it.

        Bad data (a value the database refuses) is isolated by halving the batch, so one
        broken frame never costs other stations their acknowledgement; any other error
        (connection lost, schema missing) propagates and fails the whole batch.
        """
        try:
            statuses = await self._write(conn, [item.record for item in items])
        except _DATA_ERRORS as exc:
            if len(items) == 1:
                self.failed_frames += 1
                log.error("frame from %s not stored: %s", items[0].record.peer, exc)
                self._fail(items, exc)
                return
            half = len(items) // 2
            await self._write_items(conn, items[:half])
            await self._write_items(conn, items[half:])
            return
        self._committed(items, statuses)

    async def drain(self) -> None:
        """Wait until everything submitted so far has been written or failed."""
        for lane in self._lanes:
            while not lane.idle:
                lane.progress.clear()
                await lane.progress.wait()

    def _committed(self, items: list[_Item], statuses: list[str]) -> None:
        self.committed_batches += 1
        self.committed_frames += len(statuses)
        self.last_batch_size = len(statuses)
        self.duplicate_frames += statuses.count("duplicate")
        for item, status in zip(items, statuses, strict=True):
            if not item.future.done():
                item.future.set_result(status)

    @staticmethod
    def _fail(items: list[_Item], exc: BaseException) -> None:
        for item in items:
            if not item.future.done():
                item.future.set_exception(exc)

    async def _collect(self, lane: _Lane) -> None:
        """Fill the lane's batch (drain() sees frames as soon as they leave the queue)."""
        batch = lane.inflight
        batch.append(await lane.queue.get())
        deadline = batch[0].submitted + self.max_delay
        loop = asyncio.get_running_loop()
        while len(batch) < self.max_batch:
            if not lane.queue.empty():
                batch.append(lane.queue.get_nowait())
                continue
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                async with asyncio.timeout(remaining):
                    batch.append(await lane.queue.get())
            except TimeoutError:
                break

    async def _write(self, conn: Connection, records: Sequence[FrameRecord]) -> list[str]:
        for r in records:
            safe(r)
        try:
            statuses, new_rows = await _transaction(conn, records, trust_high_water=True)
        except psycopg.errors.DeadlockDetected:
            # two writers met new stations in opposite orders; PostgreSQL broke the tie
            statuses, new_rows = await _transaction(conn, records, trust_high_water=True)
        except psycopg.errors.UniqueViolation:
            # A row the high-water mark did not know of (inserted by something other than
            # this writer): redo the batch looking every record up. Rare, and exact.
            log.warning("a stored record was not covered by the high-water mark; rechecking")
            statuses, new_rows = await _transaction(conn, records, trust_high_water=False)
        self.committed_rows += new_rows
        return statuses


async def _connect(dsn: str) -> Connection:
    conn = await psycopg.AsyncConnection.connect(dsn)
    await conn.execute(_KEYS_TABLE)
    await conn.execute(_HEADS_TABLE)
    await conn.commit()
    return conn


async def _transaction(
    conn: Connection, records: Sequence[FrameRecord], *, trust_high_water: bool
) -> tuple[list[str], int]:
    """One batch in one transaction: statuses per record, new measurement rows."""
    async with conn.transaction():
        cur = conn.cursor()
        heads = await _lock_heads(cur, sorted({r.chain for r in records}))
        await cur.execute(_NEXT_IDS, (len(records),))
        ids = [int(row[0]) for row in await cur.fetchall()]
        new_m = await _new_measurements(cur, records, heads, trust_high_water)
        new_s = await _insert_status(cur, records, ids)
        statuses = [_status(r, new_m[i], new_s[i]) for i, r in enumerate(records)]
        await _copy_frames(cur, records, ids, statuses, heads)
        await _copy_measurements(cur, records, ids, new_m)
        await _advance_heads(cur, heads)
    return statuses, sum(len(rows) for rows in new_m)


def _status(record: FrameRecord, new_m: list[MeasurementRow], new_s: int) -> str:
    carried = len(record.measurements) + len(record.status_rows)
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
    for chain, last_hash, data_high in rows:
        high = {str(cn): int(us) for cn, us in (data_high or {}).items()}
        heads[chain] = _Head(bytes(last_hash) if last_hash is not None else GENESIS, high)
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
                    )
                )


async def _advance_heads(cur: Cursor, heads: dict[str, _Head]) -> None:
    async with cur.copy(_HEADS_COPY) as copy:
        copy.set_types(_HEAD_TYPES)
        for chain, head in heads.items():
            if head.last_id is not None:
                high = json.dumps(head.data_high)
                row = (chain, head.last_id, head.last_hash, head.frames, high)
                await copy.write_row((*row, head.accepted, head.data, head.refused))
    await cur.execute(_UPDATE_HEADS)
