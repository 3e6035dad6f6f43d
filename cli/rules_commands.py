"""``hj212 rules run|replay|status``, ``hj212 report transmission|emissions`` and
``hj212 alarms list|ack|resolve|close``."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import anyio
import psycopg

from cli.audit_commands import who_am_i
from cli.common import err, moment, resolve_dsn
from config.rules import RulesSettings
from protocol import BEIJING
from reports import emissions, render, transmission
from reports.periods import PeriodError, parse
from rules.lifecycle import LifecycleError
from rules.times import TIME_LABEL, TIME_LABEL_EN, machine, shown
from services.rules_replay import replay
from services.rules_runner import run_rules
from storage import alarms as alarm_store
from storage import audit
from storage.rules_store import load_cursor


# -- rules -----------------------------------------------------------------------------
def rules_command(args: argparse.Namespace) -> int:
    dsn = resolve_dsn(args.settings)
    if dsn is None:
        return err("no database configured and no embedded cluster: run `hj212 db up`")
    try:
        settings = args.settings.rules
        if args.action == "run":
            return _run(dsn, settings, args.duration)
        with psycopg.connect(dsn, autocommit=True) as conn:
            if args.action == "status":
                return _status(conn)
            return _replay(conn, args, settings)
    except psycopg.Error as exc:
        return err(str(exc))


def _run(dsn: str, settings: RulesSettings, duration: float) -> int:
    async def main() -> None:
        with anyio.move_on_after(duration if duration > 0 else None):
            await run_rules(dsn, settings)

    with contextlib.suppress(KeyboardInterrupt):
        anyio.run(main)
    return 0


def _status(conn: psycopg.Connection[tuple[object, ...]]) -> int:
    cursor = load_cursor(conn)
    if cursor is None:
        print("the rules engine has not run on this database")
        return 3
    status = {
        "origin": cursor.origin.astimezone(BEIJING).isoformat(),
        "watermark": cursor.watermark.astimezone(BEIJING).isoformat(),
        "late_frames": cursor.late_frames,
    }
    print(json.dumps(status))
    return 0


def _replay(
    conn: psycopg.Connection[tuple[object, ...]], args: argparse.Namespace, settings: RulesSettings
) -> int:
    if args.start is None or args.end is None:
        return err("rules replay needs --from and --to", 2)
    result = replay(conn, args.start, args.end, settings)
    where = result.snapshot.astimezone(BEIJING).isoformat() if result.snapshot else "empty state"
    summary = {
        "from": result.start.astimezone(BEIJING).isoformat(),
        "to": result.end.astimezone(BEIJING).isoformat(),
        "started_from": where,
        "alarms": len(result.alarms),
        "clears": len(result.clears),
        "stored": result.stored,
        "missing": len(result.missing),
        "extra": len(result.extra),
        "matches": result.matches,
    }
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        print(
            f"replayed {summary['from']} .. {summary['to']} from {where}: {len(result.alarms)} "
            f"alarms and {len(result.clears)} clears recomputed, {result.stored} stored live"
        )
        for item in result.missing:
            print(f"MISSING (raised live, not recomputed): {item}")
        for item in result.extra:
            print(f"EXTRA (recomputed, not raised live): {item}")
        print("MATCH" if result.matches else "DIFFERENT")
    return 0 if result.matches else 1


# -- report ----------------------------------------------------------------------------
def report_command(args: argparse.Namespace) -> int:
    dsn = resolve_dsn(args.settings)
    if dsn is None:
        return err("no database configured and no embedded cluster: run `hj212 db up`")
    text = args.period or getattr(args, "quarter", None)
    if text is None:
        return err(f"report {args.kind} needs --period (or --quarter)", 2)
    try:
        period = parse(text)
        settings = args.settings.rules
        with psycopg.connect(dsn) as conn:
            build = transmission.build if args.kind == "transmission" else emissions.build
            report = build(conn, period, settings.ruleset, args.region, now=datetime.now(UTC))
            # A report is a download of a region's figures (docs/regulations.md §12,
            # seed 002 Art. 21).
            detail = {"period": period.label, "region": args.region or "", "format": args.format,
                      "output": str(args.output) if args.output else "-"}  # fmt: skip
            audit.append(conn, who_am_i(), "download", f"report:{args.kind}", detail)
    except PeriodError as exc:
        return err(str(exc), 2)
    except psycopg.Error as exc:
        return err(str(exc))
    if args.format == "xlsx":
        target = args.output or Path(f"{args.kind}-{period.label}.xlsx")
        render.to_xlsx(report, target)
        print(f"wrote {target}", file=sys.stderr)
        return 0
    content = render.to_csv(report) if args.format == "csv" else render.to_html(report)
    if args.output is None:
        sys.stdout.write(content)
    else:
        args.output.write_text(content, "utf-8")
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


# -- alarms ----------------------------------------------------------------------------
def alarms_command(args: argparse.Namespace) -> int:
    dsn = resolve_dsn(args.settings)
    if dsn is None:
        return err("no database configured and no embedded cluster: run `hj212 db up`")
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            if args.action == "list":
                return _list(conn, args)
            if args.id is None:
                return err(f"alarms {args.action} needs an alarm ID", 2)
            row = alarm_store.act(conn, args.id, args.action, args.by, args.note)
    except (LookupError, LifecycleError) as exc:
        return err(str(exc))
    except psycopg.Error as exc:
        return err(str(exc))
    print(f"alarm {row.id} is {row.state}")
    return 0


def _list(conn: psycopg.Connection[tuple[object, ...]], args: argparse.Namespace) -> int:
    rows = alarm_store.list_alarms(
        conn, state=args.state, mn=args.mn, kind=args.kind, region=args.region, limit=args.limit
    )
    query = {"state": args.state, "kind": args.kind, "region": args.region, "count": len(rows)}
    audit.append(conn, who_am_i(), "read", "alarms", query, mn=args.mn)
    if args.format != "json":
        print(
            f"{'id':>6} {'state':<12} {'severity':<8} {'kind':<20} {'mn':<24} {'factor':<8} "
            f"raised ({TIME_LABEL} / {TIME_LABEL_EN}) status"
        )
    for a in rows:
        record = {
            "id": a.id,
            "state": a.state,
            "severity": a.severity,
            "kind": a.kind,
            "mn": a.mn,
            "pollutant": a.pollutant,
            "raised_at": machine(a.raised_at),
            "cleared_at": machine(a.cleared_at) if a.cleared_at else None,
            "value": a.value,
            "threshold": a.threshold,
            "key": a.key,
        }
        if args.format == "json":
            print(json.dumps(record, ensure_ascii=False))
        else:
            cleared = "cleared" if a.cleared_at else "active"
            print(
                f"{a.id:>6} {a.state:<12} {a.severity:<8} {a.kind:<20} {a.mn:<24} "
                f"{a.pollutant or '-':<8} {shown(a.raised_at)} {cleared}"
            )
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--dsn", help="use this database instead of the embedded cluster")
        # also accepted after the command; SUPPRESS keeps the global one when absent
        p.add_argument(
            "--rules-config", type=Path, default=argparse.SUPPRESS, help="rules TOML (./rules.toml)"
        )

    rules = sub.add_parser("rules", help="the rules engine: run it, replay history, status")
    rules.add_argument("action", choices=["run", "replay", "status"])
    rules.add_argument("--from", dest="start", type=moment, help="replay: ISO time (Beijing)")
    rules.add_argument("--to", dest="end", type=moment, help="replay: ISO time (Beijing)")
    rules.add_argument("--json", action="store_true", help="replay: one JSON summary line")
    rules.add_argument("--duration", type=float, default=0.0, help="run: seconds; 0 = forever")
    common(rules)
    rules.set_defaults(func=rules_command)

    report = sub.add_parser("report", help="transmission-rate and emission reports")
    report.add_argument("kind", choices=["transmission", "emissions"])
    report.add_argument("--period", help="2026-10-03 (day), 2026-10 (month) or 2026Q3")
    report.add_argument("--quarter", help="emissions: 2026Q3 (same as --period)")
    report.add_argument("--region", help="a region-code prefix (42 = Hubei, 4201 = Wuhan)")
    report.add_argument("--format", choices=["csv", "xlsx", "html"], default="csv")
    report.add_argument("--output", type=Path, help="file (xlsx: default KIND-PERIOD.xlsx)")
    common(report)
    report.set_defaults(func=report_command)

    alarms = sub.add_parser("alarms", help="list alarms; acknowledge, resolve or close one")
    alarms.add_argument("action", choices=["list", "ack", "resolve", "close"])
    alarms.add_argument("id", nargs="?", type=int, help="the alarm (ack/resolve/close)")
    alarms.add_argument("--by", default=getpass.getuser(), help="who (default: you)")
    alarms.add_argument("--note", default="", help="why, what was done")
    alarms.add_argument("--state", choices=["open", "acknowledged", "resolved", "closed"])
    alarms.add_argument("--mn")
    alarms.add_argument("--kind")
    alarms.add_argument("--region", help="a region-code prefix")
    alarms.add_argument("--limit", type=int, default=200)
    alarms.add_argument("--format", choices=["table", "json"], default="table")
    alarms.add_argument("--dsn", help="use this database instead of the embedded cluster")
    alarms.set_defaults(func=alarms_command)
