"""``hj212 simulate``: a fleet of simulated data loggers against a gateway.

Progress goes to stderr: one line rewritten in place on a terminal, a line every 5 s
otherwise; a summary at the end. The counts go to stdout as one JSON object (and to
``--json FILE`` as well), for tests and benchmarks. Exit status 0 when frames went out
and were answered (or needed no answer), 1 otherwise, 2 for unusable arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import Any

from simulators.fleet import Counts, run_fleet
from simulators.logger import DEFAULT_UPLOADS
from simulators.processes import run_processes
from simulators.scenario import VERSIONS, Scenario, ScenarioError
from simulators.scenario import load as load_scenario

PLAIN_EVERY = 5.0  # seconds between progress lines when stderr is not a terminal


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sim = sub.add_parser("simulate", help="simulated data loggers against a gateway")
    sim.add_argument("--stations", type=int, help="how many stations (default 10)")
    sim.add_argument("--gateway", default="127.0.0.1:9212", help="HOST:PORT (loopback only)")
    sim.add_argument("--duration", type=float, help="real seconds the run lasts (default 30)")
    sim.add_argument("--interval", type=float, help="real seconds between real-time frames")
    sim.add_argument("--scenario", type=Path, help="scenario file (TOML): fleet and faults")
    sim.add_argument("--rate", type=float, help="frames/s cap over the whole fleet")
    sim.add_argument("--version", choices=[*VERSIONS, "mix"], help="protocol version(s)")
    sim.add_argument("--serial", metavar="DEVICE", help="one station over this serial port")
    sim.add_argument("--seed", type=int, help="seed of every signal and fault (default 212)")
    sim.add_argument("--speed", type=float, help="simulated seconds per real second")
    sim.add_argument("--start", type=datetime.fromisoformat, help="simulated start, ISO 8601")
    sim.add_argument(
        "--uploads",
        default=",".join(sorted(DEFAULT_UPLOADS)),
        help="CNs to upload (default: all of 2011,2021,2031,2041,2051,2061,2081,3020)",
    )
    sim.add_argument(
        "--processes",
        type=int,
        default=1,
        help="worker processes the stations are split over (default 1: this process)",
    )
    sim.add_argument("--json", type=Path, help="also write the counts to this file")
    sim.add_argument(
        "--allow-remote", action="store_true", help="allow a non-loopback gateway address"
    )
    sim.set_defaults(func=simulate)


def progress_line(counts: Counts) -> str:
    elapsed = max(counts.elapsed, 1e-9)
    errors = counts.errors + counts.connect_errors + counts.timeouts
    return (
        f"[{elapsed:6.1f} s] connections {counts.open_connections}/{counts.stations}"
        f"  sent {counts.frames_sent}  acks {counts.acks}  retries {counts.retries}"
        f"  errors {errors}  rate {counts.frames_sent / elapsed:,.0f} frames/s"
    )


def _printer() -> Callable[[Counts], None]:
    tty = sys.stderr.isatty()
    last = [0.0]

    def show(counts: Counts) -> None:
        if tty:
            print("\r" + progress_line(counts), end="", file=sys.stderr, flush=True)
        elif time.monotonic() - last[0] >= PLAIN_EVERY:
            last[0] = time.monotonic()
            print(progress_line(counts), file=sys.stderr, flush=True)

    return show


def _summary(counts: Counts) -> str:
    data = counts.summary()
    return (
        f"{counts.stations} stations, {counts.connections} connections"
        f" ({counts.connect_errors} refused or failed) in {counts.elapsed:.1f} s\n"
        f"  {counts.records} records, {counts.frames_sent} frames sent,"
        f" {counts.acks} acknowledged (9014), {counts.retries} resent,"
        f" {counts.timeouts} given up, {counts.resent_acked} backlog uploads acknowledged\n"
        f"  {data.get('frames_per_s', 0)} frames/s; ack latency p50"
        f" {data.get('ack_p50_ms', '-')} ms, p99 {data.get('ack_p99_ms', '-')} ms"
    )


def simulate(args: argparse.Namespace) -> int:
    scenario = Scenario()
    if args.scenario is not None:
        try:
            scenario = load_scenario(args.scenario)
        except ScenarioError as exc:
            print(f"hj212: {exc}", file=sys.stderr)
            return 2
    host, _, port = args.gateway.rpartition(":")
    if not port.isdigit():
        print("hj212: --gateway takes HOST:PORT", file=sys.stderr)
        return 2
    if args.processes < 1 or (args.processes > 1 and args.serial):
        print("hj212: --processes takes 1 or more (1 with --serial)", file=sys.stderr)
        return 2
    uploads = frozenset(u.strip() for u in args.uploads.split(",") if u.strip())
    printer, last = _printer(), [Counts()]

    def show(counts: Counts) -> None:
        last[0] = counts
        printer(counts)

    options: dict[str, Any] = {
        "interval": args.interval,
        "seed": args.seed,
        "progress": show,
        "scenario": scenario,
        "rate": args.rate,
        "versions": tuple(VERSIONS) if args.version == "mix" else _one(args.version),
        "speed": args.speed,
        "start": args.start,
        "uploads": uploads,
        "allow_remote": args.allow_remote,
    }
    stations = args.stations or scenario.stations or 10
    fleet = (host or "127.0.0.1", int(port), args.duration or scenario.duration or 30.0)
    try:
        if args.processes > 1:
            counts = _run(run_processes(args.processes, stations, *fleet, **options))
        else:
            counts = _run(run_fleet(stations, *fleet, serial_device=args.serial, **options))
    except ValueError as exc:
        print(f"\nhj212: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # Ctrl-C: what was done until then
        print(f"\nhj212: interrupted\n{_summary(last[0])}", file=sys.stderr)
        return 130
    if sys.stderr.isatty():
        print(file=sys.stderr)
    print(_summary(counts), file=sys.stderr)
    data = counts.summary()
    if args.processes > 1:
        data["processes"] = args.processes
    text = json.dumps(data)
    print(text)
    if args.json is not None:
        args.json.write_text(text + "\n", "utf-8")
    answered = counts.acks > 0 or (counts.unacked_sent > 0 and counts.uploads_acked == 0)
    return 0 if counts.frames_sent and answered and not counts.errors else 1


def _one(version: str | None) -> tuple[str, ...] | None:
    return (version,) if version else None


def _run(main: Coroutine[Any, Any, Counts]) -> Counts:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop is a dependency off Windows
        return asyncio.run(main)
    return uvloop.run(main)
