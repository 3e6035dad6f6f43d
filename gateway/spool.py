"""The local spool: frames acknowledged while the database is unreachable.

An append-only log on disk, in segment files ``spool-<n>.log``; each record is::

    b"HJ" | length (u32 BE) | CRC-32 of the payload (u32 BE) | payload (JSON, UTF-8)

Appends are group-committed: records queued within one loop turn are written together
and fsync'ed once (in a worker thread, so the event loop keeps serving), then their
futures resolve and the gateway acknowledges them. A record torn by a crash fails its
length or CRC-32 and ends the readable part of its segment; nothing after it was ever
acknowledged.

Draining reads records in order; ``spool-<n>.done`` holds how far a segment has been
committed to the database (fsync'ed after each batch). A drain interrupted between its
database commit and that mark is replayed, and the writer's caller skips the records
whose ``spool_id`` is already stored. When the disk is full, or the spool reaches its
size limit, appends fail: the gateway stops acknowledging rather than losing data.

``database.json`` names the database the spooled frames were received for (its
``hj212.instance`` id, migration 0053): they are drained into that database only
(gateway/sink.py). A spool holding frames but no such file predates it and is drained
only once someone says whose it is (``hj212 spool claim``).
"""

from __future__ import annotations

import asyncio
import json
import os
import struct
import uuid
import zlib
from base64 import b64decode, b64encode
from collections.abc import Iterator
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from storage.records import EventRow, FrameRecord, MeasurementRow, StatusRow

MAGIC = b"HJ"
_HEAD = struct.Struct(">2sII")
SEGMENT_BYTES = 64 << 20
OWNER = "database.json"


class SpoolFull(OSError):
    """Raised (into the futures) when the spool may not grow: the frame is not durable."""


def encode_record(record: FrameRecord) -> bytes:
    data = asdict(record)
    data["received_at"] = record.received_at.isoformat()
    data["raw"] = b64encode(record.raw).decode("ascii")
    for row in data["measurements"]:
        row["data_time"] = row["data_time"].isoformat()
    for row in data["status_rows"]:
        row["data_time"] = row["data_time"].isoformat()
    for row in data["events"]:
        row["data_time"] = row["data_time"].isoformat()
    payload = json.dumps(data, separators=(",", ":")).encode()
    return _HEAD.pack(MAGIC, len(payload), zlib.crc32(payload)) + payload


def decode_record(payload: bytes) -> FrameRecord:
    data: dict[str, Any] = json.loads(payload)
    data["received_at"] = datetime.fromisoformat(data["received_at"])
    data["raw"] = b64decode(data["raw"])
    data["measurements"] = [
        MeasurementRow(
            **{
                **m,
                "data_time": datetime.fromisoformat(m["data_time"]),
                "values": tuple(m["values"]),
                "noise": tuple(m.get("noise", ())),
            }
        )
        for m in data["measurements"]
    ]
    data["status_rows"] = [
        StatusRow(**{**s, "data_time": datetime.fromisoformat(s["data_time"])})
        for s in data["status_rows"]
    ]
    data["events"] = [
        EventRow(**{**e, "data_time": datetime.fromisoformat(e["data_time"])})
        for e in data.get("events", [])
    ]
    data["deviations"] = tuple(data.get("deviations", ()))
    return FrameRecord(**data)


def read_segment(path: Path, start: int = 0) -> Iterator[tuple[int, FrameRecord]]:
    """``(end offset, record)`` for each whole record from ``start``; stops at a torn one."""
    with path.open("rb") as fh:
        fh.seek(start)
        offset = start
        while True:
            head = fh.read(_HEAD.size)
            if len(head) < _HEAD.size:
                return
            magic, length, crc = _HEAD.unpack(head)
            payload = fh.read(length)
            if magic != MAGIC or len(payload) < length or zlib.crc32(payload) != crc:
                return
            offset += _HEAD.size + length
            yield offset, decode_record(payload)


class Spool:
    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        directory.mkdir(parents=True, exist_ok=True)
        self._pending: list[tuple[bytes, asyncio.Future[str]]] = []
        self._flushing: asyncio.Task[None] | None = None
        self.appended = 0
        self.full = False
        # frames found at start whose database nobody recorded (spools before 0053)
        self.unowned = not self.empty() and self.owner() is None

    # -- whose it is ---------------------------------------------------------------
    def owner(self) -> str | None:
        """The id of the database these frames belong to, if recorded."""
        try:
            data = json.loads((self.directory / OWNER).read_text())
        except (OSError, ValueError):
            return None
        owner = data.get("database") if isinstance(data, dict) else None
        return str(owner) if owner else None

    def claim(self, database: str) -> None:
        """Record that the frames here belong to ``database`` (fsync'ed, atomic)."""
        path = self.directory / OWNER
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"database": database}))
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        tmp.replace(path)
        self.unowned = False

    # -- state ---------------------------------------------------------------------
    def segments(self) -> list[Path]:
        return sorted(self.directory.glob("spool-*.log"), key=lambda p: int(p.stem[6:]))

    def size(self) -> int:
        return sum(p.stat().st_size for p in self.segments())

    def empty(self) -> bool:
        return (
            not self._pending
            and not self._flushing
            and all(self.done_offset(p) >= p.stat().st_size for p in self.segments())
        )

    def done_offset(self, segment: Path) -> int:
        mark = segment.with_suffix(".done")
        try:
            return int(mark.read_text() or 0)
        except (OSError, ValueError):
            return 0

    # -- appending -----------------------------------------------------------------
    def append(self, record: FrameRecord) -> asyncio.Future[str]:
        """Queue ``record``; the future resolves to ``spooled`` once it is on disk."""
        if record.spool_id is None:
            record.spool_id = str(uuid.uuid4())
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._pending.append((encode_record(record), future))
        if self._flushing is None:
            self._flushing = asyncio.get_running_loop().create_task(self._flush())
        return future

    async def _flush(self) -> None:
        try:
            while self._pending:
                await asyncio.sleep(0)  # let this loop turn's appends join the batch
                batch, self._pending = self._pending, []
                try:
                    await asyncio.to_thread(self._write, b"".join(b for b, _ in batch))
                except OSError as exc:
                    self.full = True
                    error = exc if isinstance(exc, SpoolFull) else SpoolFull(str(exc))
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(error)
                    continue
                self.appended += len(batch)
                for _, future in batch:
                    if not future.done():
                        future.set_result("spooled")
        finally:
            self._flushing = None

    def _write(self, data: bytes) -> None:
        if self.size() + len(data) > self.max_bytes:
            raise SpoolFull(f"spool {self.directory} would exceed {self.max_bytes} bytes")
        segments = self.segments()
        path = segments[-1] if segments else self.directory / "spool-1.log"
        if path.exists() and path.stat().st_size + len(data) > SEGMENT_BYTES:
            path = self.directory / f"spool-{int(path.stem[6:]) + 1}.log"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        self.full = False

    # -- draining ------------------------------------------------------------------
    def pending_records(self, limit: int) -> tuple[Path, list[tuple[int, FrameRecord]]] | None:
        """The oldest segment's next records not yet marked as committed."""
        for segment in self.segments():
            start = self.done_offset(segment)
            records = []
            for end, record in read_segment(segment, start):
                records.append((end, record))
                if len(records) >= limit:
                    break
            if records:
                return segment, records
            if segment != self.segments()[-1] or not self._pending:
                self._retire(segment)
        return None

    def mark_done(self, segment: Path, offset: int) -> None:
        mark = segment.with_suffix(".done")
        tmp = mark.with_suffix(".tmp")
        tmp.write_text(str(offset))
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        tmp.replace(mark)

    def _retire(self, segment: Path) -> None:
        if self._flushing is not None:
            return  # an append may be going to this segment right now
        segment.unlink(missing_ok=True)
        segment.with_suffix(".done").unlink(missing_ok=True)
