"""Codec benchmark: CRC and full decode of a typical real-time (2011) frame, on one core.

Every figure is printed beside a naive baseline measured in the same run: a table-driven
CRC loop (and the standard's literal bit loop), and a bare ``bytes.split`` parse.

    .venv/bin/python -m benchmarks.codec [--seconds 2]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import tracemalloc
from collections.abc import Callable

from protocol import Connection, DataUpload, RawFrame, Role, crc16, decode, encode
from protocol._crc import crc16_reference
from protocol._frame import Framer

SEGMENT = (
    "QN=20261123101500123;ST=32;CN=2011;PW=123456;MN=010000A8900016F000169DC0;Flag=5;"
    "CP=&&DataTime=20261123101500;w01018-Rtd=31.25,w01018-Flag=N;w21003-Rtd=2.104,"
    "w21003-Flag=N;w21011-Rtd=0.351,w21011-Flag=N;w21001-Rtd=11.02,w21001-Flag=N;"
    "w01001-Rtd=7.21,w01001-Flag=N;w00000-Rtd=12.5,w00000-Flag=N&&"
)
FRAME = encode.frame(SEGMENT)
DATA = SEGMENT.encode()


def bit_loop_crc(data: bytes) -> int:
    """The standard's Appendix A listing, literally."""
    reg = 0xFFFF
    for byte in data:
        reg = (reg >> 8) ^ byte
        for _ in range(8):
            reg = (reg >> 1) ^ 0xA001 if reg & 1 else reg >> 1
    return reg


def split_parse(frame: bytes) -> dict[bytes, bytes]:
    """The floor: split the frame into key/value pairs, nothing checked or typed."""
    return dict(
        item.split(b"=", 1) for item in frame[6:-6].replace(b"&&", b";").split(b";") if b"=" in item
    )


def per_second(fn: Callable[[], object], seconds: float) -> float:
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(200):
            fn()
        count += 200
    return count / elapsed


def memory_per_event(n: int = 2000) -> float:
    """Bytes allocated and kept per decoded event (the event with its dicts and values)."""
    conn = Connection(Role.PLATFORM, auto_answer=False)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    kept = [conn.receive_data(FRAME) for _ in range(n)]
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert isinstance(kept[-1][0], DataUpload)
    return (after - before) / n


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=2.0)
    seconds = parser.parse_args().seconds
    os.sched_setaffinity(0, {0})  # one core
    print(
        f"frame: {len(FRAME)} bytes (segment {len(DATA)}), 6 pollutants; "
        f"python {platform.python_version()}; {platform.machine()}; pinned to one core"
    )
    crc = per_second(lambda: crc16(DATA), seconds)
    table = per_second(lambda: crc16_reference(DATA), seconds)
    bits = per_second(lambda: bit_loop_crc(DATA), seconds)
    conn = Connection(Role.PLATFORM, auto_answer=False)
    full = per_second(lambda: conn.receive_data(FRAME), seconds)
    [raw] = Framer().feed(FRAME)
    assert isinstance(raw, RawFrame)
    only = per_second(lambda: decode(raw), seconds)
    split = per_second(lambda: split_parse(FRAME), seconds)
    memory = memory_per_event()
    print("| measure | ours | baseline | ratio |")
    print("|---|---|---|---|")
    print(
        f"| CRC µs/frame | {1e6 / crc:.2f} | {1e6 / table:.2f} (table loop); "
        f"{1e6 / bits:.1f} (bit loop) | {crc / table:.1f}x; {crc / bits:.0f}x |"
    )
    print(
        f"| frames/s, Connection.receive_data (frame + CRC + parse + typed event) "
        f"| {full:,.0f} | {split:,.0f} (bytes.split) | {full / split:.2f}x |"
    )
    print(
        f"| frames/s, decode() of a framed segment | {only:,.0f} | {split:,.0f} | "
        f"{only / split:.2f}x |"
    )
    print(
        f"| bytes kept per decoded event | {memory:,.0f} | {len(FRAME)} (the frame) | "
        f"{memory / len(FRAME):.1f}x |"
    )


if __name__ == "__main__":
    main()
