"""Fault-test helpers: data loggers that keep sending, reconnect and resend until
answered (as real ones do), and the final count: acknowledged = stored, none twice."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import anyio
import psycopg

from protocol import BEIJING, encode

FAULT_COUNTS: list[str] = []  # printed at the end of the run (tests/conftest.py)
START = datetime(2026, 11, 1, tzinfo=BEIJING)


@dataclass
class Logger:
    """One simulated data logger sending numbered real-time records."""

    mn: str
    port: int
    acked: set[int] = field(default_factory=set)
    sent: int = 0
    resent: int = 0
    reconnects: int = 0

    def frame(self, n: int) -> tuple[bytes, bytes]:
        at = START + timedelta(seconds=n)
        qn = encode.new_qn(at)
        wire = encode.upload(
            "2011",
            data_time=at,
            values={"w01018": {"Rtd": float(n)}},
            qn=qn,
            st="32",
            pw="123456",
            mn=self.mn,
        )[0]
        return wire, qn.encode()

    async def run(self, count: int, *, stop: anyio.Event | None = None) -> None:
        n = 0
        stream = None
        while n < count and not (stop and stop.is_set()):
            wire, qn = self.frame(n)
            try:
                if stream is None:
                    stream = await anyio.connect_tcp("127.0.0.1", self.port)
                await stream.send(wire)
                self.sent += 1
                if await self._answered(stream, qn):
                    self.acked.add(n)
                    n += 1
                else:
                    self.resent += 1
            except (OSError, anyio.BrokenResourceError, anyio.EndOfStream):
                if stream is not None:
                    with contextlib.suppress(Exception):
                        await stream.aclose()
                stream = None
                self.reconnects += 1
                self.resent += 1
                await anyio.sleep(0.2)  # the gateway is restarting: back off, then resend
        if stream is not None:
            await stream.aclose()

    @staticmethod
    async def _answered(stream: anyio.abc.SocketStream, qn: bytes) -> bool:
        data = b""
        with anyio.move_on_after(5):  # OverTime
            while b"QN=" + qn not in data:
                chunk = await stream.receive()
                data += chunk
            return True
        return False


def count_stored(dsn: str, loggers: list[Logger]) -> tuple[int, int, int]:
    """(acknowledged, acknowledged and stored, stored more than once)."""
    acked = sum(len(lg.acked) for lg in loggers)
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            "SELECT mn, data_time, count(*) FROM hj212.measurement WHERE mn = ANY(%s)"
            " GROUP BY mn, data_time",
            ([lg.mn for lg in loggers],),
        ).fetchall()
    stored = {(mn, at): c for mn, at, c in rows}
    by_mn = {lg.mn: lg for lg in loggers}
    found = sum(1 for (mn, at) in stored if int((at - START).total_seconds()) in by_mn[mn].acked)
    twice = sum(1 for c in stored.values() if c > 1)
    return acked, found, twice


def report(name: str, loggers: list[Logger], dsn: str, **extra: object) -> tuple[int, int, int]:
    acked, found, twice = count_stored(dsn, loggers)
    sent = sum(lg.sent for lg in loggers)
    resent = sum(lg.resent for lg in loggers)
    details = " ".join(f"{k}={v}" for k, v in extra.items())
    FAULT_COUNTS.append(
        f"{name}: frames sent {sent} (resent {resent}), acknowledged {acked},"
        f" acknowledged and stored {found}, stored twice {twice} {details}"
    )
    return acked, found, twice
