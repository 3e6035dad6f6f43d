"""``hj212 serve`` (the gateway, in one or several processes) and ``hj212 command``."""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime

import anyio

from cli.common import resolve_dsn, run_async
from cli.console_process import run_console
from config import ConfigError
from config import load as load_settings
from config.settings import GatewaySettings, Settings
from evidence import anchor
from gateway.app import Gateway, supervised, tune_gc
from protocol import LocalProtocolError, encode
from services.rules_runner import run_rules
from storage import audit
from storage import commands as store

log = logging.getLogger(__name__)


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = sub.add_parser("serve", help="run the gateway (TCP, serial ports, metrics)")
    serve.add_argument("--host", help="listen address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listen port (default 9212)")
    serve.add_argument("--dsn", help="database DSN (default: the embedded cluster)")
    serve.add_argument("--workers", type=int, help="processes sharing the port (SO_REUSEPORT)")
    serve.add_argument("--metrics-port", type=int, help="/metrics and /healthz port; 0 = off")
    serve.add_argument(
        "--serial",
        action="append",
        default=None,
        metavar="DEVICE[:BAUD]",
        help="also read a data logger on this serial port (repeatable)",
    )
    serve.add_argument("--spool-dir", help="where frames wait while the database is down")
    # every other [gateway] setting as a flag too: --idle-timeout 600, --unknown-station close
    taken = {"host", "port", "workers", "metrics_port", "serial_ports", "spool_dir"}
    for f in dataclasses.fields(GatewaySettings):
        if f.name not in taken:
            serve.add_argument(
                "--" + f.name.replace("_", "-"),
                dest=f"gw_{f.name}",
                metavar=f.name.upper(),
                help=f"[gateway] {f.name}",
            )
    serve.set_defaults(func=serve_command)

    command = sub.add_parser("command", help="send a command to a connected station")
    command.add_argument("action", choices=["send", "show"])
    command.add_argument("--mn", help="the station (send)")
    command.add_argument("--cn", help="command code, e.g. 1011, 1012, 2061, 3011 (send)")
    command.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    command.add_argument("--st", default="32", help="system code of the station (default 32)")
    command.add_argument("--wait", action="store_true", help="wait for the outcome")
    command.add_argument("--timeout", type=float, default=120.0, help="seconds to wait")
    command.add_argument("--id", type=int, help="the command to show")
    command.add_argument("--dsn", help="database DSN (default: the embedded cluster)")
    command.set_defaults(func=command_command)


def _gateway_settings(args: argparse.Namespace, settings: Settings) -> Settings:
    changes: dict[str, object] = {}
    for flag, field in (("workers", "workers"), ("metrics_port", "metrics_port")):
        if getattr(args, flag, None) is not None:
            changes[field] = getattr(args, flag)
    for f in dataclasses.fields(GatewaySettings):
        value = getattr(args, f"gw_{f.name}", None)
        if value is not None:
            changes[f.name] = value
    if changes:
        checked = load_settings(
            None,
            env={},
            overrides={
                "gateway": {
                    k: v for k, v in changes.items() if k not in ("workers", "metrics_port")
                }
            },
        )
        for key in changes:
            if key not in ("workers", "metrics_port"):
                changes[key] = getattr(checked.gateway, key)
    if getattr(args, "serial", None):
        changes["serial_ports"] = tuple(args.serial)
    if getattr(args, "spool_dir", None):
        from pathlib import Path

        changes["spool_dir"] = Path(args.spool_dir)
    return replace(settings, gateway=replace(settings.gateway, **changes))  # type: ignore[arg-type]


def serve_command(args: argparse.Namespace) -> int:
    try:
        settings = _gateway_settings(args, args.settings)
    except ConfigError as exc:
        print(f"hj212 serve: {exc}", file=sys.stderr)
        return 2
    dsn = resolve_dsn(settings)
    if dsn is None:
        print("hj212: no database: set HJ212_DSN or run `hj212 db up`", file=sys.stderr)
        return 1
    workers = settings.gateway.workers
    if workers > 1 and os.environ.get("HJ212_WORKER_INDEX") is None:
        return _supervise(workers)
    index = int(os.environ.get("HJ212_WORKER_INDEX", "0"))
    gw = settings.gateway
    if index and gw.metrics_port:
        gw = replace(gw, metrics_port=gw.metrics_port + index)
    if index:
        gw = replace(
            gw, spool_dir=gw.spool_dir / f"worker-{index}", serial_ports=()
        )  # serial ports belong to worker 0
    run_gateway(gw, dsn, settings)
    return 0


def run_gateway(gw: object, dsn: str, settings: Settings) -> None:
    assert isinstance(gw, GatewaySettings)

    async def main() -> None:
        worker = int(os.environ.get("HJ212_WORKER_INDEX", "0"))
        gateway = Gateway(
            gw,
            dsn,
            settings.storage,
            upstreams=settings.upstreams,
            worker=worker,
            backfill=settings.backfill,
        )
        async with anyio.create_task_group() as tg:
            await tg.start(gateway.run)
            tune_gc()  # the hot path's allocations (docs/performance.md §9)
            if settings.console.enabled and os.environ.get("HJ212_WORKER_INDEX", "0") == "0":
                tg.start_soon(run_console, settings.console, dsn, settings.rules)
            if gw.run_rules:
                # the rules wait for frames this process still holds uncommitted
                rules = functools.partial(
                    run_rules, dsn, settings.rules, holdback=gateway.oldest_pending
                )
                tg.start_soon(supervised, "rules engine", rules)
            if gw.anchor_interval > 0 and os.environ.get("HJ212_WORKER_INDEX", "0") == "0":
                tg.start_soon(supervised, "anchors", functools.partial(anchors, dsn, gw))
            await until_signal()
            log.info("shutting down: no new connections; flushing what was received")
            tg.cancel_scope.cancel()

    anyio.run(main, backend="asyncio", backend_options={"use_uvloop": True})


async def anchors(dsn: str, gw: GatewaySettings) -> None:
    """A signed anchor of the chains' heads now, then every ``anchor_interval``."""
    while True:
        path = await anyio.to_thread.run_sync(anchor.write, dsn)
        log.debug("anchor written: %s", path)
        await anyio.sleep(gw.anchor_interval)


async def until_signal() -> None:
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for _ in signals:
            return


def _supervise(workers: int) -> int:
    """Start ``workers`` processes on the same port (SO_REUSEPORT); stop them together."""
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "cli", *sys.argv[1:]],
            env={**os.environ, "HJ212_WORKER_INDEX": str(i)},
        )
        for i in range(workers)
    ]
    stop = False

    def forward(signum: int, _frame: object) -> None:
        nonlocal stop
        stop = True
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)
    status = 0
    for child in children:
        status = max(status, child.wait())
    return status if not stop else 0


def command_command(args: argparse.Namespace) -> int:
    dsn = args.dsn or resolve_dsn(args.settings)
    if dsn is None:
        print("hj212: no database: set HJ212_DSN or run `hj212 db up`", file=sys.stderr)
        return 1
    if args.action == "show":
        if args.id is None:
            print("hj212 command show: --id is required", file=sys.stderr)
            return 2
        shown = run_async(dsn, store.state_of, args.id)
        mn = shown.get("mn")
        who = os.environ.get("USER", "cli")
        audit.append(
            dsn, who, "read", f"command:{args.id}", {}, mn=mn if isinstance(mn, str) else None
        )
        print(json.dumps(shown, ensure_ascii=False))
        return 0
    if not args.mn or not args.cn:
        print("hj212 command send: --mn and --cn are required", file=sys.stderr)
        return 2
    params: dict[str, object] = {}
    for item in args.param:
        key, sep, value = item.partition("=")
        if not sep:
            print(f"hj212 command send: --param {item!r} is not KEY=VALUE", file=sys.stderr)
            return 2
        params[key] = value
    qn = encode.new_qn(datetime.now(UTC))
    try:  # check the parameters the way the gateway will encode them (2005 forms too)
        encode.check_command(args.cn, params)
    except LocalProtocolError as exc:
        print(f"hj212 command send: {exc}", file=sys.stderr)
        return 2
    who = os.environ.get("USER", "cli")
    try:
        command_id = run_async(dsn, store.queue, args.mn, args.cn, params, qn, args.st, who)
    except ValueError as exc:
        print(f"hj212 command send: {exc}", file=sys.stderr)
        return 2
    shown = {k: "******" if k in store.PENDING else v for k, v in params.items()}
    detail = {"cn": args.cn, "qn": qn, "st": args.st, "params": shown}
    audit.append(dsn, who, "command", f"command:{command_id}", detail, mn=args.mn)
    if not args.wait:
        print(json.dumps({"id": command_id, "qn": qn, "state": "queued"}))
        return 0
    deadline = time.monotonic() + args.timeout
    state: dict[str, object] = {}
    while time.monotonic() < deadline:
        state = run_async(dsn, store.state_of, command_id)
        if state.get("state") in ("done", "refused", "failed", "timeout"):
            break
        time.sleep(0.5)
    print(json.dumps(state, ensure_ascii=False))
    return 0 if state.get("state") == "done" else 1
