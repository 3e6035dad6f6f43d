"""The connection types every storage function takes, and the pool the running process
creates and hands down (docs/architecture.md §1).

Storage functions never connect by themselves: the process that runs (a CLI command, a
service, the console's lifespan) opens one pool with :func:`open_pool` and passes a
connection, or the pool, to the functions it calls.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import DictRow, TupleRow
from psycopg_pool import AsyncConnectionPool, ConnectionPool

Conn = psycopg.Connection[TupleRow]
DictConn = psycopg.Connection[DictRow]
Pool = ConnectionPool[psycopg.Connection[TupleRow]]
AsyncConn = psycopg.AsyncConnection[TupleRow]
AsyncPool = AsyncConnectionPool[AsyncConn]


def open_pool(dsn: str, *, name: str, min_size: int = 1, max_size: int = 4, **kwargs: Any) -> Pool:
    """A pool of ``max_size`` connections to ``dsn``, opened and ready (it waits for the
    first connection, so a wrong DSN fails here with the server's message, not later).
    Close it with ``pool.close()`` or use it as a context manager."""
    pool: Pool = ConnectionPool(
        dsn, name=name, min_size=min_size, max_size=max_size, open=False, kwargs=kwargs
    )
    pool.open(wait=True, timeout=10.0)
    return pool


async def _reset(conn: AsyncConn) -> None:
    await conn.execute("UNLISTEN *")  # a LISTEN ends with its user, not with the pool


def async_pool(dsn: str, *, name: str, max_size: int = 4, timeout: float = 5.0) -> AsyncPool:
    """A pool for the event loop (the gateway's bookkeeping), not yet open: ``await
    pool.open()`` inside the loop; it does not wait for the database, which may be down
    (the gateway spools meanwhile), and a checkout waits ``timeout`` s at most.

    Connections are in autocommit: a storage function of several statements that must
    hold together opens ``conn.transaction()`` itself. Each is checked when taken out
    (a database restarted since is noticed there, not in the middle of a step)."""
    return AsyncConnectionPool(
        dsn,
        name=name,
        min_size=1,
        max_size=max_size,
        open=False,
        timeout=timeout,
        check=AsyncConnectionPool.check_connection,
        reset=_reset,
        kwargs={"autocommit": True, "connect_timeout": 5},
    )
