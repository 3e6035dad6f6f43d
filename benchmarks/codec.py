"""Codec benchmark: CRC and full decode of a typical real-time (2011) frame, one core.

Each figure is printed beside a naive baseline measured in the same run:
the standard's bit-by-bit CRC loop, and a bare ``bytes.split`` parse.

    .venv/bin/python -m benchmarks.codec [--seconds 2]
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable

from protocol import Connection, DataUpload, Role, crc16, encode

SEGMENT = (
    "QN=20261123101500123;ST=32;CN=2011;PW=123456;MN=010000A8900016F000169DC0;Flag=5;"
    "CP=&&DataTime=20261123101500;w01018-Rtd=31.25,w01018-Flag=N;w21003-Rtd=2.104,"
    "w21003-Flag=N;w21011-Rtd=0.351,w21011-Flag=N;w21001-Rtd=11.02,w21001-Flag=N;"
    "w01001-Rtd=7.21,w01001-Flag=N;w00000-Rtd=12.5,w00000-Flag=N&&"
)
FRAME = encode.frame(SEGMENT)
DATA = SEGMENT.encode()


def bit_loop_crc(data: bytes) -> int:
    reg = 0xFFFF
    for byte in data:
        reg = (reg >> 8) ^ byte
        for _ in range(8):
            reg = (reg >> 1) ^ 0xA001 if reg & 1 else reg >> 1
    return reg


def split_parse(frame: bytes) -> dict[bytes, bytes]:
    return dict(
        item.split(b"=", 1) for item in frame[6:-6].replace(b"&&", b";").split(b";") if b"=" in item
    )


def per_second(fn: Callable[[], object], seconds: float) -> float:
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        for _ in range(100):
            fn()
        count += 100
    return count / elapsed


def decode_once() -> None:
    [event] = Connection(Role.PLATFORM).receive_data(FRAME)
    assert isinstance(event, DataUpload)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=2.0)
    seconds = parser.parse_args().seconds
    print(f"frame: {len(FRAME)} bytes (segment {len(DATA)}); python {platform.python_version()}")
    crc = per_second(lambda: crc16(DATA), seconds)
    naive = per_second(lambda: bit_loop_crc(DATA), seconds)
    dec = per_second(decode_once, seconds)
    split = per_second(lambda: split_parse(FRAME), seconds)
    print("| measure | ours | baseline | ratio |")
    print("|---|---|---|---|")
    print(f"| CRC µs/frame | {1e6 / crc:.2f} | {1e6 / naive:.2f} (bit loop) | {crc / naive:.1f}x |")
    print(f"| decode frames/s | {dec:,.0f} | {split:,.0f} (bytes.split) | {dec / split:.2f}x |")


if __name__ == "__main__":
    main()
