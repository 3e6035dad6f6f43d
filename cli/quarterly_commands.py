"""``hj212 quarterly ...``: the quarterly direct report from the command line (docs/quarterly.md
§6), as the console user ``--by`` (its role, region and enterprise decide what it may
see and do, as in the console). Every step goes through services/quarterly.py, in one
transaction with its audit entry; a refused step prints why and exits 1, nothing stored.
Output is JSON lines."""

from __future__ import annotations

import argparse
import json
import mimetypes
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from cli.common import err, moment, resolve_dsn
from cli.output import json_default
from config.calendar import CalendarError, load
from reports import quarterly as table
from reports import render
from rules.quarterly_calendar import Quarter, QuarterError, quarter_of
from services import quarterly as flow
from services import quarterly_deadlines as due
from services.quarterly import Actor, QuarterlyError
from storage import console_store, enterprises, quarterly
from storage.db import Conn
from storage.quarterly import Submission

OUTCOMES = {"return": "returned", "forward": "forwarded", "approve": "approved"}


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    qp = sub.add_parser("quarterly", help="quarterly direct report: fill, submit, review")
    qp.add_argument("--calendar", type=Path, help="calendar TOML (default $HJ212_CALENDAR)")
    qs = qp.add_subparsers(dest="action", required=True)

    def by(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--by", required=True, help="the console user acting")
        return p

    pre = by(qs.add_parser("prefill", help="the enterprise's submission, pre-filled"))
    pre.add_argument("--enterprise", required=True)
    pre.add_argument("--quarter", type=Quarter.parse, required=True)
    for name in ("show", "submit", "verify"):
        p = by(qs.add_parser(name, help=f"{name} a submission"))
        p.add_argument("id", type=int)
    qs.choices["show"].add_argument("--version", type=int, help="a frozen version")
    qs.choices["submit"].add_argument("--note", default="")
    cor = by(qs.add_parser("correct", help="correct one line with a reason"))
    cor.add_argument("id", type=int)
    cor.add_argument("--line", required=True, help="MN/YYYY-MM/ITEM")
    cor.add_argument("--amount", type=float, required=True)
    cor.add_argument("--reason", default="")
    cor.add_argument("--attach", type=Path, help="a voucher (PDF, image, text)")
    rev = by(qs.add_parser("review", help="return, forward (city) or approve (province)"))
    rev.add_argument("id", type=int)
    rev.add_argument("outcome", choices=list(OUTCOMES))
    rev.add_argument("--comment", default="")
    dif = by(qs.add_parser("diff", help="the cells changed between two versions"))
    dif.add_argument("id", type=int)
    dif.add_argument("old", type=int)
    dif.add_argument("new", type=int)
    exp = by(qs.add_parser("export", help="a version as the seed's table"))
    exp.add_argument("id", type=int)
    exp.add_argument("--version", type=int, help="default: the last submitted")
    exp.add_argument("--format", choices=["csv", "xlsx", "pdf"], required=True)
    exp.add_argument("-o", "--output", type=Path, required=True)
    for name, text in (
        ("overdue", "who is late, by level"),
        ("status", "every enterprise's state"),
    ):
        p = qs.add_parser(name, help=text)
        p.add_argument("--quarter", type=Quarter.parse)
        p.add_argument("--region", default="", help="region-code prefix")
        p.add_argument("--at", type=moment, help="as of this time (default now)")
    rem = qs.add_parser("remind", help="raise the reminders and overdue alarms due now")
    rem.add_argument("--quarter", type=Quarter.parse)
    rem.add_argument(
        "--every", type=float, help="seconds: keep running, one step each (Ctrl-C stops)"
    )
    qp.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    dsn = resolve_dsn(args.settings)
    if dsn is None:
        return err("no database: run `hj212 db up` first or set HJ212_DSN", 2)
    try:
        calendars = load(args.calendar)
        with psycopg.connect(dsn, autocommit=True) as conn:
            return _step(conn, args, calendars)
    except (QuarterlyError, CalendarError, QuarterError, OSError) as exc:
        for line in getattr(exc, "errors", [str(exc)]):
            err(line)
        return 1


def _actor(conn: Conn, name: str) -> Actor:
    user = console_store.user(conn, name)
    if user is None:
        raise QuarterlyError(403, f"no active console user {name!r}")
    return flow.actor_of(conn, user.name, user.role, user.region_prefix)


def _print(value: object) -> None:
    print(json.dumps(value, ensure_ascii=False, default=json_default), flush=True)


def _summary(sub: Submission) -> dict[str, Any]:
    return {"id": sub.id, "enterprise_id": sub.enterprise_id, "enterprise": sub.enterprise,
            "quarter": sub.quarter, "region_code": sub.region_code, "state": sub.state,
            "version": sub.version, "lines": len(sub.draft)}  # fmt: skip


def _step(conn: Conn, args: argparse.Namespace, calendars: Any) -> int:
    now = datetime.now(UTC)
    if args.action in ("overdue", "status", "remind"):
        return _deadlines(conn, args, calendars, now)
    actor = _actor(conn, args.by)
    if args.action == "prefill":
        ent = enterprises.find(conn, args.enterprise)
        if ent is None:
            raise QuarterlyError(404, f"no enterprise {args.enterprise!r}")
        sub = flow.prefill(
            conn, actor, ent.id, args.quarter, now=now, ruleset=args.settings.rules.ruleset
        )
        _print(_summary(sub))
    elif args.action == "show":
        sub = flow.visible(conn, actor, args.id)
        lines = (
            flow.version_lines(conn, actor, args.id, args.version) if args.version else sub.draft
        )
        _print({**_summary(sub), "lines": lines,
                "reviews": [vars(r) for r in quarterly.reviews(conn, args.id)]})  # fmt: skip
    elif args.action == "correct":
        return _correct(conn, actor, args, now)
    elif args.action == "submit":
        v = flow.submit(conn, actor, args.id, now, calendars, args.note)
        _print({"id": args.id, "version": v.version, "sha256": v.sha256.hex(), "late": v.late})
    elif args.action == "review":
        sub = flow.review(conn, actor, args.id, OUTCOMES[args.outcome], args.comment, now)
        _print(_summary(sub))
    elif args.action == "verify":
        results = flow.verify(conn, actor, args.id)
        for version, ok in results:
            _print({"id": args.id, "version": version, "ok": ok})
        return 0 if all(ok for _, ok in results) else 1
    elif args.action == "diff":
        for change in flow.diff(conn, actor, args.id, args.old, args.new):
            _print(change)
    else:
        return _export(conn, actor, args)
    return 0


def _correct(conn: Conn, actor: Actor, args: argparse.Namespace, now: datetime) -> int:
    parts = args.line.split("/")
    if len(parts) != 3:
        raise QuarterlyError(422, f"--line {args.line!r} is not MN/YYYY-MM/ITEM")
    change: dict[str, Any] = dict(zip(("mn", "month", "item"), parts, strict=True))
    change.update(amount=args.amount, reason=args.reason)
    uploads: tuple[tuple[str, str, bytes], ...] = ()
    if args.attach:
        kind = mimetypes.guess_type(args.attach.name)[0] or "application/octet-stream"
        uploads = ((args.attach.name, kind, args.attach.read_bytes()),)
        change["attachment"] = "upload:1"
    sub = flow.correct(conn, actor, args.id, [change], now, uploads)
    _print(_summary(sub))
    return 0


def _export(conn: Conn, actor: Actor, args: argparse.Namespace) -> int:
    rep = table.build(conn, actor, args.id, args.version)
    if args.format == "csv":
        args.output.write_text(render.to_csv(rep), encoding="utf-8")
    elif args.format == "xlsx":
        render.to_xlsx(rep, args.output)
    else:
        args.output.write_bytes(table.to_pdf(rep))
    _print({"id": args.id, "version": args.version, "output": str(args.output)})
    return 0


def _remind(conn: Conn, args: argparse.Namespace, calendars: Any) -> int:
    """One step, or with ``--every`` one step each interval until interrupted: the
    quarter being reported is the one before the clock's (docs/quarterly.md §3)."""
    while True:
        now, hooks = datetime.now(UTC), args.settings.rules.webhooks
        if args.quarter:
            raised = due.remind(conn, args.quarter, now, calendars, hooks)
        else:
            raised = due.remind_now(conn, now, calendars, hooks)
        for alarm in raised:
            _print({"key": alarm.key, "kind": alarm.kind, "mn": alarm.mn, **alarm.detail})
        if not args.every:
            return 0
        try:
            time.sleep(args.every)
        except KeyboardInterrupt:
            return 0


def _deadlines(conn: Conn, args: argparse.Namespace, calendars: Any, now: datetime) -> int:
    at = getattr(args, "at", None) or now
    quarter = args.quarter or quarter_of(at).previous()
    if args.action == "remind":
        return _remind(conn, args, calendars)
    found = (due.overdue if args.action == "overdue" else due.status)(
        conn, quarter, args.region, at, calendars
    )
    for d in found:
        _print({"quarter": quarter.label, "enterprise_id": d.enterprise_id, "enterprise": d.enterprise,
                "region_code": d.region_code, "submission": d.submission_id, "state": d.state,
                "deadlines": d.deadlines, "late": list(d.late)})  # fmt: skip
    return 0
