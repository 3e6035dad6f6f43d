"""``hj212 users``: console users and their API tokens, from the command line.

The command line acts with the database's rights (whoever holds the DSN runs the
platform), so there is no jurisdiction to check; every step is audited as the local
user (``local:USER@HOST``, cli/main.py). The console and the API do the same steps for
administrators, inside their regions (console/api_users.py).
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import secrets
import sys
from collections.abc import Callable

import psycopg

from cli.audit_commands import who_am_i
from cli.output import json_default
from console.auth import hash_password
from storage import api_tokens, audit, console_store, sign_in
from storage.console_store import ROLES
from storage.db import Conn


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    users = sub.add_parser("users", help="console users: add, set, password, tokens ...")
    usub = users.add_subparsers(dest="action", required=True)
    add = usub.add_parser("add", help="create a user (refused if the name exists)")
    change = usub.add_parser("set", help="change a user's role, region or real-name fields")
    for p, default in ((add, "operator"), (change, None)):
        p.add_argument("name")
        p.add_argument("--role", choices=ROLES, default=default)
        p.add_argument("--region", help="region-code prefix, e.g. 4201 (Wuhan); '' = all")
        p.add_argument("--enterprise", help="the enterprise user's enterprise")
        p.add_argument("--full-name", help="real name (实名)")
        p.add_argument("--unit", help="the user's unit (单位)")
        p.add_argument("--phone")
    password = usub.add_parser(
        "password", help="reset a password (asked twice, or $HJ212_PASSWORD)"
    )
    password.add_argument("name")
    password.add_argument("--keep-tokens", action="store_true", help="do not revoke its tokens")
    for step in ("deactivate", "reactivate"):
        p = usub.add_parser(step, help=f"{step} a user (its sessions end)")
        p.add_argument("name")
        p.add_argument("--reason", default="")
    unblock = usub.add_parser("unblock", help="forget a user's failed sign-ins")
    unblock.add_argument("name")
    usub.add_parser("list", help="users as JSON lines").add_argument("--region", default="")
    token = usub.add_parser("token", help="make an API token (printed once)")
    token.add_argument("name")
    token.add_argument("--label", default="", help="what the token is for")
    token.add_argument("--days", type=int, default=api_tokens.DEFAULT_DAYS, help="lifetime")
    usub.add_parser("tokens", help="a user's tokens as JSON lines").add_argument("name")
    usub.add_parser("revoke", help="revoke a token by its id").add_argument("id", type=int)
    for p in usub.choices.values():
        p.add_argument("--dsn", help="database DSN (default: the embedded cluster)")
    users.set_defaults(func=users_command)


def _fail(message: str, code: int = 1) -> int:
    print(f"hj212 users: {message}", file=sys.stderr)
    return code


def _password() -> str:
    """From $HJ212_PASSWORD (scripts), else asked twice on the terminal."""
    if os.environ.get("HJ212_PASSWORD"):
        return os.environ["HJ212_PASSWORD"]
    first = getpass.getpass("password (10 characters or more): ")
    if getpass.getpass("again: ") != first:
        raise ValueError("the passwords differ")
    return first


def _new_password() -> str:
    password = _password()
    if len(password) < 10:
        raise ValueError("use 10 characters or more")
    return password


def _show(user: console_store.User) -> str:
    shown = {k: v for k, v in user.__dict__.items() if k != "session_epoch"}
    return json.dumps(shown, default=json_default, ensure_ascii=False)


def users_command(args: argparse.Namespace) -> int:
    from cli.console_commands import args_dsn

    dsn = args_dsn(args)
    if dsn is None:
        return 1
    try:
        with psycopg.connect(dsn) as conn:
            return STEPS[args.action](conn, args)
    except ValueError as exc:
        return _fail(str(exc), 2)
    except psycopg.Error as exc:
        return _fail(str(exc))


def _add(conn: Conn, args: argparse.Namespace) -> int:
    enterprise = args.enterprise or ""
    if args.role == "enterprise" and not enterprise:
        return _fail("--role enterprise needs --enterprise", 2)
    password = _new_password()
    try:
        user = console_store.add_user(
            conn, args.name, hash_password(password), args.role, args.region or "",
            enterprise, by=who_am_i(), full_name=args.full_name or "",
            unit=args.unit or "", phone=args.phone or "",
        )  # fmt: skip
    except console_store.UserExists:
        return _fail(
            f"user {args.name} exists: `hj212 users set` changes it,"
            " `hj212 users password` resets its password"
        )
    print(f"user {user.name}: {user.role}, region '{user.region_prefix}'")
    return 0


def _set(conn: Conn, args: argparse.Namespace) -> int:
    fields = {"role": args.role, "region_prefix": args.region, "enterprise": args.enterprise,
              "full_name": args.full_name, "unit": args.unit, "phone": args.phone}  # fmt: skip
    changes = {k: v for k, v in fields.items() if v is not None}
    found = console_store.any_user(conn, args.name)
    if found is None:
        return _fail(f"no user {args.name}")
    role = changes.get("role", found.role)
    if role == "enterprise" and not changes.get("enterprise", found.enterprise):
        return _fail("an enterprise user needs --enterprise", 2)
    if role != "enterprise":
        changes["enterprise"] = ""
    result = console_store.change_user(conn, args.name, changes, by=who_am_i())
    assert result is not None
    print(_show(result[1]))
    return 0


def _reset(conn: Conn, args: argparse.Namespace) -> int:
    password = _new_password()
    if console_store.set_password(conn, args.name, hash_password(password), by=who_am_i()) < 0:
        return _fail(f"no user {args.name}")
    revoked = [] if args.keep_tokens else api_tokens.revoke_all(
        conn, args.name, by=who_am_i(), why="password reset"
    )  # fmt: skip
    print(f"user {args.name}: password replaced, sessions ended, {len(revoked)} token(s) revoked")
    return 0


def _active(conn: Conn, args: argparse.Namespace) -> int:
    if console_store.any_user(conn, args.name) is None:
        return _fail(f"no user {args.name}")
    detail = {"name": args.name, "reason": args.reason}
    audit.append(conn, who_am_i(), args.action, "console_user", detail)
    user = console_store.set_active(conn, args.name, args.action == "reactivate", by=who_am_i())
    assert user is not None
    print(f"user {user.name}: {'active' if user.active else 'deactivated'}, sessions ended")
    return 0


def _unblock(conn: Conn, args: argparse.Namespace) -> int:
    cleared = sign_in.clear(conn, args.name)
    audit.append(
        conn, who_am_i(), "unblock", "console_user", {"name": args.name, "sources": cleared}
    )
    print(f"user {args.name}: failed sign-ins from {cleared} source(s) forgotten")
    return 0


def _list(conn: Conn, args: argparse.Namespace) -> int:
    for u in console_store.users(conn, args.region):
        print(_show(u))
    audit.append(conn, who_am_i(), "read", "console_user", {"region": args.region})
    return 0


def _token(conn: Conn, args: argparse.Namespace) -> int:
    found = console_store.user(conn, args.name)
    if found is None:
        return _fail(f"no active user {args.name}")
    token = "hj212_" + secrets.token_urlsafe(32)
    made = api_tokens.add(conn, args.name, token, args.label, days=args.days, by=who_am_i())
    print(token)  # shown once: only its SHA-256 is stored
    print(f"token {made.id} of {args.name}, expires {made.expires_at.isoformat()}", file=sys.stderr)
    return 0


def _tokens(conn: Conn, args: argparse.Namespace) -> int:
    for t in api_tokens.tokens(conn, args.name):
        print(json.dumps(t.__dict__, default=json_default, ensure_ascii=False))
    audit.append(conn, who_am_i(), "read", "api_token", {"name": args.name})
    return 0


def _revoke(conn: Conn, args: argparse.Namespace) -> int:
    found = api_tokens.revoke(conn, args.id, by=who_am_i())
    if found is None:
        return _fail(f"no token {args.id}")
    print(f"token {found.id} of {found.user_name}: revoked {found.revoked_at}")
    return 0


STEPS: dict[str, Callable[[Conn, argparse.Namespace], int]] = {
    "add": _add, "set": _set, "password": _reset, "deactivate": _active,
    "reactivate": _active, "unblock": _unblock, "list": _list, "token": _token,
    "tokens": _tokens, "revoke": _revoke,
}  # fmt: skip
