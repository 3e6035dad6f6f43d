"""The fleet on real loopback sockets and a pseudo-terminal, against a small platform
built on the protocol package (no database): backlog after an outage, serial mode,
loopback-only targets, scenario files."""

from __future__ import annotations

import asyncio
import os
import tty
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from protocol import Connection, DataUpload, Message, Role
from simulators.fleet import check_target, run_fleet
from simulators.scenario import KINDS, ScenarioError, load, parse

pytestmark = pytest.mark.anyio
START = datetime.fromisoformat("2026-03-03T09:00:00+08:00")


class Platform(asyncio.Protocol):
    """Answers what the standard requires (9014, 9013) and keeps every message."""

    received: list[Message]

    def __init__(self, received: list[Message]) -> None:
        self.received = received
        self.conn = Connection(Role.PLATFORM)
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        events = self.conn.receive_data(data)
        self.received += [e for e in events if isinstance(e, Message)]
        if self.transport is not None:
            self.transport.write(self.conn.data_to_send())


async def test_a_backlog_goes_up_with_rf_1_after_an_outage() -> None:
    received: list[Message] = []
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Platform(received), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    scenario = parse(
        {
            "fleet": {"versions": ["2025"], "models": ["water"], "rtd_interval": 30},
            "fault": [{"kind": "disconnect", "start": 60, "duration": 90, "stations": [0]}],
        }
    )
    try:
        counts = await run_fleet(
            2,
            "127.0.0.1",
            port,
            4.0,
            scenario=scenario,
            speed=60,
            start=START,
            uploads=frozenset({"2011"}),
        )
    finally:
        server.close()
    assert counts.resent_acked >= 2
    uploads = [m for m in received if isinstance(m, DataUpload) and m.mn and m.mn.endswith("0")]
    times = sorted({int(m.data_time.timestamp()) - int(START.timestamp()) for m in uploads})
    assert times[:8] == list(range(0, 240, 30))  # nothing lost, in or out of the outage
    late = {int(m.data_time.timestamp()) - int(START.timestamp()) for m in uploads if m.resent}
    assert {90, 120} <= late  # taken during the outage, sent after it with RF=1
    assert all(m.resent is False for m in uploads if m.data_time == START)


async def test_one_station_over_a_serial_line() -> None:
    master, slave = os.openpty()
    tty.setraw(slave)
    path = os.ttyname(slave)
    platform = Connection(Role.PLATFORM)
    received: list[Message] = []
    loop = asyncio.get_running_loop()
    os.set_blocking(master, False)

    def readable() -> None:
        try:
            data = os.read(master, 65536)
        except OSError:
            return
        received.extend(e for e in platform.receive_data(data) if isinstance(e, Message))
        if answer := platform.data_to_send():
            os.write(master, answer)

    loop.add_reader(master, readable)
    try:
        counts = await run_fleet(
            1,
            "ignored",
            0,
            2.0,
            serial_device=path,
            speed=60,
            start=START,
            uploads=frozenset({"2011", "2081"}),
        )
    finally:
        loop.remove_reader(master)
        os.close(master)
        os.close(slave)
    assert counts.connections == 1
    assert counts.acks >= 2
    assert {m.cn for m in received} >= {"2011", "2081"}


def test_targets_must_be_loopback_unless_allowed() -> None:
    check_target("127.0.0.1", allow_remote=False)
    check_target("localhost", allow_remote=False)
    with pytest.raises(ValueError, match="not a loopback"):
        check_target("192.0.2.7", allow_remote=False)
    check_target("192.0.2.7", allow_remote=True)


def test_the_example_scenario_shows_every_fault_kind() -> None:
    root = Path(__file__).resolve().parents[2]
    scenario = load(root / "config" / "scenarios" / "all-faults.toml")
    assert {f.kind for f in scenario.faults} == set(KINDS)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"fleet": {"speed": "fast"}}, "wrong type"),
        ({"fleet": {"colour": 1}}, "no key"),
        ({"fault": [{"kind": "meteor", "start": 0, "duration": 1}]}, "not one of"),
        ({"fault": [{"kind": "zeros", "start": 0}]}, "duration"),
        ({"fault": [{"kind": "zeros", "start": 0, "duration": 1, "every": 2}]}, "takes no"),
        ({"fault": [{"kind": "garbage", "start": 0, "duration": 1, "pollutants": []}]}, "value"),
        ({"station": [{"index": 1, "sm4_key": "00"}]}, "32 hex"),
        ({"station": [{"index": 1, "crc": "crc32"}]}, "crc takes"),
        ({"other": {}}, "unknown section"),
    ],
)
def test_scenario_errors_say_what_is_wrong(data: dict[str, object], message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        parse(data)


class Silent(asyncio.Protocol):
    """A platform that reads everything and never answers."""

    def __init__(self, received: list[Message], closed: asyncio.Event) -> None:
        self.received, self.closed = received, closed
        self.conn = Connection(Role.PLATFORM)

    def data_received(self, data: bytes) -> None:
        self.received += [e for e in self.conn.receive_data(data) if isinstance(e, Message)]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.set()


async def test_an_unanswered_upload_is_resent_recount_times_then_given_up() -> None:
    received: list[Message] = []
    closed = asyncio.Event()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Silent(received, closed), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    scenario = parse({"fleet": {"overtime": 0.2, "recount": 2, "rtd_interval": 30}})
    try:
        counts = await run_fleet(
            1,
            "127.0.0.1",
            port,
            2.0,
            scenario=scenario,
            speed=60,
            start=START,
            uploads=frozenset({"2011"}),
        )
        await asyncio.wait_for(closed.wait(), 5)
    finally:
        server.close()
    sends = Counter(m.qn for m in received)
    assert counts.acks == 0
    assert counts.frames_sent == len(received) == sum(sends.values())
    assert counts.retries == sum(n - 1 for n in sends.values())
    assert len(sends) >= 3
    *done, last = sends.values()  # in QN order: the last one may be cut by the stop
    assert done == [3] * len(done)  # sent once, resent ReCount (2) times
    assert 1 <= last <= 3
    assert counts.timeouts >= len(done)
