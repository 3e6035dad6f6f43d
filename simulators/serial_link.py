"""A station over a serial line (RS-232/RS-485 to a radio or a local platform): the
same :class:`~simulators.client.Link` protocol, on a pyserial port read through the
event loop (``add_reader`` on its descriptor, no thread)."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import serial

from simulators.client import Device, Link


class SerialTransport(asyncio.WriteTransport):
    """The minimum of a transport over a serial port's file descriptor."""

    def __init__(self, loop: asyncio.AbstractEventLoop, port: Any, protocol: Link) -> None:
        super().__init__()
        self._loop = loop
        self._port = port
        self._fd: int = port.fileno()
        self._protocol = protocol
        self._pending = bytearray()
        self._closing = False
        loop.add_reader(self._fd, self._read)

    def _read(self) -> None:
        try:
            data = os.read(self._fd, 4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""  # the other end went away (EIO on a pty whose master closed)
        if not data:
            self.close()
            return
        self._protocol.data_received(data)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._closing:
            return
        if self._pending:
            self._pending += data
            return
        try:
            sent = os.write(self._fd, data)
        except BlockingIOError:
            sent = 0
        except OSError:
            self.close()
            return
        if sent < len(data):
            self._pending += bytes(data)[sent:]
            self._loop.add_writer(self._fd, self._flush)

    def _flush(self) -> None:
        try:
            sent = os.write(self._fd, self._pending)
        except BlockingIOError:
            return
        except OSError:
            self.close()
            return
        del self._pending[:sent]
        if not self._pending:
            self._loop.remove_writer(self._fd)

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        self._loop.remove_reader(self._fd)
        self._loop.remove_writer(self._fd)
        self._port.close()
        self._loop.call_soon(self._protocol.connection_lost, None)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._port.port if name == "peername" else default


def opener(path: str, baudrate: int = 9600) -> Any:
    """An ``open_link`` for :class:`~simulators.fleet.Fleet`: the port at ``path``."""

    def open_link(device: Device) -> asyncio.Future[Link]:
        loop = device.fleet.loop
        future: asyncio.Future[Link] = loop.create_future()
        try:
            port = serial.Serial(path, baudrate=baudrate, timeout=0, write_timeout=0)
        except (OSError, ValueError) as exc:
            future.set_exception(OSError(str(exc)))
            return future
        os.set_blocking(port.fileno(), False)
        link = Link(device)
        link.connection_made(SerialTransport(loop, port, link))
        future.set_result(link)
        return future

    return open_link
