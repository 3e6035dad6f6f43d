"""Data loggers wired to the gateway host (RS-232/485), through pyserial.

A reader thread feeds bytes to the same :class:`gateway.session.StationSession` a TCP
connection uses; writes go straight to the port. ``spec`` is ``DEVICE[:BAUD]``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

import serial

log = logging.getLogger(__name__)


class SerialTransport(asyncio.Transport):
    def __init__(
        self, port: serial.Serial, protocol: asyncio.Protocol, loop: asyncio.AbstractEventLoop
    ) -> None:
        super().__init__()
        self.port = port
        self.protocol = protocol
        self.loop = loop
        self._closing = False
        self._paused = threading.Event()
        self._thread = threading.Thread(target=self._read, name=f"serial {port.port}", daemon=True)

    def start(self) -> None:
        self.loop.call_soon(self.protocol.connection_made, self)
        self._thread.start()

    def _read(self) -> None:
        while not self._closing:
            if self._paused.is_set():
                time.sleep(0.05)  # storage is behind: leave the bytes in the port's buffer
                continue
            try:
                data = self.port.read(self.port.in_waiting or 1)
            except (serial.SerialException, OSError, TypeError) as exc:
                if not self._closing:
                    log.error("serial port %s failed: %s", self.port.port, exc)
                    self.loop.call_soon_threadsafe(self._lost, exc)
                return
            if data:
                self.loop.call_soon_threadsafe(self.protocol.data_received, data)

    def _lost(self, exc: Exception | None) -> None:
        self._closing = True
        self.protocol.connection_lost(exc)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._closing:
            self.port.write(bytes(data))

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return f"serial:{self.port.port}" if name == "peername" else default

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        self.port.close()
        self.loop.call_soon(self.protocol.connection_lost, None)

    def abort(self) -> None:
        self.close()

    def pause_reading(self) -> None:
        self._paused.set()

    def resume_reading(self) -> None:
        self._paused.clear()

    def is_reading(self) -> bool:
        return not self._paused.is_set()


def open_serial(
    spec: str, protocol: asyncio.Protocol, loop: asyncio.AbstractEventLoop
) -> SerialTransport:
    device, _, baud = spec.partition(":")
    port = serial.Serial(device, int(baud or 9600), timeout=0.2)
    transport = SerialTransport(port, protocol, loop)
    transport.start()
    return transport
