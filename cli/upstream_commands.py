"""``hj212 upstream status``: what each upstream has been sent and what waits for it
(docs/forwarding.md §4)."""

from __future__ import annotations

import argparse
import json
from datetime import datetime

from cli.common import err, resolve_dsn, run_async
from rules.times import machine
from storage import upstream_queue


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    up = sub.add_parser("upstream", help="forwarding to the platforms above: backlog and lag")
    up.add_argument("action", choices=["status"])
    up.add_argument("--dsn", help="default: the configured database")
    up.set_defaults(func=upstream_command)


def shown(row: dict[str, object], now: datetime) -> dict[str, object]:
    """One upstream as JSON: times in ISO 8601 (+08:00), the lag in seconds."""
    oldest = row["oldest"]
    lag = (now - oldest).total_seconds() if isinstance(oldest, datetime) else 0.0
    out = {k: machine(v) if isinstance(v, datetime) else v for k, v in row.items()}
    out["lag_s"] = round(max(0.0, lag), 1)
    out["behind"] = row["behind_since"] is not None
    return out


def upstream_command(args: argparse.Namespace) -> int:
    """One JSON line per upstream; exit 1 when one is behind its alarm."""
    dsn = args.dsn or resolve_dsn(args.settings)
    if dsn is None:
        return err("no database configured and no embedded cluster: run `hj212 db up`")
    found = run_async(dsn, upstream_queue.status)
    now = datetime.now().astimezone()
    for row in found:
        print(json.dumps(shown(row, now), ensure_ascii=False))
    return 1 if any(r["behind_since"] is not None for r in found) else 0
