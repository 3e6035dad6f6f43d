"""``hj212 db verify-chain`` / ``db retention`` and ``hj212 stations import`` / ``list``."""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from cli import commands
from cli.common import err, resolve_dsn, resolve_owner_dsn
from config.settings import Settings
from evidence import anchor
from protocol import BEIJING
from rules.times import TIME_LABEL, shown
from services import registry_file
from storage import audit, chain, maintenance, stations


def db(args: argparse.Namespace) -> int:
    """``hj212 db ACTION``: the storage actions here, the cluster ones in cli.commands."""
    if args.action == "verify-chain":
        return verify_chain(args)
    if args.action == "anchor":
        return write_anchor(args)
    if args.action == "retention":
        return retention(args)
    status = commands.db(args)
    if status == 0 and args.action in ("up", "migrate"):
        dsn = resolve_owner_dsn(args.settings)
        if dsn is not None:
            try:
                configure(dsn, args.settings)
            except psycopg.Error as exc:
                return err(str(exc))
    return status


def configure(dsn: str, settings: Settings) -> None:
    """After migrating: chunk intervals from the settings (cheap, idempotent)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        maintenance.apply_chunk_intervals(conn, settings.storage)


# -- db verify-chain ------------------------------------------------------------------
def verify_chain(args: argparse.Namespace) -> int:
    dsn = resolve_dsn(args.settings)
    if dsn is None:
        return err("no database configured and no embedded cluster: run `hj212 db up`")
    start = getattr(args, "start", None)
    end = getattr(args, "end", None)
    try:
        with psycopg.connect(dsn) as conn:
            signed = anchor.latest(conn) if start is None and end is None else None
            checkpoints = signed.chain_checkpoints() if signed else None
            report = chain.verify(conn, args.mn, start, end, checkpoints)
    except anchor.AnchorError as exc:
        print(f"BROKEN {exc}")
        return 1
    except psycopg.Error as exc:
        return err(str(exc))
    problems, notes = (
        ([], [])
        if signed is None
        else anchor.chain_findings(
            signed, report, args.settings.storage.retention_days_frame, args.mn
        )
    )
    for b in report.breaks:
        where = f"chain {b.chain!r}" if b.chain else "chain '' (frames without MN)"
        # a head that disagrees has no frame time of its own (the epoch stands in for it)
        when = (
            f" (received {shown(b.received_at)} {TIME_LABEL})" if b.received_at.year > 1970 else ""
        )
        print(f"BROKEN {where} at frame {b.frame_id}{when}: {b.reason}")
    for problem in problems:
        print(f"BROKEN {problem}")
    for note in notes:
        print(f"NOTE {note}")
    summary = f"{report.frames} frames in {report.chains} chain(s) checked"
    if report.unanchored and start is None:
        summary += f"; {len(report.unanchored)} start after retention (anchored on prev_hash)"
    summary += "; " + _anchor_line(signed, start, end)
    ok = report.ok and not problems
    print(("OK: " if ok else "FAILED: ") + summary)
    return 0 if ok else 1


def _anchor_line(signed: anchor.Anchor | None, start: object, end: object) -> str:
    if start is not None or end is not None:
        return "a window: not compared with the signed anchor"
    if signed is None:
        return f"no signed anchor in {anchor.anchor_dir()} to compare with (hj212 db anchor)"
    return (
        f"compared with the signed anchor of {signed.at.isoformat()}"
        f" (key {signed.fingerprint[:16]}..., {signed.path.name})"
    )


def write_anchor(args: argparse.Namespace) -> int:
    """``hj212 db anchor``: sign the chain heads now (the gateway does it at intervals)."""
    dsn = resolve_dsn(args.settings)
    if dsn is None:
        return err("no database configured and no embedded cluster: run `hj212 db up`")
    try:
        path = anchor.write(dsn)
    except (psycopg.Error, OSError) as exc:
        return err(str(exc))
    print(path)
    return 0


# -- db retention ---------------------------------------------------------------------
def retention(args: argparse.Namespace) -> int:
    settings: Settings = args.settings
    dsn = resolve_owner_dsn(settings)  # drop_chunks needs the tables' owner
    if dsn is None:
        return err("no database configured and no embedded cluster: run `hj212 db up`")
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            dropped = maintenance.apply_retention(conn, settings.storage, datetime.now(UTC))
            message = maintenance.apply_compression(conn, settings.storage)
    except psycopg.Error as exc:
        return err(str(exc))
    for d in dropped:
        print(f"{d.table}: {len(d.chunks)} chunk(s) older than {d.older_than:%Y-%m-%d} dropped")
    print(message)
    return 0


# -- stations -------------------------------------------------------------------------
def stations_command(args: argparse.Namespace) -> int:
    dsn = resolve_dsn(args.settings)
    if dsn is None:
        return err("no database configured and no embedded cluster: run `hj212 db up`")
    if args.action == "import":
        return _import(dsn, args.file)
    return _list(dsn, args.format)


def _import(dsn: str, path: Path | None) -> int:
    if path is None:
        return err("stations import needs a FILE (.csv or .toml)")
    try:
        parsed = registry_file.parse_file(path)
    except (OSError, UnicodeDecodeError) as exc:
        return err(f"cannot read {path}: {exc}")
    for error in parsed.errors:
        print(f"{path}: {error}", file=sys.stderr)
    try:
        with psycopg.connect(dsn) as conn:
            count = stations.upsert(conn, parsed.stations)
            who = os.environ.get("USER") or os.environ.get("LOGNAME") or "cli"
            detail = {"file": str(path), "stations": count, "bad_lines": len(parsed.errors)}
            audit.append(conn, who, "config", "stations", detail)
    except psycopg.Error as exc:
        return err(str(exc))
    print(f"{count} station(s) imported, {len(parsed.errors)} bad line(s) skipped")
    return 1 if parsed.errors else 0


def _list(dsn: str, fmt: str) -> int:
    try:
        with psycopg.connect(dsn) as conn:
            found = stations.list_stations(conn)
            who = os.environ.get("USER") or os.environ.get("LOGNAME") or "cli"
            audit.append(conn, who, "read", "stations", {"format": fmt, "count": len(found)})
    except psycopg.Error as exc:
        return err(str(exc))
    columns = [c for c in stations.COLUMNS if c not in stations.SECRETS]  # not shown
    if fmt == "json":
        for s in found:
            row: dict[str, object] = {c: _value(s, c) for c in columns if c != "pollutants"}
            row["pollutants"] = [p.__dict__ for p in s.pollutants]
            print(json.dumps(row, ensure_ascii=False))
        return 0
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(columns)
    for s in found:
        out.writerow(
            [
                registry_file.format_pollutants(s.pollutants) if c == "pollutants" else _cell(s, c)
                for c in columns
            ]
        )
    return 0


def _value(station: stations.Station, column: str) -> object:
    """A column's value as listed: times in Beijing time, ISO (what import reads back)."""
    value = getattr(station, column)
    return value.astimezone(BEIJING).isoformat() if isinstance(value, datetime) else value


def _cell(station: stations.Station, column: str) -> str:
    value = _value(station, column)
    if value is None:
        return ""
    return str(value).lower() if isinstance(value, bool) else str(value)


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """The ``stations`` subcommand (``db verify-chain``/``retention`` extend ``db``)."""
    st = sub.add_parser("stations", help="the station registry: import a CSV/TOML file, list")
    st.add_argument("action", choices=["import", "list"])
    st.add_argument("file", nargs="?", type=Path, help="stations file (.csv or .toml)")
    st.add_argument("--format", choices=["csv", "json"], default="csv", help="list output")
    st.add_argument("--dsn", help="use this database instead of the embedded cluster")
    st.set_defaults(func=stations_command)
