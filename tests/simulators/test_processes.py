"""The fleet split over worker processes, on real loopback sockets against a small
platform built on the protocol package that answers 9014 (no database): merged counts,
the same stations as one process, Ctrl-C."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import sys
from collections import Counter
from datetime import datetime

import pytest

from protocol import Connection, DataUpload, Message, Role
from simulators.fleet import run_fleet, station_mn
from simulators.processes import ProcessFleet, shares, watch

pytestmark = pytest.mark.anyio
START = datetime.fromisoformat("2026-03-03T09:00:00+08:00")
REALTIME = frozenset({"2011"})


class Platform(asyncio.Protocol):
    """Answers what the standard requires (9014, 9013) and keeps every upload."""

    def __init__(self, uploads: list[DataUpload]) -> None:
        self.uploads = uploads
        self.conn = Connection(Role.PLATFORM)
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        events: list[Message] = [e for e in self.conn.receive_data(data) if isinstance(e, Message)]
        self.uploads += [e for e in events if isinstance(e, DataUpload)]
        if self.transport is not None:
            self.transport.write(self.conn.data_to_send())


async def platform(uploads: list[DataUpload]) -> tuple[asyncio.Server, int]:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Platform(uploads), "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def test_stations_are_dealt_round_robin() -> None:
    assert shares(7, 3) == [range(0, 7, 3), range(1, 7, 3), range(2, 7, 3)]
    assert shares(2, 4) == [range(0, 2, 2), range(1, 2, 2)]  # no worker without stations


async def test_a_watched_pipe_carries_messages_larger_than_its_buffer() -> None:
    mine, theirs = multiprocessing.Pipe()
    loop = asyncio.get_running_loop()
    arrived: asyncio.Future[object] = loop.create_future()
    watch(loop, mine, lambda: arrived.set_result(mine.recv()))
    big = ("done", list(range(300_000)))  # ~1.5 MB pickled, as final counts can be
    try:
        receiving = loop.run_in_executor(None, theirs.recv)
        mine.send(big)  # a worker's last message, on the descriptor it watches
        assert await receiving == big
        sending = loop.run_in_executor(None, theirs.send, big)
        assert await arrived == big
        await sending
    finally:
        loop.remove_reader(mine.fileno())
        mine.close()
        theirs.close()


async def test_every_frame_of_every_worker_is_answered_and_counted_once() -> None:
    uploads: list[DataUpload] = []
    server, port = await platform(uploads)
    fleet = ProcessFleet(
        3, 9, "127.0.0.1", port, 2.0, speed=60, start=START, uploads=REALTIME, report_every=0.5
    )
    try:
        counts = await fleet.run()
    finally:
        server.close()
    assert [s.error for s in fleet.states] == [None] * 3
    assert [s.counts.stations for s in fleet.states] == [3, 3, 3]
    assert all(s.counts.frames_sent > 0 for s in fleet.states)
    for name in ("stations", "connections", "records", "frames_sent", "acks", "uploads_acked"):
        assert getattr(counts, name) == sum(getattr(s.counts, name) for s in fleet.states)
    assert counts.stations == counts.connections == 9
    assert counts.frames_sent == counts.acks == counts.uploads_acked == len(uploads)
    assert counts.errors == counts.timeouts == counts.retries == counts.connect_errors == 0
    assert {u.mn for u in uploads} == {station_mn(i) for i in range(9)}
    assert len({(u.mn, u.qn) for u in uploads}) == len(uploads)  # nothing sent twice


async def test_a_split_fleet_uploads_what_one_process_uploads() -> None:
    one: list[DataUpload] = []
    split: list[DataUpload] = []
    server_one, port_one = await platform(one)
    server_split, port_split = await platform(split)
    versions = ("2017", "2005")
    try:
        await asyncio.gather(
            run_fleet(
                4,
                "127.0.0.1",
                port_one,
                2.0,
                speed=60,
                start=START,
                uploads=REALTIME,
                versions=versions,
            ),
            ProcessFleet(
                2,
                4,
                "127.0.0.1",
                port_split,
                2.0,
                speed=60,
                start=START,
                uploads=REALTIME,
                versions=versions,
            ).run(),
        )
    finally:
        server_one.close()
        server_split.close()
    by_one = {(u.mn, u.data_time): u.values for u in one}
    by_split = {(u.mn, u.data_time): u.values for u in split}
    assert {mn for mn, _ in by_one} == {mn for mn, _ in by_split}
    assert len({mn for mn, _ in by_one}) == 4  # 2017 and 2005 MNs
    common = by_one.keys() & by_split.keys()
    assert min(Counter(mn for mn, _ in common).values()) >= 2  # the same DataTimes...
    assert all(by_one[key] == by_split[key] for key in common)  # ...the same values


async def test_ctrl_c_stops_every_worker_and_reports_what_was_done() -> None:
    uploads: list[DataUpload] = []
    server, port = await platform(uploads)
    argv = ["simulate", "--processes", "2", "--stations", "4", "--duration", "120"]
    argv += ["--gateway", f"127.0.0.1:{port}", "--speed", "60", "--uploads", "2011"]
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cli",
        *argv,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,  # its own process group, as a terminal would have it
        preexec_fn=_default_sigint,
    )
    try:
        await asyncio.wait_for(every_station_sends(uploads, 4), 60)
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C sends: to the whole group
        _, err = await asyncio.wait_for(proc.communicate(), 60)
    finally:
        server.close()
        if proc.returncode is None:
            proc.kill()
    assert proc.returncode == 130
    text = err.decode()
    assert "interrupted" in text
    assert "4 stations, 4 connections" in text
    for _ in range(100):  # the group is gone once the last process is reaped
        try:
            os.killpg(proc.pid, 0)
        except ProcessLookupError:
            break
        await asyncio.sleep(0.1)
    with pytest.raises(ProcessLookupError):
        os.killpg(proc.pid, 0)


async def every_station_sends(uploads: list[DataUpload], stations: int) -> None:
    while len({u.mn for u in uploads}) < stations:  # noqa: ASYNC110 - a list the platform fills
        await asyncio.sleep(0.1)


def _default_sigint() -> None:
    """A shell starts background jobs with SIGINT ignored; a terminal's job has it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
