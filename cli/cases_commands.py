"""``hj212 cases list|show|report|notice|review|sample|sample-review``: the case forms of
the console (docs/regulations.md §6.5) from the command line, checked by the same form
functions (services/case_forms.py), each with its audit entry. Output is JSON lines;
a refused form prints every error and exits 1, nothing stored."""

from __future__ import annotations

import argparse
import json
import mimetypes
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from cli.audit_commands import who_am_i
from cli.common import err, moment, resolve_dsn
from cli.output import json_default
from services import case_forms as forms
from services import case_view
from storage import console_queries, incidents
from storage.db import Conn


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cs = sub.add_parser("cases", help="cases: reports, notices, manual samples, reviews")
    csub = cs.add_subparsers(dest="action", required=True)
    lst = csub.add_parser("list", help="cases with their deadlines, newest first")
    lst.add_argument("--mn")
    lst.add_argument("--state", choices=["open", "closed"])
    lst.add_argument("--limit", type=int, default=200)
    show = csub.add_parser("show", help="a case's reports, samples and what is due next")
    show.add_argument("id", type=int)
    report = csub.add_parser("report", help="file the written report or restoration notice")
    report.add_argument("id", type=int, help="the case")
    report.add_argument("--kind", choices=["written", "restoration"], default="written")
    report.add_argument("--cause", default="")
    report.add_argument("--started", type=moment, help="when the fault began (ISO time)")
    report.add_argument("--expected-restore", type=moment)
    report.add_argument("--measures", default="")
    report.add_argument("--corrects", type=int, help="the returned report this answers")
    notice = csub.add_parser("notice", help="announce a planned stop or maintenance")
    notice.add_argument("--mn", required=True)
    notice.add_argument("--kind", choices=list(forms.NOTICE_MARK), required=True)
    notice.add_argument("--from", dest="start", type=moment, required=True)
    notice.add_argument("--to", dest="end", type=moment, required=True)
    notice.add_argument("--cause", required=True)
    notice.add_argument("--plan", default="", help="the manual-monitoring plan")
    review = csub.add_parser("review", help="acknowledge a report or return it with a note")
    review.add_argument("id", type=int, help="the report")
    decision = review.add_mutually_exclusive_group(required=True)
    decision.add_argument("--acknowledge", action="store_true")
    decision.add_argument("--return", dest="returned", action="store_true")
    review.add_argument("--note", default="")
    sample = csub.add_parser("sample", help="enter a manual monitoring result on a case")
    sample.add_argument("id", type=int, help="the case")
    sample.add_argument("--pollutant", required=True)
    sample.add_argument("--at", dest="sampled_at", type=moment, required=True)
    sample.add_argument("--value", type=float, required=True)
    sample.add_argument("--unit", required=True)
    sample.add_argument("--method", required=True)
    sample.add_argument("--lab", required=True)
    judged = csub.add_parser("sample-review", help="accept or reject a manual sample")
    judged.add_argument("id", type=int, help="the sample")
    verdict = judged.add_mutually_exclusive_group(required=True)
    verdict.add_argument("--accept", action="store_true")
    verdict.add_argument("--reject", action="store_true")
    judged.add_argument("--note", default="")
    for p in (report, notice, sample):
        p.add_argument("--attach", type=Path, action="append", default=[], metavar="FILE")
    for p in (report, notice, review, sample, judged):
        p.add_argument("--by", help="who files it (default $USER)")
    for p in (lst, show, report, notice, review, sample, judged):
        p.add_argument("--dsn", help="use this database instead of the embedded cluster")
    cs.set_defaults(func=cases_command)


def uploads(paths: list[Path]) -> tuple[forms.Upload, ...]:
    """Files as attachments, typed by their names (the form checks the bytes)."""
    out = []
    for path in paths:
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        out.append(forms.Upload(path.name, kind, path.read_bytes()))
    return tuple(out)


def _print(item: object) -> None:
    print(json.dumps(item, default=json_default, ensure_ascii=False))


def cases_command(args: argparse.Namespace) -> int:
    dsn = getattr(args, "dsn", None) or resolve_dsn(args.settings)
    if dsn is None:
        return err("no database configured and no embedded cluster: run `hj212 db up`")
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            return _run(conn, args, datetime.now(UTC))
    except forms.FormError as exc:
        return max(err(line) for line in exc.errors)
    except OSError as exc:
        return err(f"cannot read an attachment: {exc}")
    except psycopg.Error as exc:
        return err(str(exc))


def _run(conn: Conn, args: argparse.Namespace, now: datetime) -> int:
    who = getattr(args, "by", None) or who_am_i()
    action = args.action
    if action == "list":
        for row in console_queries.cases(conn, "", None, args.mn, args.state, args.limit):
            _print(asdict(row))
    elif action == "show":
        case = incidents.case(conn, args.id)
        if case is None:
            return err(f"no case {args.id}")
        _print(case_view.overview(conn, case, args.settings.rules.ruleset, now))
    elif action == "report":
        form = forms.ReportForm(
            args.id, args.kind, args.cause, args.started, args.expected_restore,
            args.measures, args.corrects, uploads(args.attach),
        )  # fmt: skip
        _print({"id": forms.file_report(conn, form, who, now), "state": "filed"})
    elif action == "notice":
        notice = forms.NoticeForm(
            args.mn, args.kind, args.start, args.end, args.cause, args.plan,
            uploads(args.attach),
        )  # fmt: skip
        _print({"id": forms.file_notice(conn, notice, who, now), "state": "filed"})
    elif action == "review":
        ident = forms.review_report(
            conn, args.id, acknowledge=args.acknowledge, note=args.note, who=who, at=now
        )
        _print({"id": ident, "report": args.id, "returned": args.returned})
    elif action == "sample":
        sample = forms.SampleForm(
            args.id, args.pollutant, args.sampled_at, args.value, args.unit, args.method,
            args.lab, uploads(args.attach),
        )  # fmt: skip
        _print({"id": forms.file_sample(conn, sample, who, now), "state": "pending"})
    else:
        forms.review_sample(conn, args.id, accept=args.accept, note=args.note, who=who, at=now)
        _print({"id": args.id, "state": "accepted" if args.accept else "rejected"})
    return 0
