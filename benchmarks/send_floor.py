"""The floor under the simulator: what one stop-and-wait frame costs with no simulator.

N loopback connections to the ack sink of :mod:`benchmarks.simulator`; each sends one
fixed 2011 frame (Flag=5), waits for its 9014 and sends the next: the system calls and
the sink's work, none of the station model, frame text, CRC or bookkeeping. Two loops:

* ``socket``: non-blocking sockets and ``select.epoll``, one ``send()`` and one
  ``recv()`` per frame, each timed with ``perf_counter``;
* ``uvloop``: one asyncio Protocol per connection that writes the next frame from
  ``data_received`` (the event loop the fleet runs on, without the fleet).

    .venv/bin/python -m benchmarks.send_floor [--connections 2000] [--seconds 10]
        [--loop socket|uvloop] [--sink-processes 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import select
import socket
import time
from functools import partial

import uvloop

from benchmarks.simulator import Sinks
from protocol import crc16_hex


def frame(index: int) -> bytes:
    segment = (
        f"QN=20260302000000001;ST=32;CN=2011;PW=123456;MN=5131000000000000{index:08d};"
        "Flag=5;CP=&&DataTime=20260302080000;w01018-Rtd=31.25,w01018-Flag=N;"
        "w21003-Rtd=2.104,w21003-Flag=N;w21011-Rtd=0.351,w21011-Flag=N;"
        "w21001-Rtd=11.02,w21001-Flag=N;w01001-Rtd=7.21,w01001-Flag=N;"
        "w00000-Rtd=12.5,w00000-Flag=N&&"
    ).encode()
    return b"##%04d%b%b\r\n" % (len(segment), segment, crc16_hex(segment).encode())


def socket_loop(port: int, n: int, seconds: float) -> dict[str, float]:
    clock = time.perf_counter
    by_fd: dict[int, tuple[socket.socket, bytes]] = {}
    poll = select.epoll()
    for i in range(n):
        sock = socket.create_connection(("127.0.0.1", port))
        sock.setblocking(False)
        by_fd[sock.fileno()] = (sock, frame(i))
        poll.register(sock.fileno(), select.EPOLLIN)
    sent = acks = 0
    in_send = in_recv = 0.0
    started = clock()
    for sock, data in by_fd.values():
        sock.send(data)
        sent += 1
    end = started + seconds
    while clock() < end:
        for fd, _ in poll.poll(0.1):
            sock, data = by_fd[fd]
            a = clock()
            got = sock.recv(65536)
            b = clock()
            sock.send(data)
            in_send += clock() - b
            in_recv += b - a
            acks += got.count(b"\r\n")
            sent += 1
    wall = clock() - started
    for sock, _ in by_fd.values():
        sock.close()
    return {
        "wall": wall,
        "sent": sent,
        "acks": acks,
        "send_us": in_send / max(sent - n, 1) * 1e6,
        "recv_us": in_recv / max(acks, 1) * 1e6,
    }


class Sender(asyncio.Protocol):
    sent = 0
    acks = 0
    stopping = False

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        Sender.acks += data.count(b"\r\n")
        if not Sender.stopping and self.transport is not None:
            self.transport.write(self.data)
            Sender.sent += 1


async def protocol_loop(port: int, n: int, seconds: float) -> dict[str, float]:
    loop = asyncio.get_running_loop()
    senders = []
    for i in range(n):
        _, sender = await loop.create_connection(partial(Sender, frame(i)), "127.0.0.1", port)
        senders.append(sender)
    started = time.perf_counter()
    for sender in senders:
        assert sender.transport is not None
        sender.transport.write(sender.data)
        Sender.sent += 1
    await asyncio.sleep(seconds)
    Sender.stopping = True
    wall = time.perf_counter() - started
    for sender in senders:
        assert sender.transport is not None
        sender.transport.close()
    return {"wall": wall, "sent": Sender.sent, "acks": Sender.acks}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--loop", choices=["socket", "uvloop"], default="socket")
    parser.add_argument("--sink-processes", type=int, default=1)
    args = parser.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    sinks = Sinks(args.sink_processes)
    load_before = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_SELF)
    if args.loop == "socket":
        result = socket_loop(sinks.port, args.connections, args.seconds)
    else:
        result = uvloop.run(protocol_loop(sinks.port, args.connections, args.seconds))
    after = resource.getrusage(resource.RUSAGE_SELF)
    sink_cpu = sinks.close()
    sent = result["sent"]
    user, system = after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime
    report = {
        "loop": args.loop,
        "connections": args.connections,
        "sink_processes": args.sink_processes,
        "frames_per_s": round(sent / result["wall"]),
        "acks": int(result["acks"]),
        "send_us": round(result["send_us"], 1) if "send_us" in result else None,
        "recv_us": round(result["recv_us"], 1) if "recv_us" in result else None,
        "user_us_per_frame": round(user / sent * 1e6, 1),
        "sys_us_per_frame": round(system / sent * 1e6, 1),
        "sender_cpu_share": round((user + system) / result["wall"], 2),
        "sink_cpu_us_per_frame": round(sink_cpu / sent * 1e6, 1),
        "loadavg_1min_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
