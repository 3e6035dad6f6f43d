"""Evidence bundles: a round trip from a real database, and every kind of tampering
(a byte in a raw frame, a value, the manifest, the signature, the ZIP itself, a row in
the database) caught with a message that names it."""

from __future__ import annotations

import base64
import json
import zipfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cli.main import main
from evidence import bundle, keys
from evidence.export import ExportError, export_bundle
from evidence.verify import verify_bundle
from protocol import BEIJING
from storage import audit, marks
from tests.databases import owner_of
from tests.evidence.support import DAY, H, frames, station, write
from tests.rules_db import fresh_database, register

pytestmark = pytest.mark.db
MN = "EVIDENCE0000000000000001"
WINDOW = ["--from", "2026-10-05T00:00", "--to", "2026-10-05T06:00"]


@pytest.fixture(scope="module")
def filled(server_dsn: str) -> Iterator[str]:
    """Six hours of a station's frames (2011 + 2061 each hour), the first hour repeated
    (a retransmission), a clock-drift row, an alarm and an approved mark."""
    with fresh_database(server_dsn) as dsn:
        register(dsn, [station(MN)], DAY - timedelta(days=30))
        sent = frames(MN, range(8))
        again = [(at + timedelta(minutes=20), raw) for at, raw in sent[1:2]]
        assert write(dsn, sent + again).count("duplicate") == 1
        with psycopg.connect(dsn) as conn:
            conn.execute(
                "INSERT INTO hj212.clock_drift (measured_at, mn, source, drift_s)"
                " VALUES (%s, %s, 'datatime', 42.5)",
                (DAY + 2 * H, MN),
            )
            conn.execute(
                "INSERT INTO hj212.alarm (mn, pollutant, kind, raised_at, data_time, value,"
                " threshold, key) VALUES (%s, 'a21026', 'exceedance', %s, %s, 40, 35, 'k1')",
                (MN, DAY + 3 * H, DAY + 2 * H),
            )
            conn.commit()
            ident = marks.add(
                conn, mn=MN, start=DAY + 4 * H, end=DAY + 5 * H, kind="maintenance",
                reason="更换探头", who="enterprise",
            )  # fmt: skip
            marks.review(conn, ident, approve=True, who="regulator")
        yield dsn


@pytest.fixture
def key_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HJ212_KEY_DIR", str(tmp_path / "keys"))
    return tmp_path / "keys"


@pytest.fixture
def exported(filled: str, key_dir: Path, tmp_path: Path) -> Path:
    out = tmp_path / "bundle.zip"
    assert main(["evidence", "export", "--dsn", filled, "--mn", MN, *WINDOW, "-o", str(out)]) == 0
    return out


def _rewrite(src: Path, dst: Path, changes: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for name in zin.namelist():
            zout.writestr(name, changes.get(name, zin.read(name)))
        for name in set(changes) - set(zin.namelist()):
            zout.writestr(name, changes[name])
    return dst


def _read(path: Path, name: str) -> bytes:
    with zipfile.ZipFile(path) as z:
        return z.read(name)


def _resign(path: Path, dst: Path, changes: dict[str, bytes], key: Ed25519PrivateKey) -> Path:
    """A forger's bundle: changed files, a manifest that matches them, their own key."""
    manifest = json.loads(_read(path, bundle.MANIFEST))
    for name, data in changes.items():
        manifest["files"][name] = {"sha256": bundle.sha256(data), "size": len(data)}
    public = keys.public_pem(key.public_key())
    manifest["files"][bundle.PUBLIC_KEY] = {"sha256": bundle.sha256(public), "size": len(public)}
    body = (bundle.dumps(manifest) + "\n").encode()
    return _rewrite(
        path,
        dst,
        {
            **changes,
            bundle.MANIFEST: body,
            bundle.SIGNATURE: base64.b64encode(key.sign(body)),
            bundle.PUBLIC_KEY: public,
        },
    )


def test_round_trip(exported: Path, key_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["evidence", "verify", str(exported)]) == 0
    assert "OK" in capsys.readouterr().out
    assert main(["evidence", "public-key"]) == 0
    published = capsys.readouterr().out.encode()
    assert verify_bundle(exported, trusted_key=published) == []
    with zipfile.ZipFile(exported) as z:
        names = set(z.namelist())
        frame_lines = bundle.read_jsonl(z.read(bundle.FRAMES))
        chain = json.loads(z.read(bundle.CHAIN))
        hourly = bundle.read_jsonl(z.read(bundle.HOURLY))
        pdf = z.read("report/report.pdf")
        html = z.read("report/report.html").decode()
    assert len(frame_lines) == 6 + 5 + 1  # 2011 of hours 0-5, 2061 of 0-4, the repeat
    assert {f["status"] for f in frame_lines} == {"ok", "duplicate"}
    assert chain["first_prev_hash"] == "00" * 32  # the station's first frame: genesis
    assert chain["head"]["last_id"] > chain["last_frame_id"]  # hours 6, 7 came after
    assert len(hourly) == 5 * 5  # 2061 for hours 0-4 received before 06:00
    for name in ("clock/clock_drift.jsonl", "events/alarms.jsonl", "marks/requests.jsonl"):
        assert bundle.read_jsonl(_read(exported, name)), name
    assert pdf.startswith(b"%PDF")
    assert "有效传输率" in html
    assert "<svg" in html
    assert {bundle.PUBLIC_KEY, "figures/figures.json", "marks/data_marks.jsonl"} <= names
    figures = json.loads(_read(exported, "figures/figures.json"))
    assert figures["transmission"]["total"]["completion"]["expected"] > 0
    # one time convention: the report says Beijing time, the export time included
    manifest = json.loads(_read(exported, bundle.MANIFEST))
    exported_at = datetime.fromisoformat(manifest["exported_at"]).astimezone(BEIJING)
    assert "导出时间（北京时间）" in html
    assert exported_at.strftime("%Y-%m-%d %H:%M:%S") in html
    assert "+00:00" not in html  # it said 2026-12-06T20:37:47.912106+00:00


def test_verify_names_the_signer_and_what_a_signature_without_a_trusted_key_proves(
    exported: Path, key_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    platform = keys.fingerprint(keys.load_private(key_dir).public_key())
    public = key_dir / keys.PUBLIC
    forger = Ed25519PrivateKey.generate()
    forged = _resign(exported, tmp_path / "re-signed.zip", {}, forger)
    capsys.readouterr()
    assert main(["evidence", "verify", str(exported)]) == 0
    out = capsys.readouterr().out
    assert f"SHA-256 fingerprint {platform}" in out
    assert "proves integrity only" in out
    assert main(["evidence", "verify", str(exported), "--key", str(public)]) == 0
    out = capsys.readouterr().out
    assert "signed by the trusted key" in out
    assert "integrity only" not in out
    # re-signed by anyone: intact, but the fingerprint is the forger's, and said to be so
    assert main(["evidence", "verify", str(forged)]) == 0
    out = capsys.readouterr().out
    assert f"fingerprint {keys.fingerprint(forger.public_key())}" in out
    assert platform not in out
    assert "proves integrity only" in out
    assert main(["evidence", "verify", str(forged), "--key", str(public)]) == 1
    assert "not the trusted key" in capsys.readouterr().out


def test_a_changed_raw_frame_is_named(exported: Path, tmp_path: Path) -> None:
    line = bundle.read_jsonl(_read(exported, bundle.FRAMES))[3]
    name = line["raw_file"]
    raw = bytearray(_read(exported, name))
    raw[30] ^= 0x01
    problems = verify_bundle(_rewrite(exported, tmp_path / "t.zip", {name: bytes(raw)}))
    assert problems[0] == f"{name}: SHA-256 differs from the manifest (the file was changed)"
    assert any(f"frame {line['id']}: hash does not match" in p for p in problems)
    assert not any("prev_hash" in p for p in problems)  # the next link is not blamed


def test_a_changed_value_is_named_even_with_a_forged_signature(
    exported: Path, tmp_path: Path
) -> None:
    rows = bundle.read_jsonl(_read(exported, bundle.HOURLY))
    rows[0]["avg"] = rows[0]["avg"] + 1.0
    changed = {bundle.HOURLY: bundle.jsonl(rows)}
    problems = verify_bundle(_rewrite(exported, tmp_path / "a.zip", changed))
    assert (
        problems[0] == f"{bundle.HOURLY}: SHA-256 differs from the manifest (the file was changed)"
    )
    forged = _resign(exported, tmp_path / "f.zip", changed, Ed25519PrivateKey.generate())
    problems = verify_bundle(forged)
    assert len(problems) == 1
    assert problems[0].startswith(f"{bundle.HOURLY}: frame {rows[0]['frame_id']}, 2061 ")
    assert "avg is" in problems[0]
    assert "but the frame's bytes say Avg=" in problems[0]
    trusted = _read(exported, bundle.PUBLIC_KEY)
    assert verify_bundle(forged, trusted_key=trusted)[0].startswith(f"{bundle.PUBLIC_KEY}: not the")


@pytest.mark.parametrize("member", [bundle.MANIFEST, bundle.SIGNATURE])
def test_a_changed_manifest_or_signature_byte_fails_the_signature(
    exported: Path, tmp_path: Path, member: str
) -> None:
    data = bytearray(_read(exported, member))
    data[10] = ord("0") if data[10] != ord("0") else ord("1")
    problems = verify_bundle(_rewrite(exported, tmp_path / "m.zip", {member: bytes(data)}))
    assert problems[0].startswith(f"{bundle.SIGNATURE}: the signature does not verify")


def test_a_changed_byte_in_the_zip_itself_is_named(exported: Path, tmp_path: Path) -> None:
    data = bytearray(exported.read_bytes())
    with zipfile.ZipFile(exported) as z:
        info = z.getinfo(bundle.HOURLY)
    data[info.header_offset + 30 + len(info.filename) + 5] ^= 0xFF  # inside its data
    damaged = tmp_path / "d.zip"
    damaged.write_bytes(bytes(data))
    problems = verify_bundle(damaged)
    assert problems
    assert problems[0].startswith(f"{bundle.HOURLY}: ")


def test_an_added_file_and_a_chain_gap_are_named(exported: Path, tmp_path: Path) -> None:
    lines = bundle.read_jsonl(_read(exported, bundle.FRAMES))
    del lines[4]  # a frame taken out of the bundle, manifest forged to match
    changed = {bundle.FRAMES: bundle.jsonl(lines)}
    problems = verify_bundle(
        _resign(exported, tmp_path / "g.zip", changed, Ed25519PrivateKey.generate())
    )
    assert (
        f"frame {lines[4]['id']}: prev_hash is not the hash of frame {lines[3]['id']}" in problems
    )
    extra = _rewrite(exported, tmp_path / "x.zip", {"notes.txt": b"added later"})
    assert verify_bundle(extra) == ["notes.txt: not listed in the manifest (added to the bundle)"]


def test_a_frame_changed_in_the_database_is_caught_at_export(
    server_dsn: str, key_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with fresh_database(server_dsn) as dsn:
        write(dsn, frames(MN, range(3)))
        with psycopg.connect(owner_of(dsn), autocommit=True) as conn:
            (victim,) = conn.execute(
                "SELECT id FROM hj212.frame WHERE cn = '2061' ORDER BY id LIMIT 1"
            ).fetchone() or (None,)
            conn.execute("SET session_replication_role = replica")  # a superuser's bypass
            conn.execute(
                "UPDATE hj212.frame SET raw = set_byte(raw, 60, get_byte(raw, 60) # 1)"
                " WHERE id = %s",
                (victim,),
            )
        args = [
            "evidence",
            "export",
            "--dsn",
            dsn,
            "--mn",
            MN,
            *WINDOW,
            "-o",
            str(tmp_path / "b.zip"),
        ]
        assert main(args) == 1
        err = capsys.readouterr().err
        assert f"hash chain of {MN} is broken at frame {victim}" in err
        assert "hash does not match the frame's content" in err
        assert not (tmp_path / "b.zip").exists()
        with psycopg.connect(dsn) as conn:
            steps = [e.action for e in reversed(audit.entries(conn, mn=MN))]
        assert steps == ["export-start", "export-refused"]
        with pytest.raises(ExportError, match="broken"):
            export_bundle(dsn, MN, DAY, DAY + 6 * H, tmp_path / "c.zip", who="t", key_dir=key_dir)


def test_the_audit_log_shows_every_step_of_a_mark_an_export_and_a_command(
    filled: str, exported: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["command", "send", "--dsn", filled, "--mn", MN, "--cn", "1011"]) == 0
    command_id = json.loads(capsys.readouterr().out)["id"]
    with psycopg.connect(filled) as conn:
        steps = [(e.action, e.target) for e in reversed(audit.entries(conn, mn=MN))]
        assert audit.verify(conn).ok
    mine = [s for s in steps if s[1].startswith(("mark_request", "evidence", "command:"))]
    assert mine[:2] == [("mark", "mark_request:1"), ("review", "mark_request:1")]
    assert mine[-3:] == [
        ("export-start", f"evidence:{MN}"),
        ("export", f"evidence:{MN}"),
        ("command", f"command:{command_id}"),
    ]
    assert ("insert", "data_mark") in steps  # the approved mark itself, by the trigger
    assert ("insert", "command") in steps
    assert main(["audit", "verify", "--dsn", filled]) == 0


def test_a_value_changed_in_the_database_is_caught_by_the_frame_bytes(
    server_dsn: str, key_dir: Path, tmp_path: Path
) -> None:
    """Measurements are not in the chain; their frames are: re-parsing catches the edit."""
    with fresh_database(server_dsn) as dsn:
        write(dsn, frames(MN, range(3)))
        with psycopg.connect(owner_of(dsn), autocommit=True) as conn:
            conn.execute("SET session_replication_role = replica")
            (frame_id,) = conn.execute(
                "UPDATE hj212.measurement SET avg = 2.0 WHERE cn = '2061'"
                " AND pollutant = 'a21026' AND data_time = %s RETURNING frame_id",
                (DAY + H,),
            ).fetchone() or (None,)
        naive = DAY.replace(tzinfo=None)  # Beijing time, as the console may pass it
        out = export_bundle(
            dsn, MN, naive, naive + 6 * H, tmp_path / "v.zip", who="t", key_dir=key_dir
        )
        problems = verify_bundle(out)
    assert len(problems) == 1
    assert json.loads(_read(out, bundle.MANIFEST))["from"] == "2026-10-04T16:00:00.000000+00:00"
    assert problems[0].startswith(f"{bundle.HOURLY}: frame {frame_id}, 2061 a21026 at ")
    assert "avg is 2.0 but the frame's bytes say Avg=20.0" in problems[0]


def test_a_malformed_frame_line_is_reported_not_raised(exported: Path, tmp_path: Path) -> None:
    lines = bundle.read_jsonl(_read(exported, bundle.FRAMES))
    del lines[0]["received_at"]
    changed = {bundle.FRAMES: bundle.jsonl(lines)}
    problems = verify_bundle(
        _resign(exported, tmp_path / "l.zip", changed, Ed25519PrivateKey.generate())
    )
    assert any("malformed line" in p for p in problems)


def test_an_exported_audit_entry_is_checked_against_its_hash(
    exported: Path, tmp_path: Path
) -> None:
    entries = bundle.read_jsonl(_read(exported, bundle.AUDIT))
    assert any(e["action"] == "review" for e in entries)  # the mark's review is in the window
    chained = next(e for e in entries if e["hash"])
    chained["actor"] = "someone else"
    changed = {bundle.AUDIT: bundle.jsonl(entries)}
    forged = _resign(exported, tmp_path / "au.zip", changed, Ed25519PrivateKey.generate())
    assert verify_bundle(forged) == [
        f"{bundle.AUDIT}: entry id {chained['id']} does not match its hash"
    ]
