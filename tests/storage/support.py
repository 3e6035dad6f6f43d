"""Helpers for the storage tests: records to write, a running writer, quick reads."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from services.writer import Writer
from storage.records import FrameRecord, MeasurementRow, StatusRow

AT = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def new_mn() -> str:
    return uuid.uuid4().hex[:24].upper()


def upload(
    mn: str,
    at: datetime = AT,
    *,
    values: dict[str, float] | None = None,
    cn: str = "2011",
    raw: bytes | None = None,
    received_at: datetime | None = None,
) -> FrameRecord:
    """A data-upload record as the gateway would hand it to the writer."""
    values = values if values is not None else {"w01018": 31.25, "w21003": 2.104}
    rows = [
        MeasurementRow(at, mn, cn, code, (value, *[None] * 8), "N", None)
        for code, value in values.items()
    ]
    return FrameRecord(
        received_at or at + timedelta(seconds=1),
        "127.0.0.1:40000",
        "tcp",
        raw if raw is not None else f"{mn} {cn} {at.isoformat()} {values}".encode(),
        "ok",
        mn=mn,
        cn=cn,
        flag=5,
        measurements=rows,
    )


def status_upload(mn: str, at: datetime = AT, items: dict[str, str] | None = None) -> FrameRecord:
    items = items if items is not None else {"SB1": "1", "SB2": "0"}
    rows = [
        StatusRow(at, mn, "2021", device, "RS", float(value), value)
        for device, value in items.items()
    ]
    return FrameRecord(
        at + timedelta(seconds=1),
        "127.0.0.1:40000",
        "tcp",
        f"{mn} 2021 {at.isoformat()} {items}".encode(),
        "ok",
        mn=mn,
        cn="2021",
        flag=5,
        status_rows=rows,
    )


@contextlib.asynccontextmanager
async def running(writer: Writer) -> AsyncIterator[Writer]:
    task = asyncio.create_task(writer.run())
    try:
        yield writer
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def rows(dsn: str, sql: str, *params: object) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(sql.encode(), params).fetchall()
