"""``hj212 console`` (the console alone) and the demo's console setup; ``hj212 users``
is in cli/users_commands.py."""

from __future__ import annotations

import argparse
import os
import secrets
import sys

import anyio
import psycopg

from cli.common import resolve_dsn
from config.settings import Settings
from console.auth import hash_password
from console.server import serve
from storage import console_store


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    console = sub.add_parser("console", help="run the web console and HTTP API alone")
    console.add_argument("--dsn", help="database DSN (default: the embedded cluster)")
    console.add_argument("--console-port", type=int, help="listen port (default 8212)")
    console.set_defaults(func=console_command)


def args_dsn(args: argparse.Namespace) -> str | None:
    dsn: str | None = args.dsn or resolve_dsn(args.settings)
    if dsn is None:
        print("hj212: no database: set HJ212_DSN or run `hj212 db up`", file=sys.stderr)
    return dsn


def console_command(args: argparse.Namespace) -> int:
    from dataclasses import replace

    settings: Settings = args.settings
    dsn = args_dsn(args)
    if dsn is None:
        return 1
    console = settings.console
    if args.console_port is not None:
        console = replace(console, port=args.console_port)
    print(f"console at http://{console.host}:{console.port}/", file=sys.stderr, flush=True)

    parent = int(os.environ.get("HJ212_CONSOLE_PARENT") or 0) or None

    async def main() -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(serve, console, dsn, args.settings.rules)
            await _until_stopped(parent)
            tg.cancel_scope.cancel()

    anyio.run(main, backend="asyncio", backend_options={"use_uvloop": True})
    return 0


async def _until_stopped(parent: int | None) -> None:
    """Until SIGINT/SIGTERM or, as the child of ``hj212 serve`` (cli/console_process.py),
    until that parent is gone: one killed with SIGKILL cannot stop us, and our port
    would stay taken from the console it starts when it is started again."""
    from cli.gateway_commands import until_signal

    async with anyio.create_task_group() as tg:

        async def on_signal() -> None:
            await until_signal()
            tg.cancel_scope.cancel()

        tg.start_soon(on_signal)
        while parent is None or os.getppid() == parent:  # noqa: ASYNC110 - no event to await
            await anyio.sleep(1.0 if parent else 3600.0)
        tg.cancel_scope.cancel()


# -- hj212 demo ----------------------------------------------------------------------
DEMO_REGIONS = (("420102", "武汉"), ("420502", "宜昌"), ("420602", "襄阳"))


def demo_setup(dsn: str, stations: int) -> list[str]:
    """Register the demo fleet's stations (so the console shows them, spread over three
    Hubei cities) and make a demo administrator if there is no user yet: the lines to
    print about the console."""
    from simulators.fleet import DEFAULT_PREFIX, build_stations
    from simulators.scenario import Scenario
    from storage.stations import Pollutant, Station, registered, upsert

    fleet = build_stations(Scenario(), stations, 212, DEFAULT_PREFIX)
    registry = [
        Station(
            mn=s.mn,
            name=f"{DEMO_REGIONS[s.index % 3][1]}{s.model.name}-{s.index}",
            medium=s.model.medium,
            region_code=DEMO_REGIONS[s.index % 3][0],
            enterprise=f"演示企业{s.index // 2 + 1}",
            o2_ref=s.o2_ref,
            pollutants=tuple(
                Pollutant(f.code, emission_limit=f.limit, range_high=f.range_high)
                for f in s.model.factors
            ),
        )
        for s in fleet
    ]
    with psycopg.connect(dsn) as conn:
        known = registered(conn)
        upsert(conn, [s for s in registry if s.mn not in known])
        if console_store.users(conn):
            return ["sign in with a user of `hj212 users list`"]
        password = secrets.token_urlsafe(9)
        console_store.add_user(conn, "demo", hash_password(password), "administrator")
    return [f"user demo, password {password}  (administrator; made because there was none)"]
