"""``hj212 frames deviations`` (which stations bend the standard how) and ``hj212 frames
events`` (what a station's answers and event uploads said): docs/protocol.md §16."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime, timedelta

import psycopg

from cli.common import err, moment, resolve_dsn, run_async
from rules.times import machine
from storage.deviations import by_station
from storage.device_events import events


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    fr = sub.add_parser("frames", help="the raw archive: deviations per station, device events")
    fr.add_argument("action", choices=["deviations", "events"])
    fr.add_argument("--since", type=moment, help="ISO time (default: 7 days ago)")
    fr.add_argument("--until", type=moment, help="ISO time (default: now)")
    fr.add_argument(
        "--kind", help="deviations: a deviation or its word (legacy-crc); events: a kind"
    )
    fr.add_argument("--mn", help="one station (required for events)")
    fr.add_argument("--dsn", help="default: the configured database")
    fr.set_defaults(func=frames_command)


def frames_command(args: argparse.Namespace) -> int:
    dsn = args.dsn or resolve_dsn(args.settings)
    if dsn is None:
        return err("no database: --dsn or `hj212 db up`")
    until: datetime = args.until or datetime.now(UTC)
    since: datetime = args.since or until - timedelta(days=7)
    if since >= until:
        return err("--since must be before --until", 2)
    try:
        if args.action == "deviations":
            for c in run_async(dsn, by_station, since, until, kind=args.kind, mn=args.mn):
                line = {"mn": c.mn, "deviation": c.deviation, "frames": c.frames}
                line |= {"first": machine(c.first), "last": machine(c.last)}
                print(json.dumps(line, ensure_ascii=False))
            return 0
        if not args.mn:
            return err("frames events needs --mn", 2)
        for e in run_async(dsn, events, args.mn, since, until, kind=args.kind):
            entry: dict[str, object] = {"data_time": machine(e.data_time), "cn": e.cn}
            entry |= {"kind": e.kind, "pollutant": e.pollutant, "payload": e.payload}
            entry["frame_id"] = e.frame_id
            print(json.dumps(entry, ensure_ascii=False))
        return 0
    except psycopg.Error as exc:
        return err(str(exc).strip())
