"""``hj212``: one command with subcommands for every part of the system."""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

from config import ConfigError, load
from config.settings import Settings


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {
        "database": {
            "dsn": getattr(args, "dsn", None),
            "home": getattr(args, "home", None),
            "port": getattr(args, "db_port", None),
        },
        "gateway": {"host": getattr(args, "host", None), "port": getattr(args, "port", None)},
    }
    rules_path = getattr(args, "rules_config", None)
    return load(args.config, overrides=overrides, rules_path=rules_path)


def _parser() -> argparse.ArgumentParser:
    from cli import (
        audit_commands,
        cases_commands,
        commands,
        console_commands,
        corrections_commands,
        decode,
        enterprise_commands,
        evidence_commands,
        frames_commands,
        gateway_commands,
        quarterly_commands,
        rules_commands,
        simulate,
        spool_commands,
        storage_commands,
        upstream_commands,
        users_commands,
    )
    from cli.common import moment

    parser = argparse.ArgumentParser(prog="hj212", description=__doc__)
    parser.add_argument("--config", type=Path, help="TOML settings file (default ./hj212.toml)")
    parser.add_argument(
        "--rules-config", type=Path, help="rules TOML (default $HJ212_RULES_CONFIG, ./rules.toml)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="the database: install, embedded cluster, migrations")
    db.add_argument(
        "action",
        choices=[
            "install",
            "up",
            "down",
            "status",
            "url",
            "migrate",
            "verify-chain",
            "retention",
            "anchor",
        ],
    )
    db.add_argument("--home", type=Path, help="embedded cluster home (default var/pg)")
    db.add_argument("--db-port", type=int, help="embedded cluster port (default: a free one)")
    db.add_argument("--dsn", help="use this database instead of the embedded cluster")
    db.add_argument("--mn", help="verify-chain: only this station's chain ('' = frames without MN)")
    db.add_argument("--from", dest="start", type=moment, help="verify-chain: ISO time")
    db.add_argument("--to", dest="end", type=moment, help="verify-chain: ISO time")
    db.set_defaults(func=storage_commands.db)

    gateway_commands.add_parsers(sub)

    simulate.add_parser(sub)

    demo = sub.add_parser("demo", help="everything locally: database, gateway, stations")
    demo.add_argument("--stations", type=int, default=6)
    demo.add_argument("--interval", type=float, default=2.0)
    demo.add_argument("--duration", type=float, default=0.0, help="seconds; 0 = until Ctrl-C")
    demo.add_argument("--port", type=int, help="gateway port (default 9212, or a free one)")
    demo.add_argument("--home", type=Path, help="embedded cluster home (default var/pg)")
    demo.add_argument(
        "--history-days", type=int, default=14, help="days of history to start with (0: none)"
    )
    demo.set_defaults(func=commands.demo)

    decode.add_parser(sub)
    storage_commands.add_parsers(sub)
    rules_commands.add_parsers(sub)
    audit_commands.add_parsers(sub)
    cases_commands.add_parsers(sub)
    corrections_commands.add_parsers(sub)
    evidence_commands.add_parsers(sub)
    console_commands.add_parsers(sub)
    users_commands.add_parsers(sub)
    spool_commands.add_parsers(sub)
    upstream_commands.add_parsers(sub)
    frames_commands.add_parsers(sub)
    enterprise_commands.add_parsers(sub)
    quarterly_commands.add_parsers(sub)
    return parser


class JsonFormatter(logging.Formatter):
    """Structured logs: one JSON object per line (time, level, logger, message)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def name_local_client(environ: dict[str, str] | os._Environ[str] = os.environ) -> str:
    """Make every database connection of this process name it as the client of the audit
    entries it writes (``local:USER@HOST``, migration 0062); libpq reads PGOPTIONS."""
    from cli.audit_commands import who_am_i

    def safe(text: str) -> str:
        return re.sub(r"[^A-Za-z0-9._-]", "_", text)[:64]

    client = f"local:{safe(who_am_i())}@{safe(socket.gethostname())}"
    others = re.sub(r"-c\s*hj212\.client=\S*", "", environ.get("PGOPTIONS", ""))
    environ["PGOPTIONS"] = f"{others.strip()} -c hj212.client={client}".strip()
    return client


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        args.settings = _settings(args)
    except ConfigError as exc:
        print(f"hj212: configuration error: {exc}", file=sys.stderr)
        return 2
    handler = logging.StreamHandler(sys.stderr)
    if args.settings.gateway.log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, handlers=[handler])
    name_local_client()
    result: int = args.func(args)
    return result
