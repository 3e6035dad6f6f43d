"""A station's day, as frames encoded by the codec and written by the real writer."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from datetime import datetime, timedelta

from protocol import BEIJING, Framer, RawFrame, decode, encode
from rules.model import PollutantConfig, StationInfo
from services.writer import Writer
from storage.records import FrameRecord, record_of

DAY = datetime(2026, 10, 5, tzinfo=BEIJING)
H = timedelta(hours=1)
GAS = {"a21026": 20.0, "a21002": 30.0, "a34013": 4.0, "a19001": 9.0, "a00000": 100.0}


def station(mn: str) -> StationInfo:
    return StationInfo(
        mn=mn,
        medium="gas",
        region_code="420100",
        enterprise="E1",
        name=f"outlet {mn}",
        o2_ref=6.0,
        created_at=DAY - timedelta(days=30),
        pollutants={
            "a21026": PollutantConfig("a21026", True, 35.0, "hour", 0.0, 200.0),
            "a21002": PollutantConfig("a21002", True, 50.0, "hour", 0.0, 500.0),
            "a34013": PollutantConfig("a34013", True, 10.0, "hour", 0.0, 50.0),
            "a19001": PollutantConfig("a19001", False, None, None, 0.0, 25.0),
            "a00000": PollutantConfig("a00000", False, None, None, 0.0, 300.0),
        },
    )


def frames(mn: str, hours: Iterable[int], *, realtime: bool = True) -> list[tuple[datetime, bytes]]:
    """(receive time, wire bytes): an hourly record (2061) per hour, and a 2011 before it."""
    out: list[tuple[datetime, bytes]] = []
    for h in hours:
        at = DAY + h * H
        if realtime:
            rt = {c: {"Rtd": v + 0.5, "Flag": "N"} for c, v in GAS.items()}
            qn = encode.new_qn(at + timedelta(minutes=30))
            sent = encode.upload(
                "2011", data_time=at + timedelta(minutes=30), values=rt, qn=qn, st="31",
                pw="123456", mn=mn,
            )  # fmt: skip
            out += [(at + timedelta(minutes=30, seconds=2), raw) for raw in sent]
        values = {c: {"Min": v, "Avg": v, "Max": v, "Flag": "N"} for c, v in GAS.items()}
        qn = encode.new_qn(at + H)
        sent = encode.upload(
            "2061", data_time=at, values=values, qn=qn, st="31", pw="123456", mn=mn
        )
        out += [(at + H + timedelta(seconds=5), raw) for raw in sent]
    return out


def record(received_at: datetime, raw: bytes) -> FrameRecord:
    """What the gateway hands the writer for these bytes."""
    (item,) = Framer().feed(raw)
    assert isinstance(item, RawFrame)
    return record_of(decode(item), received_at=received_at, peer="10.0.0.7:5120", transport="tcp")


async def _write(dsn: str, items: list[tuple[datetime, bytes]]) -> list[str]:
    writer = Writer(dsn, max_batch=200)
    task = asyncio.create_task(writer.run())
    try:
        return [await writer.submit(record(at, raw)) for at, raw in items]
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def write(dsn: str, items: list[tuple[datetime, bytes]]) -> list[str]:
    """Store frames through the real writer, in order; their archive statuses."""
    return asyncio.run(_write(dsn, sorted(items)))
