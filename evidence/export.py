"""``export_bundle``: one station's window as a signed evidence bundle (see bundle.py)."""

from __future__ import annotations

import base64
import os
import zipfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from evidence import bundle, keys, report
from evidence.figures import figures
from evidence.reparse import decoded_rows, row_key
from protocol import BEIJING
from rules.config import Ruleset
from rules.times import TIME_LABEL, shown
from storage import audit, chain, incidents, station_history
from storage.db import DictConn
from storage.station_history import Window


class ExportError(Exception):
    """The window cannot be exported as evidence (the message says why)."""


def _frame_line(f: dict[str, Any]) -> dict[str, Any]:
    raw = bytes(f["raw"])
    line = {k: v for k, v in f.items() if k != "raw"}
    line.update(raw_file=bundle.raw_name(f["id"]), raw_sha256=bundle.sha256(raw), size=len(raw))
    return line


def _measurement_line(row: dict[str, Any]) -> dict[str, Any]:
    return dict(row)


def _verify_chain(dsn: str, mn: str, start: datetime) -> str:
    """Check the stored chain from the window to the head; raise on a break."""
    with psycopg.connect(dsn) as conn:
        found = chain.verify(conn, mn, start)
    if found.breaks:
        b = found.breaks[0]
        raise ExportError(
            f"the stored hash chain of {mn} is broken at frame {b.frame_id}"
            f" ({shown(b.received_at)} {TIME_LABEL}): {b.reason}"
        )
    return f"完整：导出时自窗口起点至链头共 {found.frames} 条报文校验通过"


def _earlier(conn: DictConn, w: Window) -> list[dict[str, Any]]:
    """Rows of records the window's frames carry but whose stored row came from a frame
    outside the bundle (a retransmission of data first received before the window)."""
    exported = {row_key(r) for r in w.measurements}
    missing: set[tuple[str, str, datetime]] = set()
    for f in w.frames:
        if f["status"] in ("ok", "duplicate"):
            for r in decoded_rows(bytes(f["raw"])) or []:
                if (r.cn, r.pollutant, r.data_time) not in exported:
                    missing.add((r.cn, r.pollutant, r.data_time))
    return station_history.earlier(conn, w.mn, sorted(missing))


def _hourly_series(rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    hourly = [r for r in rows if r["cn"] == "2061"]
    times = sorted({r["data_time"] for r in hourly})
    values: dict[str, list[float | None]] = {}
    for r in hourly:
        series = values.setdefault(r["pollutant"], [None] * len(times))
        series[times.index(r["data_time"])] = r["avg"]
    top = sorted(values)[:4]  # the first few factors keep the chart readable
    labels = [t.astimezone(BEIJING).strftime("%m-%d %H时") for t in times]
    return {"labels": labels, "values": {k: values[k] for k in top}}


def _case_files(filings: dict[str, Any]) -> dict[str, bytes]:
    """Reports, samples and their attachments (docs/regulations.md §6.5)."""
    files = {
        bundle.CASE_REPORTS: bundle.jsonl(filings["reports"]),
        bundle.CASE_SAMPLES: bundle.jsonl(filings["samples"]),
    }
    for a in filings["attachments"]:
        files[bundle.case_attachment_name(a["id"], a["name"])] = bytes(a["content"])
    lines = [{k: v for k, v in a.items() if k != "content"} for a in filings["attachments"]]
    files[bundle.CASE_ATTACHMENTS] = bundle.jsonl(lines)
    return files


def _files(w: Window, earlier: list[dict[str, Any]]) -> dict[str, bytes]:
    files: dict[str, bytes] = {bundle.FRAMES: bundle.jsonl(_frame_line(f) for f in w.frames)}
    files.update({bundle.raw_name(f["id"]): bytes(f["raw"]) for f in w.frames})
    for name in sorted(set(bundle.MEASUREMENT_FILES.values())):
        cns = {cn for cn, file in bundle.MEASUREMENT_FILES.items() if file == name}
        files[name] = bundle.jsonl(r for r in w.measurements if r["cn"] in cns)
    files[bundle.EARLIER] = bundle.jsonl(earlier)
    files["data/device_status.jsonl"] = bundle.jsonl(w.device_status)
    files["events/alarms.jsonl"] = bundle.jsonl(w.alarms)
    files["events/cases.jsonl"] = bundle.jsonl(w.cases)
    files["commands/commands.jsonl"] = bundle.jsonl(w.commands)
    files["clock/clock_drift.jsonl"] = bundle.jsonl(w.clock_drift)
    files["marks/data_marks.jsonl"] = bundle.jsonl(w.data_marks)
    files["marks/requests.jsonl"] = bundle.jsonl(w.mark_requests)
    for a in w.attachments:
        files[f"marks/attachments/{a['id']}-{a['name']}"] = bytes(a["content"])
    lines = [{k: v for k, v in a.items() if k != "content"} for a in w.attachments]
    files["marks/attachments.jsonl"] = bundle.jsonl(lines)
    files[bundle.AUDIT] = bundle.jsonl(w.audit)
    return files


def _report_line(r: dict[str, Any]) -> dict[str, Any]:
    keep = ("id", "kind", "filed_at", "filed_by", "state", "late", "case_id")
    return {k: r.get(k) for k in keep}


def _sample_line(x: dict[str, Any]) -> dict[str, Any]:
    keep = ("id", "pollutant", "sampled_at", "value", "unit", "laboratory", "state")
    return {k: x.get(k) for k in keep}


def _chain_links(w: Window, verdict: str) -> dict[str, Any]:
    first, last = (w.frames[0], w.frames[-1]) if w.frames else ({}, {})
    head = w.head or {}
    return {
        "chain": w.mn,
        "frames": len(w.frames),
        "first_frame_id": first.get("id"),
        "first_prev_hash": first.get("prev_hash"),
        "last_frame_id": last.get("id"),
        "last_hash": last.get("hash"),
        "head": {k: head.get(k) for k in ("last_id", "last_hash", "frames", "updated_at")},
        "verdict": verdict,
    }


def export_bundle(
    dsn: str,
    mn: str,
    start: datetime,
    end: datetime,
    out_path: Path,
    *,
    who: str,
    key_dir: Path | None = None,
    now: datetime | None = None,
    ruleset: Ruleset | None = None,
) -> Path:
    """Write the evidence bundle of ``mn`` over [start, end) to ``out_path``.

    Verifies the stored chain from the window to its head first, and refuses to export
    (:class:`ExportError`) when it is broken. Every step is audited. Naive times are
    taken as Beijing time. ``now`` is the export's moment (the real clock unless a test
    on simulated time gives its own): the rates count the hours judged by then, with the
    ``ruleset`` the rules engine runs with (the process's rules settings).
    """
    # a moment without an offset is Beijing time, as on the command line
    start, end = (t if t.tzinfo else t.replace(tzinfo=BEIJING) for t in (start, end))
    if not end > start:
        raise ExportError("the window is empty: --to must be after --from")
    target = f"evidence:{mn}"
    span = {"from": bundle.iso(start), "to": bundle.iso(end), "file": str(out_path)}
    audit.append(dsn, who, "export-start", target, span, mn=mn)
    signer = keys.load_private(key_dir)
    try:
        verdict = _verify_chain(dsn, mn, start)
    except ExportError as exc:
        audit.append(dsn, who, "export-refused", target, {**span, "reason": str(exc)}, mn=mn)
        raise
    with psycopg.connect(dsn, row_factory=dict_row) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        with conn.transaction():
            w = station_history.window(conn, mn, start, end)
            earlier = _earlier(conn, w)
            filings = incidents.window_filings(conn, mn, start, end)
    exported = now or datetime.now(UTC)  # the figures count the hours judged by then
    with psycopg.connect(dsn) as plain:
        figs = figures(plain, mn, start, end, now=exported, ruleset=ruleset)
    files = _files(w, earlier) | _case_files(filings)
    links = _chain_links(w, verdict)
    files[bundle.CHAIN] = bundle.dumps(links).encode()
    files["figures/figures.json"] = bundle.dumps(figs).encode()
    public = keys.public_pem(signer.public_key())
    files[bundle.PUBLIC_KEY] = public
    exported_at = bundle.iso(exported)
    summary = {
        "window": {"mn": mn, "from": bundle.iso(start), "to": bundle.iso(end)},
        "station": w.station,
        "exported_at": exported_at,
        "exported_by": who,
        "frame_statuses": [f["status"] for f in w.frames],
        "chain": links,
        "figures": figs,
        "counts": {
            "alarms": len(w.alarms),
            "cases": len(w.cases),
            "commands": len(w.commands),
            "data_marks": len(w.data_marks),
            "mark_requests": len(w.mark_requests),
            "case_reports": len(filings["reports"]),
            "manual_samples": len(filings["samples"]),
        },
        "alarms": [
            {k: a.get(k) for k in ("raised_at", "kind", "pollutant", "state")} for a in w.alarms
        ],
        "mark_requests": w.mark_requests,
        "case_reports": [_report_line(r) for r in filings["reports"]],
        "manual_samples": [_sample_line(x) for x in filings["samples"]],
        "hourly_series": _hourly_series(w.measurements),
        "key_fingerprint": keys.fingerprint(signer.public_key()),
    }
    summary = bundle.json_roundtrip(summary)
    model = report.build(summary)
    files["report/report.html"] = report.to_html(model).encode()
    files["report/report.pdf"] = report.to_pdf(model)
    manifest = {
        "format": bundle.FORMAT,
        "mn": mn,
        "from": bundle.iso(start),
        "to": bundle.iso(end),
        "exported_at": exported_at,
        "exported_by": who,
        "key_fingerprint": summary["key_fingerprint"],
        "files": {
            n: {"sha256": bundle.sha256(d), "size": len(d)} for n, d in sorted(files.items())
        },
    }
    manifest_bytes = (bundle.dumps(manifest) + "\n").encode()
    signature = base64.b64encode(signer.sign(manifest_bytes)) + b"\n"
    _write_zip(out_path, manifest_bytes, signature, files)
    detail = {**span, "frames": len(w.frames), "manifest_sha256": bundle.sha256(manifest_bytes)}
    audit.append(dsn, who, "export", target, detail, mn=mn)
    return out_path


def _write_zip(path: Path, manifest: bytes, signature: bytes, files: dict[str, bytes]) -> None:
    """Written next to the target and renamed: a half-written bundle never has its name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(bundle.MANIFEST, manifest)
        z.writestr(bundle.SIGNATURE, signature)
        for name, data in sorted(files.items()):
            z.writestr(name, data)
    os.replace(partial, path)
