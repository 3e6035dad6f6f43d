"""``hj212 corrections propose|substitute|review|list|show``: corrections and substitutions
of hourly values (docs/corrections.md) from the command line, checked by the same
functions as the console (services/corrections.py), each with its audit entry. Output
is JSON lines; a refused proposal prints every error and exits 1, nothing stored."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from cli.audit_commands import who_am_i
from cli.cases_commands import uploads
from cli.common import err, moment, resolve_dsn
from cli.output import json_default
from rules.corrections import RULES
from services import corrections as service
from services.case_forms import FormError
from storage import audit
from storage import corrections as store
from storage.db import Conn


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    co = sub.add_parser("corrections", help="corrections and substitutions of hourly values")
    csub = co.add_subparsers(dest="action", required=True)
    propose = csub.add_parser("propose", help="propose the right value of a wrong hour")
    propose.add_argument("--value", type=float, required=True, help="the corrected value")
    subst = csub.add_parser("substitute", help="fill a missing or invalid hour by a rule")
    subst.add_argument("--rule", choices=sorted(RULES), required=True)
    for p in (propose, subst):
        p.add_argument("--mn", required=True)
        p.add_argument("--pollutant", required=True)
        p.add_argument("--at", dest="data_time", type=moment, required=True,
                       help="the hour's start (ISO; Beijing time without an offset)")  # fmt: skip
        p.add_argument("--reason", required=True)
        p.add_argument("--attach", type=Path, action="append", default=[], metavar="FILE")
    review = csub.add_parser("review", help="approve, return or reject a proposal")
    review.add_argument("id", type=int)
    outcome = review.add_mutually_exclusive_group(required=True)
    for flag, name in (
        ("--approve", "approved"),
        ("--return", "returned"),
        ("--reject", "rejected"),
    ):
        outcome.add_argument(flag, dest="outcome", action="store_const", const=name)
    review.add_argument("--note", default="")
    lst = csub.add_parser("list", help="proposals, newest first")
    lst.add_argument("--mn")
    lst.add_argument("--state", choices=["pending", *store.OUTCOMES])
    lst.add_argument("--limit", type=int, default=200)
    show = csub.add_parser("show", help="one proposal with its vouchers")
    show.add_argument("id", type=int)
    for p in (propose, subst, review):
        p.add_argument("--by", help="who acts (default $USER)")
    for p in (propose, subst, review, lst, show):
        p.add_argument("--dsn", help="use this database instead of the embedded cluster")
    co.set_defaults(func=corrections_command)


def corrections_command(args: argparse.Namespace) -> int:
    dsn = getattr(args, "dsn", None) or resolve_dsn(args.settings)
    if dsn is None:
        return err("no database configured and no embedded cluster: run `hj212 db up`")
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            return _run(conn, args, datetime.now(UTC))
    except FormError as exc:
        return max(err(line) for line in exc.errors)
    except OSError as exc:
        return err(f"cannot read an attachment: {exc}")
    except psycopg.Error as exc:
        return err(str(exc))


def _print(item: object) -> None:
    print(json.dumps(item, default=json_default, ensure_ascii=False))


def _run(conn: Conn, args: argparse.Namespace, now: datetime) -> int:
    who = getattr(args, "by", None) or who_am_i()
    ruleset = args.settings.rules.ruleset
    if args.action in ("propose", "substitute"):
        correcting = args.action == "propose"
        form = service.CorrectionForm(
            args.mn, args.pollutant, args.data_time,
            "correction" if correcting else "substitution", args.reason,
            args.value if correcting else None, None if correcting else args.rule,
            attachments=uploads(args.attach),
        )  # fmt: skip
        ident = service.propose(conn, form, who, now, ruleset)
        _print(asdict(_get(conn, ident)))
    elif args.action == "review":
        _print(asdict(service.review(conn, args.id, args.outcome, who, args.note, now)))
    elif args.action == "show":
        _print(asdict(_get(conn, args.id)))
        audit.append(conn, who_am_i(), "read", f"correction:{args.id}", {})
    else:
        mns = [args.mn] if args.mn else None
        for row in store.list_rows(conn, mns=mns, state=args.state, limit=args.limit):
            _print(asdict(row))
        audit.append(conn, who_am_i(), "read", "correction", {"mn": args.mn, "state": args.state})
    return 0


def _get(conn: Conn, ident: int) -> store.CorrectionRow:
    found = store.get(conn, ident)
    if found is None:
        raise FormError([f"no correction {ident}"])
    return found
