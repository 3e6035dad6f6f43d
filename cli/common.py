"""Helpers every ``hj212`` subcommand shares: the error line, the database it talks to,
and the --from/--to time parser. Public here so that no command module reaches into
another's private names."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Concatenate, ParamSpec, TypeVar

import psycopg

from config.settings import Settings
from ops.cluster import Cluster
from protocol import BEIJING
from storage.db import AsyncConn

P = ParamSpec("P")
T = TypeVar("T")


def err(message: str, status: int = 1) -> int:
    """Print ``hj212: message`` on stderr and return the exit status to use."""
    print(f"hj212: {message}", file=sys.stderr)
    return status


def cluster(settings: Settings) -> Cluster:
    """The embedded cluster the settings name (it may not exist yet)."""
    return Cluster(settings.database.home, settings.database.port)


def resolve_dsn(settings: Settings) -> str | None:
    """The application's DSN: the configured one, else the embedded cluster's
    ``hj212_app`` (None if it was never created)."""
    return settings.database.dsn or cluster(settings).url()


def resolve_owner_dsn(settings: Settings) -> str | None:
    """The schema owner's DSN (migrations, retention): ``owner_dsn``, else ``dsn``,
    else the embedded cluster's owner."""
    db = settings.database
    return db.owner_dsn or db.dsn or cluster(settings).owner_url()


def moment(text: str) -> datetime:
    """An ISO 8601 time for --from/--to; without an offset it is Beijing time (UTC+8)."""
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=BEIJING) if value.tzinfo is None else value


def run_async(
    dsn: str,
    step: Callable[Concatenate[AsyncConn, P], Awaitable[T]],
    *args: P.args,
    **kwargs: P.kwargs,
) -> T:
    """Run one async storage step (storage/commands.py, storage/spool.py) on a connection
    this command opens, and close it."""

    async def once() -> T:
        async with await psycopg.AsyncConnection.connect(
            dsn, autocommit=True, connect_timeout=5
        ) as conn:
            return await step(conn, *args, **kwargs)

    return asyncio.run(once())
