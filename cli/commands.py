"""The subcommands of ``hj212``; each returns the process exit status."""

from __future__ import annotations

import argparse
import functools
import json
import shlex
import socket
import sys
import time
from dataclasses import replace
from pathlib import Path

import anyio
import psycopg

from cli.common import cluster as _cluster
from cli.common import err, resolve_dsn, resolve_owner_dsn
from cli.console_commands import demo_setup
from cli.console_process import run_console
from cli.gateway_commands import anchors, until_signal
from config.settings import GatewaySettings, Settings
from gateway.app import Gateway, supervised
from ops.cluster import ClusterError
from ops.install import InstallError, ensure_timescaledb
from services.rules_runner import run_rules
from simulators.fleet import run_fleet
from storage import measurements, roles
from storage.migrate import MigrationError, migrate


def _run_async(main: object) -> None:
    anyio.run(main, backend="asyncio", backend_options={"use_uvloop": True})  # type: ignore[arg-type]


# -- db -------------------------------------------------------------------------------
def db(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    cluster = _cluster(settings)
    try:
        if args.action == "install":
            ensure_timescaledb(Path("var/build/timescaledb").absolute())
        elif args.action == "up":
            started = time.monotonic()
            applied = migrate(cluster.up())
            dsn = cluster.url()
            print(
                f"database up at {dsn} ({time.monotonic() - started:.1f} s; "
                f"{len(applied)} migration(s) applied)",
                file=sys.stderr,
            )
            print(dsn)
        elif args.action == "down":
            print("stopped" if cluster.down() else "not running")
        elif args.action == "status":
            status = cluster.status()
            print(
                json.dumps(
                    {
                        "running": status.running,
                        "pid": status.pid,
                        "dsn": status.dsn,
                        "data_dir": str(status.data_dir) if status.data_dir else None,
                    }
                )
            )
            return 0 if status.running else 3
        elif args.action == "url":
            url = resolve_dsn(settings)
            if url is None:
                return err("no database configured and no embedded cluster: run `hj212 db up`")
            print(url)
        elif args.action == "migrate":
            target = resolve_owner_dsn(settings)
            if target is None:
                return err("no database configured and no embedded cluster: run `hj212 db up`")
            applied = migrate(target)
            print(
                f"{len(applied)} migration(s) applied: "
                + (", ".join(f"{m.version:04d}_{m.name}" for m in applied) or "none")
            )
            print(_role_advice(settings), file=sys.stderr)
    except (InstallError, ClusterError, MigrationError, psycopg.Error) as exc:
        return err(str(exc))
    return 0


def _role_advice(settings: Settings) -> str:
    """What `db migrate` reminds a production operator of (README: Database roles)."""
    db = settings.database
    if db.dsn and not db.owner_dsn:
        return (
            "note: migrated with the application's DSN; the application should connect as a"
            f" role IN ROLE {roles.APP_ROLE}, with the owner's DSN in [database] owner_dsn"
        )
    return f"application privileges granted to role {roles.APP_ROLE}"


def _pick_port(preferred: int) -> int:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", preferred))
            return preferred
        except OSError:
            sock.bind(("127.0.0.1", 0))
            return int(sock.getsockname()[1])


def demo_gateway(configured: GatewaySettings, port: int | None) -> GatewaySettings:
    """The gateway as configured (every setting, HJ212_GATEWAY_* included), on loopback:
    the simulated stations are local. A port that is taken (another demo) is replaced
    by a free one, and the banner says which."""
    metrics = configured.metrics_port
    return replace(
        configured,
        host="127.0.0.1",
        port=_pick_port(port or configured.port),
        metrics_port=_pick_port(metrics) if metrics else 0,
    )


def banner(
    dsn: str, gw: GatewaySettings, console_port: int, login: str, args: argparse.Namespace
) -> str:
    """What the demo runs and how to reach it. The hints name this database itself (a
    --home or a port of its own is then no trap), quoted for the shell."""
    metrics = f"http://127.0.0.1:{gw.metrics_port}/metrics" if gw.metrics_port else "off"
    quoted = shlex.quote(dsn)
    return f"""
HJ 212 platform running locally
  database   {dsn}
  gateway    127.0.0.1:{gw.port}  (HJ 212 over TCP), metrics {metrics}
  stations   {args.stations} simulated data loggers, one real-time frame every {args.interval} s
  console    http://127.0.0.1:{console_port}/   {login}

Look at the data while it runs: the console above, or the tables themselves
  psql {quoted}    (schema hj212: measurement, frame, alarm, case, audit_log ...)
Other hj212 commands (alarms, report, evidence, marks ...) reach this database with:
  export HJ212_DSN={quoted}
Ctrl-C stops everything (gateway, stations and the database it started).
"""


def _count_rows(dsn: str) -> str:
    """The measurement rows, for the progress line; a database that is down is said so
    (the gateway spools meanwhile: a progress line must not stop the demo)."""
    try:
        with psycopg.connect(dsn, connect_timeout=2) as conn:
            return str(measurements.count(conn))
    except psycopg.Error:
        return "? (database unreachable: spooling)"


def demo(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    cluster = _cluster(settings)
    was_running = cluster.status().running
    try:
        owner = settings.database.owner_dsn or settings.database.dsn or cluster.up()
        migrate(owner)
        dsn = settings.database.dsn or cluster.url() or owner
    except (ClusterError, MigrationError, psycopg.Error) as exc:
        return err(str(exc))
    gw_settings = demo_gateway(settings.gateway, args.port)
    console = replace(settings.console, port=_pick_port(settings.console.port))
    login = demo_setup(dsn, args.stations, args.history_days)
    print(banner(dsn, gw_settings, console.port, login[0], args), file=sys.stderr, flush=True)
    for line in login[1:]:
        print(f"  {line}", file=sys.stderr, flush=True)

    async def main() -> None:
        gateway = Gateway(gw_settings, dsn, settings.storage)
        started = time.monotonic()
        async with anyio.create_task_group() as tg:
            await tg.start(gateway.run)
            tg.start_soon(run_console, console, dsn, settings.rules)
            # the rules engine too, so that the console shows cases and alarms
            rules = functools.partial(
                run_rules, dsn, settings.rules, holdback=gateway.oldest_pending
            )
            tg.start_soon(supervised, "rules engine", rules)
            if settings.gateway.anchor_interval > 0:
                signing = functools.partial(anchors, dsn, settings.gateway)
                tg.start_soon(supervised, "anchors", signing)

            async def fleet() -> None:
                duration = args.duration or 365 * 86400.0
                await run_fleet(
                    args.stations, "127.0.0.1", gw_settings.port, duration, interval=args.interval
                )
                tg.cancel_scope.cancel()

            async def report() -> None:
                while True:
                    await anyio.sleep(5)
                    rows = await anyio.to_thread.run_sync(_count_rows, dsn)
                    s = gateway.stats
                    print(
                        f"[{time.monotonic() - started:5.0f} s] connections {s.open_connections}"
                        f"  frames {s.frames}  acks {s.acks}  rejected {s.rejected}"
                        f"  measurement rows {rows}",
                        file=sys.stderr,
                        flush=True,
                    )

            tg.start_soon(fleet)
            tg.start_soon(report)
            await until_signal()
            tg.cancel_scope.cancel()

    try:
        _run_async(main)
    finally:
        if not was_running and not settings.database.dsn:
            cluster.down()
            print("database stopped", file=sys.stderr)
    return 0
