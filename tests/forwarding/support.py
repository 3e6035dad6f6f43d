"""Two levels in one test: a city database and gateway forwarding to a provincial one
(the same software, a database of its own), on loopback ports."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import anyio

from config.settings import GatewaySettings, UpstreamSettings
from gateway.app import Gateway
from tests import databases


@contextlib.contextmanager
def province_database(server_dsn: str) -> Iterator[str]:
    """A second database, migrated: the provincial platform's."""
    with databases.migrated(server_dsn, "hj212_province") as dsn:
        yield dsn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def settings(tmp: Path, name: str, port: int = 0, **changes: Any) -> GatewaySettings:
    base = GatewaySettings(
        host="127.0.0.1",
        port=port,
        metrics_port=0,
        spool_dir=tmp / name / "spool",
        run_rules=False,
        anchor_interval=0,
    )
    return replace(base, **changes)


def upstream(port: int, **changes: Any) -> UpstreamSettings:
    return replace(
        UpstreamSettings(name="province", host="127.0.0.1", port=port, overtime=1.0, recount=1),
        **changes,
    )


@contextlib.asynccontextmanager
async def gateway(
    dsn: str, gw: GatewaySettings, upstreams: tuple[UpstreamSettings, ...] = ()
) -> AsyncIterator[Gateway]:
    running = Gateway(gw, dsn, upstreams=upstreams)
    async with anyio.create_task_group() as tg:
        await tg.start(running.run)
        yield running
        tg.cancel_scope.cancel()
