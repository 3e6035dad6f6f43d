"""``hj212 spool status`` (what a gateway's spool holds, and whose it is) and
``hj212 spool claim`` (record whose a spool from before migration 0053 is)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import psycopg

from cli.common import resolve_dsn, run_async
from gateway.spool import Spool, read_segment
from rules.times import machine
from storage.spool import database_id


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sp = sub.add_parser("spool", help="the gateway's disk spool: what it holds, whose it is")
    sp.add_argument("action", choices=["status", "claim"])
    sp.add_argument("--spool-dir", type=Path, help="default: [gateway] spool_dir")
    sp.add_argument("--dsn", help="claim: the database the frames belong to")
    sp.set_defaults(func=spool_command)


def _directories(root: Path) -> list[Path]:
    """The spool and, with --workers N, each worker's (spool_dir/worker-i)."""
    return [root, *sorted(root.glob("worker-*"))] if root.exists() else []


def describe(directory: Path) -> dict[str, object]:
    """What one spool directory holds: frames not yet in the database, by receive time."""
    spool = Spool(directory, 1 << 62)
    pending, first, last, stations = 0, None, None, set()
    for segment in spool.segments():
        for _, record in read_segment(segment, spool.done_offset(segment)):
            pending += 1
            first = min(first or record.received_at, record.received_at)
            last = max(last or record.received_at, record.received_at)
            stations.add(record.mn or "")
    return {
        "directory": str(directory),
        "database": spool.owner(),
        "segments": len(spool.segments()),
        "bytes": spool.size(),
        "pending_frames": pending,
        "stations": len(stations),
        "oldest": machine(first) if first else None,  # JSON: +08:00 (cli/output.py)
        "newest": machine(last) if last else None,
    }


def spool_command(args: argparse.Namespace) -> int:
    root: Path = args.spool_dir or args.settings.gateway.spool_dir
    if args.action == "status":
        found = [describe(d) for d in _directories(root)]
        print(json.dumps({"spool_dir": str(root), "spools": found}, ensure_ascii=False))
        return 0
    dsn = args.dsn or resolve_dsn(args.settings)
    if dsn is None:
        print("hj212 spool claim: no database: --dsn or `hj212 db up`", file=sys.stderr)
        return 1
    try:
        database = run_async(dsn, database_id)
    except psycopg.Error as exc:
        print(f"hj212 spool claim: {exc}", file=sys.stderr)
        return 1
    for directory in _directories(root):
        spool = Spool(directory, 1 << 62)
        owner = spool.owner()
        if owner not in (None, database):
            print(f"hj212 spool claim: {directory} belongs to database {owner}", file=sys.stderr)
            return 1
        spool.claim(database)
        print(f"{directory}: frames belong to database {database}")
    return 0
