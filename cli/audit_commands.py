"""``hj212 audit verify|list`` and ``hj212 marks add|review|list``."""

from __future__ import annotations

import argparse
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from cli.common import err, moment, resolve_dsn
from cli.output import json_default
from evidence import anchor
from services import corrections
from storage import audit, marks


def who_am_i() -> str:
    return os.environ.get("USER") or os.environ.get("LOGNAME") or "cli"


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    au = sub.add_parser("audit", help="the audit log: verify its hash chain, list entries")
    au.add_argument("action", choices=["verify", "list"])
    au.add_argument("--mn", help="list: only this station")
    au.add_argument("--what", dest="kind", help="list: only this action (export, mark ...)")
    au.add_argument("--from", dest="start", type=moment, help="list: ISO time")
    au.add_argument("--to", dest="end", type=moment, help="list: ISO time")
    au.add_argument("--limit", type=int, default=100)
    au.add_argument("--dsn", help="use this database instead of the embedded cluster")
    au.set_defaults(func=audit_command)

    mk = sub.add_parser("marks", help="data marks (标记): propose, review, list")
    msub = mk.add_subparsers(dest="action", required=True)
    add = msub.add_parser("add", help="propose a mark over a period of a station's data")
    add.add_argument("--mn", required=True)
    add.add_argument("--from", dest="start", type=moment, required=True)
    add.add_argument("--to", dest="end", type=moment, required=True)
    add.add_argument("--kind", choices=marks.KINDS, required=True)
    add.add_argument("--reason", required=True)
    add.add_argument("--pollutant", help="one factor only (default: all)")
    add.add_argument("--attach", type=Path, action="append", default=[], metavar="FILE")
    add.add_argument("--by", help="who proposes it (default $USER)")
    review = msub.add_parser("review", help="approve or reject a proposed mark")
    review.add_argument("id", type=int)
    decision = review.add_mutually_exclusive_group(required=True)
    decision.add_argument("--approve", action="store_true")
    decision.add_argument("--reject", action="store_true")
    review.add_argument("--by", required=True, help="the reviewing regulator")
    review.add_argument("--note", default="")
    lst = msub.add_parser("list", help="proposed marks, as JSON lines")
    lst.add_argument("--mn")
    lst.add_argument("--state", choices=["pending", "approved", "rejected"])
    for p in (add, review, lst):
        p.add_argument("--dsn", help="use this database instead of the embedded cluster")
    mk.set_defaults(func=marks_command)


def _resolve(args: argparse.Namespace) -> str | None:
    return getattr(args, "dsn", None) or resolve_dsn(args.settings)


def audit_command(args: argparse.Namespace) -> int:
    dsn = _resolve(args)
    if dsn is None:
        return err("no database configured and no embedded cluster: run `hj212 db up`")
    try:
        with psycopg.connect(dsn) as conn:
            if args.action == "list":
                found = audit.entries(
                    conn, mn=args.mn, action=args.kind, start=args.start, end=args.end,
                    limit=args.limit,
                )  # fmt: skip
                for entry in found:
                    print(audit.to_json(entry))
                query = {"mn": args.mn, "action": args.kind, "limit": args.limit}
                audit.append(conn, who_am_i(), "read", "audit_log", query, mn=args.mn)
                conn.commit()
                return 0
            signed = anchor.latest(conn)
            report = audit.verify(conn, signed.audit_checkpoints() if signed else None)
    except anchor.AnchorError as exc:
        print(f"BROKEN {exc}")
        return 1
    except psycopg.Error as exc:
        return err(str(exc))
    if report.first_bad is not None:
        print(f"BROKEN {report.first_bad}")
        print(f"FAILED: {report.entries} chained entries checked before the break")
        return 1
    days = args.settings.storage.retention_days_audit
    problems, notes = ([], []) if signed is None else anchor.audit_findings(signed, report, days)
    for problem in problems:
        print(f"BROKEN {problem}")
    for line in notes:
        print(f"NOTE {line}")
    note = "" if report.anchored_at_genesis else " (anchored after retention)"
    against = (
        f"compared with the signed anchor of {signed.at.isoformat()}"
        if signed
        else f"no signed anchor in {anchor.anchor_dir()} to compare with"
    )
    verdict = "FAILED" if problems else "OK"
    print(
        f"{verdict}: {report.entries} entries checked{note}; {report.unchained} before the"
        f" chain; {against}"
    )
    return 1 if problems else 0


def marks_command(args: argparse.Namespace) -> int:
    dsn = _resolve(args)
    if dsn is None:
        return err("no database configured and no embedded cluster: run `hj212 db up`")
    try:
        with psycopg.connect(dsn) as conn:
            if args.action == "add":
                ruleset = args.settings.rules.ruleset
                now = datetime.now(UTC)
                late = corrections.mark_window_refusal(conn, args.mn, args.start, now, ruleset)
                if late is not None:
                    return err(late)
                ident = marks.add(
                    conn, mn=args.mn, start=args.start, end=args.end, kind=args.kind,
                    reason=args.reason, who=args.by or who_am_i(), pollutant=args.pollutant,
                    attachments=tuple(args.attach),
                )  # fmt: skip
                print(json.dumps({"id": ident, "state": "pending"}))
            elif args.action == "review":
                mark_id = marks.review(
                    conn, args.id, approve=args.approve, who=args.by, note=args.note
                )
                state = "approved" if args.approve else "rejected"
                print(json.dumps({"id": args.id, "state": state, "data_mark": mark_id}))
            else:
                for req in marks.list_requests(conn, mn=args.mn, state=args.state):
                    print(json.dumps(_row(req), ensure_ascii=False, default=json_default))
                query = {"mn": args.mn, "state": args.state}
                audit.append(conn, who_am_i(), "read", "mark_request", query, mn=args.mn)
                conn.commit()
    except (marks.MarkError, OSError) as exc:
        return err(str(exc))
    except psycopg.Error as exc:
        return err(str(exc))
    return 0


def _row(req: marks.MarkRequest) -> dict[str, object]:
    row = dict(req.__dict__)
    row["attachments"] = [a.__dict__ for a in req.attachments]
    return row
