"""``hj212 console`` (the console alone) and the demo's console setup; ``hj212 users``
is in cli/users_commands.py."""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from datetime import UTC, datetime, timedelta

import anyio
import psycopg

from cli.common import resolve_dsn
from config.settings import Settings
from console.auth import hash_password
from console.server import serve
from simulators.models import Station as SimStation
from storage import console_store
from storage.stations import Pollutant, Station, registered, upsert


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
# county codes of three Hubei cities (checked against the code list on import like any)
DEMO_REGIONS = (("420102", "武汉"), ("420502", "宜昌"), ("420602", "襄阳"))
MODEL_NAMES = {
    "cems": "锅炉烟气",
    "cems-nox": "锅炉烟气",
    "water": "污水总排口",
    "flow": "废水流量",
}
EXTRA_PREFIX = "5198"  # the demo's two history-only stations (cli/demo_history.py)


def _registry(fleet: list[SimStation], since: datetime) -> list[Station]:
    """The fleet as registered: only pollutants with a limit are assessed (flow, O2,
    temperature, pressure, humidity are conditions: docs/regulations.md §1.2); monitored
    since the history begins, so its hours count."""
    return [
        Station(
            mn=s.mn,
            name=f"{DEMO_REGIONS[s.index % 3][1]}{MODEL_NAMES.get(s.model.name, s.model.name)}"
            f"-{s.index}",
            medium=s.model.medium,
            region_code=DEMO_REGIONS[s.index % 3][0],
            enterprise=f"演示企业{s.index // 2 + 1}",
            o2_ref=s.o2_ref,
            monitored_since=since,
            pollutants=tuple(
                Pollutant(
                    f.code,
                    assessed=f.limit is not None,
                    emission_limit=f.limit,
                    range_high=f.range_high,
                )
                for f in s.model.factors
            ),
        )
        for s in fleet
    ]


def _extras(count: int) -> dict[str, SimStation]:
    """A CEMS that went silent and a water plant back after an outage reporting itself
    stopped: history only, the live fleet does not include them."""
    from simulators.fleet import station_mn
    from simulators.models import CEMS, WATER, make_station

    return {
        "offline": make_station(count, station_mn(count, prefix=EXTRA_PREFIX), CEMS, 212),
        "stopped": make_station(count + 1, station_mn(count + 1, prefix=EXTRA_PREFIX), WATER, 212),
    }


def demo_setup(dsn: str, stations: int, history_days: int = 14) -> list[str]:
    """Register the demo fleet's stations (spread over three Hubei cities), write their
    last ``history_days`` days (cli/demo_history.py) and make a demo administrator if
    there is no user yet: the lines to print about the console."""
    from cli import demo_history
    from simulators.fleet import DEFAULT_PREFIX, build_stations
    from simulators.scenario import Scenario

    now = datetime.now(UTC)
    fleet = build_stations(Scenario(), stations, 212, DEFAULT_PREFIX)
    extra = _extras(stations) if history_days > 0 else {}
    since = now - timedelta(days=history_days)
    registry = _registry([*fleet, *extra.values()], since)
    with psycopg.connect(dsn) as conn:
        known = registered(conn)
        upsert(conn, [s for s in registry if s.mn not in known])
    lines = []
    if history_days > 0:
        started = time.monotonic()
        plans = demo_history.plans(fleet, extra, int(now.timestamp()))
        done = demo_history.write_history(dsn, plans, now, history_days)
        lines.append(
            f"history: {done.stations} station(s), {history_days} days, {done.frames} frames,"
            f" {done.rows} measurement rows, {done.alarms} alarms"
            f" ({time.monotonic() - started:.0f} s)"
        )
    with psycopg.connect(dsn) as conn:
        if console_store.users(conn):
            return ["sign in with a user of `hj212 users list`", *lines]
        password = secrets.token_urlsafe(9)
        console_store.add_user(conn, "demo", hash_password(password), "administrator")
    return [f"user demo, password {password}  (administrator; made because there was none)", *lines]
