"""The bundle's layout and encodings, shared by export and verify.

A bundle is a ZIP::

    manifest.json              what, when, by whom; the SHA-256 and size of every other file
    manifest.sig               Ed25519 signature of the exact bytes of manifest.json (base64)
    public_key.pem             the platform's public key (compare its fingerprint)
    chain.json                 the links: first frame's prev_hash, last hash, chain head
    frames/frames.jsonl        one line per frame: receive time, peer, transport, status,
                               header fields, hash, prev_hash, the raw file and its SHA-256
    frames/raw/<id>.hj212      each frame's bytes exactly as received
    data/values.jsonl          real-time and minute values (2011, 2051) parsed from them
    data/hourly.jsonl          hourly records (2061)
    data/daily.jsonl           daily records (2031)
    data/earlier.jsonl         stored rows of records that frames in the window repeat
    data/device_status.jsonl   2021/2041/3020 items
    events/alarms.jsonl        alarms with their lifecycle actions
    events/cases.jsonl         cases with their timelines
    commands/commands.jsonl    commands sent, with the devices' replies
    clock/clock_drift.jsonl    measured clock drift
    marks/data_marks.jsonl     marks in force or revoked over the window
    marks/requests.jsonl       proposed marks and their reviews; marks/attachments/*
    cases/reports.jsonl        reports and notices on the station's cases, with the
                               regulator's reviews (docs/regulations.md §6.5)
    cases/samples.jsonl        manual monitoring results (their own series)
    cases/attachments.jsonl    their attachments: name, type, the SHA-256 recorded when
                               filed; the files themselves in cases/attachments/<id>-<name>
    figures/figures.json       transmission rates and emissions of the window
    audit/entries.jsonl        the audit log's entries about this station since the window
                               began (marks, reviews, commands, exports ...), each hash-checked
    report/report.html, report/report.pdf   the readable summary (Chinese)

Times are ISO 8601 in UTC with microseconds; bytes are hex.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

FORMAT = "hj212-evidence-v1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
PUBLIC_KEY = "public_key.pem"
CHAIN = "chain.json"
FRAMES = "frames/frames.jsonl"
RAW_DIR = "frames/raw/"
VALUES = "data/values.jsonl"
HOURLY = "data/hourly.jsonl"
DAILY = "data/daily.jsonl"
EARLIER = "data/earlier.jsonl"
AUDIT = "audit/entries.jsonl"
UNSIGNED = frozenset({MANIFEST, SIGNATURE})
CASE_REPORTS = "cases/reports.jsonl"
CASE_SAMPLES = "cases/samples.jsonl"
CASE_ATTACHMENTS = "cases/attachments.jsonl"
MEASUREMENT_FILES = {"2011": VALUES, "2051": VALUES, "2061": HOURLY, "2031": DAILY}


def raw_name(frame_id: int) -> str:
    return f"{RAW_DIR}{frame_id}.hj212"


def case_attachment_name(ident: int, name: str) -> str:
    """Where a report's or sample's attachment is kept (no directories from its name)."""
    safe = name.replace("/", "_").replace("\\", "_")
    return f"cases/attachments/{ident}-{safe}"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _default(value: object) -> object:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return str(value)


def dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=_default)


def jsonl(rows: Iterable[Mapping[str, Any]]) -> bytes:
    return "".join(dumps(row) + "\n" for row in rows).encode()


def read_jsonl(data: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in data.decode().splitlines() if line.strip()]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def json_roundtrip(value: Any) -> Any:
    """``value`` as it reads back from the bundle (datetimes as ISO text, bytes as hex)."""
    return json.loads(dumps(value))
