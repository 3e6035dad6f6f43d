"""``hj212 enterprises add|rename|show|list|link``: the enterprise register (docs/quarterly.md
§1). The credit code is checked (GB 32100-2015, rules/credit_code.py) before anything is
written; every change is one transaction with its audit entry. Output is JSON lines."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from datetime import UTC, datetime

import psycopg

from cli.audit_commands import who_am_i
from cli.common import err, resolve_dsn
from cli.output import json_default
from rules.credit_code import CreditCodeError, validate
from storage import audit, enterprises
from storage.db import Conn
from storage.enterprises import EnterpriseError


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    en = sub.add_parser("enterprises", help="the enterprise register: codes, names, stations")
    esub = en.add_subparsers(dest="action", required=True)
    add = esub.add_parser("add", help="register an enterprise")
    add.add_argument("name")
    add.add_argument("--credit-code", help="unified social credit code (18 characters)")
    add.add_argument("--region", help="its GB/T 2260 region code (6 digits)")
    rename = esub.add_parser("rename", help="a new name from now on; the old one kept")
    rename.add_argument("enterprise", help="id, credit code or a name it has or had")
    rename.add_argument("name")
    rename.add_argument("--reason", required=True)
    setp = esub.add_parser("set", help="set the credit code or region")
    setp.add_argument("enterprise")
    setp.add_argument("--credit-code")
    setp.add_argument("--region")
    show = esub.add_parser("show", help="one enterprise with its names and stations")
    show.add_argument("enterprise")
    lst = esub.add_parser("list", help="enterprises of a region prefix")
    lst.add_argument("--region", default="")
    link = esub.add_parser("link", help="move a station to an enterprise")
    link.add_argument("enterprise")
    link.add_argument("--mn", required=True)
    en.set_defaults(func=run)


def _code(text: str | None) -> str | None:
    return validate(text) if text else None


def _region(text: str | None) -> str | None:
    if text is not None and not (len(text) == 6 and text.isdigit()):
        raise EnterpriseError(f"region {text!r} is not a 6-digit GB/T 2260 code")
    return text


def run(args: argparse.Namespace) -> int:
    dsn = resolve_dsn(args.settings)
    if dsn is None:
        return err("no database: run `hj212 db up` first or set HJ212_DSN", 2)
    now, who = datetime.now(UTC), who_am_i()
    try:
        with psycopg.connect(dsn, autocommit=True) as conn, conn.transaction():
            return _step(conn, args, who, now)
    except (CreditCodeError, EnterpriseError) as exc:
        return err(str(exc))


def _found(conn: Conn, key: str) -> enterprises.Enterprise:
    found = enterprises.find(conn, key)
    if found is None:
        raise EnterpriseError(f"no enterprise {key!r}")
    return found


def _print(value: object) -> None:
    print(json.dumps(value, ensure_ascii=False, default=json_default))


def _step(conn: Conn, args: argparse.Namespace, who: str, now: datetime) -> int:
    if args.action == "add":
        ent = enterprises.add(
            conn, args.name, _code(args.credit_code), _region(args.region), who, now
        )
        detail = {"name": ent.name, "credit_code": ent.credit_code, "region_code": ent.region_code}
        audit.append(conn, who, "enterprise-add", f"enterprise:{ent.id}", detail)
        _print(asdict(ent))
    elif args.action == "rename":
        ent = _found(conn, args.enterprise)
        enterprises.rename(conn, ent.id, args.name, who, args.reason, now)
        audit.append(conn, who, "enterprise-rename", f"enterprise:{ent.id}",
                     {"old": ent.name, "new": args.name, "reason": args.reason})  # fmt: skip
        _print({"id": ent.id, "name": args.name, "was": ent.name})
    elif args.action == "set":
        ent = _found(conn, args.enterprise)
        code, region = _code(args.credit_code), _region(args.region)
        enterprises.set_identity(conn, ent.id, code, region)
        audit.append(conn, who, "enterprise-set", f"enterprise:{ent.id}",
                     {"credit_code": code, "region_code": region})  # fmt: skip
        _print(asdict(_found(conn, str(ent.id))))
    elif args.action == "show":
        ent = _found(conn, args.enterprise)
        names = [asdict(n) for n in enterprises.names(conn, ent.id)]
        outlets = [dict(zip(("mn", "name", "outlet", "region_code"), s, strict=True))
                   for s in enterprises.stations_of(conn, ent.id)]  # fmt: skip
        _print({**asdict(ent), "names": names, "stations": outlets})
    elif args.action == "list":
        for ent in enterprises.listed(conn, args.region):
            _print(asdict(ent))
    else:  # link
        ent = _found(conn, args.enterprise)
        if not enterprises.link_station(conn, args.mn, ent.id):
            raise EnterpriseError(f"no station {args.mn}")
        audit.append(
            conn, who, "enterprise-link", f"enterprise:{ent.id}", {"mn": args.mn}, mn=args.mn
        )
        _print({"id": ent.id, "mn": args.mn})
    return 0
