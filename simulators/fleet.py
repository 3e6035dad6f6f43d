"""A fleet of simulated data loggers pushing real-time data (CN 2011) over TCP.

Each station keeps one connection, sends a 2011 frame every ``interval`` seconds with
Flag=5 (HJ 212-2017, answer wanted) and waits for the platform's 9014 with the same
QN, retrying as the standard's OverTime/ReCount describe (default 5 s x 3). Runs are
bounded: they end after ``duration`` seconds.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta

from protocol import Connection, Message, Role, encode, format_time
from simulators.models import GAS, WATER, sample


@dataclass
class Counts:
    stations: int = 0
    connections: int = 0
    connect_errors: int = 0
    frames_sent: int = 0
    acks: int = 0
    retries: int = 0
    timeouts: int = 0
    errors: int = 0
    ack_latency_ms: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        data = asdict(self)
        latencies = sorted(data.pop("ack_latency_ms"))
        if latencies:
            data["ack_p50_ms"] = round(latencies[len(latencies) // 2], 2)
            data["ack_p99_ms"] = round(
                latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))], 2
            )
        return data


def station_mn(index: int) -> str:
    """A 24-character MN for simulated station ``index`` (hex digits, as EPC-96)."""
    return f"5131000000000000{index:08d}"


def realtime_frame(mn: str, pw: str, at: datetime, values: dict[str, float], *, st: str) -> bytes:
    cp = encode.cp_text(
        [{"DataTime": format_time(at)}]
        + [{f"{code}-Rtd": v, f"{code}-Flag": "N"} for code, v in values.items()]
    )
    header = {
        "QN": format_time(at, millis=True),
        "ST": st,
        "CN": "2011",
        "PW": pw,
        "MN": mn,
        "Flag": 5,
    }
    return encode.frame(encode.segment(header, cp))


@dataclass
class Station:
    index: int
    host: str
    port: int
    interval: float
    counts: Counts
    overtime: float = 5.0
    recount: int = 3
    password: str = "123456"
    rng: random.Random = field(default_factory=random.Random)

    @property
    def mn(self) -> str:
        return station_mn(self.index)

    async def run(self, deadline: float) -> None:
        water = self.index % 2 == 0
        factors, st = (WATER, "32") if water else (GAS, "31")
        try:
            reader, writer = await asyncio.open_connection(self.host, self.port)
        except OSError:
            self.counts.connect_errors += 1
            return
        self.counts.connections += 1
        conn = Connection(Role.STATION)
        await asyncio.sleep(self.rng.uniform(0, self.interval))  # spread the fleet
        last = datetime.min.replace(tzinfo=UTC)
        try:
            while time.monotonic() < deadline:
                tick = time.monotonic()
                # DataTime strictly increases, as on a real logger, even if a tick comes early
                now = max(datetime.now(UTC).replace(microsecond=0), last + timedelta(seconds=1))
                last = now
                wire = realtime_frame(
                    self.mn, self.password, now, sample(factors, now, self.rng), st=st
                )
                await self._send_with_retries(reader, writer, conn, wire)
                await asyncio.sleep(max(0.0, self.interval - (time.monotonic() - tick)))
        except (OSError, asyncio.IncompleteReadError):
            self.counts.errors += 1
        finally:
            writer.close()

    async def _send_with_retries(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        conn: Connection,
        wire: bytes,
    ) -> None:
        qn = wire.split(b"QN=", 1)[1][:17].decode()
        for attempt in range(self.recount + 1):
            if attempt:
                self.counts.retries += 1
            sent = time.monotonic()
            writer.write(wire)
            await writer.drain()
            self.counts.frames_sent += 1
            if await self._await_ack(reader, conn, qn, sent + self.overtime):
                self.counts.acks += 1
                self.counts.ack_latency_ms.append((time.monotonic() - sent) * 1000)
                return
        self.counts.timeouts += 1

    async def _await_ack(
        self, reader: asyncio.StreamReader, conn: Connection, qn: str, until: float
    ) -> bool:
        while (left := until - time.monotonic()) > 0:
            try:
                chunk = await asyncio.wait_for(reader.read(4096), left)
            except TimeoutError:
                return False
            if not chunk:
                raise asyncio.IncompleteReadError(b"", None)
            for event in conn.receive_data(chunk):
                if isinstance(event, Message) and event.cn == "9014" and event.qn == qn:
                    return True
        return False


async def run_fleet(
    stations: int,
    host: str,
    port: int,
    duration: float,
    *,
    interval: float = 5.0,
    seed: int = 212,
    progress: Callable[[Counts], None] | None = None,
) -> Counts:
    """Run ``stations`` simulated loggers for ``duration`` seconds; return the counts."""
    counts = Counts(stations=stations)
    deadline = time.monotonic() + duration
    fleet = [
        Station(i, host, port, interval, counts, rng=random.Random(seed * 100_003 + i))
        for i in range(stations)
    ]
    tasks = [asyncio.create_task(s.run(deadline)) for s in fleet]
    reporter = asyncio.create_task(_report(counts, progress)) if progress else None
    try:
        await asyncio.gather(*tasks)
    finally:
        if reporter:
            reporter.cancel()
    return counts


async def _report(counts: Counts, progress: Callable[[Counts], None]) -> None:
    while True:
        await asyncio.sleep(1.0)
        progress(counts)
