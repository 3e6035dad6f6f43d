"""Signed anchors: the hash chains' heads, kept where the database cannot change them.

A superuser can edit a frame or an audit entry and re-hash its chain to the head: every
link then verifies (storage/chain.py, storage/audit.py). So at intervals the gateway
(``hj212 serve``, worker 0; or ``hj212 db anchor`` from cron) reads, in one snapshot,
every ``hj212.chain_head`` (last frame id and hash) and the audit chain's first and last
entries, signs that with the evidence key (evidence/keys.py, Ed25519) and writes it as a
file to the anchor directory (``$HJ212_ANCHOR_DIR``, else ``var/anchors``): a place on
the gateway host that no database role reaches (the application's role has no
superuser rights, so no ``COPY ... TO PROGRAM``; storage/roles.py). ``verify-chain`` and
``audit verify`` recompute the chains and, at each anchored link, compare: a different
hash there means an edit re-hashed after the anchor; an anchored frame or entry that is
gone is explained by retention only if it was older than the retention period.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from cryptography.exceptions import InvalidSignature

from evidence import keys
from storage.audit import AuditReport
from storage.chain import Report, heads, instance_id
from storage.db import Conn

KEEP = 1000  # anchor files kept (a week at the default 10-minute interval)


def anchor_dir(path: Path | None = None) -> Path:
    return path or Path(os.environ.get("HJ212_ANCHOR_DIR") or "var/anchors")


@dataclass(frozen=True)
class Anchor:
    database: str  # hj212.instance id: an anchor speaks for one database only
    at: datetime
    chains: dict[str, tuple[int, bytes, datetime]]  # chain -> (last id, hash, head time)
    audit: dict[str, tuple[int, bytes, datetime]]  # "first"/"last" -> (seq, hash, at)
    fingerprint: str
    path: Path

    def chain_checkpoints(self) -> dict[str, tuple[int, bytes]]:
        return {c: (i, h) for c, (i, h, _) in self.chains.items()}

    def audit_checkpoints(self) -> dict[int, bytes]:
        return {seq: h for seq, h, _ in self.audit.values()}


def snapshot(conn: Conn) -> dict[str, Any]:
    """The chains' heads and the audit chain's ends, in one consistent snapshot."""
    taken = heads(conn)
    return {
        "version": 1,
        "database": taken.database,
        "at": taken.at.isoformat(),
        "chains": {c: [i, h.hex(), t.isoformat()] for c, i, h, t in taken.chains},
        "audit": {k: [s, h.hex(), t.isoformat()] for k, s, h, t in taken.audit},
    }


def write(dsn: str, directory: Path | None = None, key_dir: Path | None = None) -> Path:
    """Take, sign and write one anchor; the oldest beyond :data:`KEEP` are removed."""
    with psycopg.connect(dsn) as conn:
        taken = snapshot(conn)
    body = json.dumps(taken, sort_keys=True, separators=(",", ":")).encode()
    key = keys.load_private(key_dir)
    signed = {
        "anchor": body.decode(),
        "signature": base64.b64encode(key.sign(body)).decode(),
        "fingerprint": keys.fingerprint(key.public_key()),
    }
    target = anchor_dir(directory)
    target.mkdir(parents=True, exist_ok=True)
    prefix = f"anchor-{taken['database']}-"
    path = target / f"{prefix}{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(signed))
    tmp.replace(path)
    for old in sorted(target.glob(f"{prefix}*.json"))[:-KEEP]:
        old.unlink(missing_ok=True)
    return path


class AnchorError(ValueError):
    """Raised for an anchor file that cannot be trusted (altered, or signed by another key)."""


def latest(conn: Conn, directory: Path | None = None, key_dir: Path | None = None) -> Anchor | None:
    """The newest anchor of the database ``conn`` is on, its signature checked with
    the platform's public key."""
    database = instance_id(conn) or "?"
    if not conn.autocommit:
        conn.rollback()  # end this read: the verification takes its own snapshot
    found = sorted(anchor_dir(directory).glob(f"anchor-{database}-*.json"))
    if not found:
        return None
    anchor = load(found[-1], key_dir)
    if anchor.database != database:  # a file renamed to pass for another database's
        raise AnchorError(f"{found[-1]}: an anchor of database {anchor.database}")
    return anchor


def load(path: Path, key_dir: Path | None = None) -> Anchor:
    public = keys.key_dir(key_dir) / keys.PUBLIC
    try:
        signed = json.loads(path.read_text())
        body = signed["anchor"].encode()
        key = keys.load_public(public.read_bytes())
        key.verify(base64.b64decode(signed["signature"]), body)
        data = json.loads(body)
    except InvalidSignature:
        raise AnchorError(
            f"{path}: the signature does not verify: the anchor was altered"
        ) from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise AnchorError(f"{path}: unreadable anchor ({exc})") from None

    def entries(raw: dict[str, list[Any]]) -> dict[str, tuple[int, bytes, datetime]]:
        return {
            k: (int(v[0]), bytes.fromhex(v[1]), datetime.fromisoformat(v[2]))
            for k, v in raw.items()
        }

    return Anchor(
        str(data["database"]),
        datetime.fromisoformat(data["at"]),
        entries(data["chains"]),
        entries(data["audit"]),
        keys.fingerprint(key),
        path,
    )


def explain_missing(when: datetime, retention_days: int, now: datetime) -> str:
    """Why an anchored frame or entry is no longer stored: retention, or removal."""
    if retention_days > 0 and when < now - timedelta(days=retention_days):
        return f"gone, explained by retention (older than {retention_days} days)"
    return f"gone, and younger than the retention period ({retention_days} days): removed"


Findings = tuple[list[str], list[str]]  # (problems, notes)


def chain_findings(
    anchor: Anchor, report: Report, retention_days: int, mn: str | None = None
) -> Findings:
    """What the recomputed chains say at each link the anchor recorded."""
    problems: list[str] = []
    notes: list[str] = []
    for chain, (ident, _, head_at) in sorted(anchor.chains.items()):
        if mn is not None and chain != mn:
            continue
        found = report.checked.get(chain)
        if found == "match":
            continue
        where = f"chain {chain!r} frame {ident} (anchor of {anchor.at.isoformat()})"
        if found == "differs":
            problems.append(
                f"{where}: its hash differs from the signed anchor: edited and"
                " re-hashed after the anchor"
            )
            continue
        first = report.first_ids.get(chain)
        if first is not None and first <= ident:
            problems.append(f"{where}: no longer stored although later frames are: removed")
            continue
        why = explain_missing(head_at, retention_days, datetime.now(UTC))
        (notes if "explained" in why else problems).append(f"{where}: {why}")
    return problems, notes


def audit_findings(anchor: Anchor, report: AuditReport, retention_days: int) -> Findings:
    """The same for the audit chain's first and last entries at anchor time."""
    problems: list[str] = []
    notes: list[str] = []
    for end, (seq, _, at) in sorted(anchor.audit.items()):
        found = report.checked.get(seq)
        if found == "match":
            continue
        where = f"audit entry seq {seq} ({end} at the anchor of {anchor.at.isoformat()})"
        if found == "differs":
            problems.append(
                f"{where}: its hash differs from the signed anchor: edited and"
                " re-hashed after the anchor"
            )
        elif report.first_seq is not None and report.first_seq <= seq:
            problems.append(f"{where}: no longer stored although later entries are: removed")
        else:
            why = explain_missing(at, retention_days, datetime.now(UTC))
            (notes if "explained" in why else problems).append(f"{where}: {why}")
    return problems, notes
