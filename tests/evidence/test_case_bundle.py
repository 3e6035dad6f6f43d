"""The evidence bundle carries a case's reports, reviews, manual samples and their
attachments (docs/regulations.md §6.5); ``hj212 evidence verify`` passes, and one
altered attachment byte fails it, even in a bundle re-signed to match."""

from __future__ import annotations

import base64
import json
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cli.main import main
from evidence import bundle, keys
from services import case_forms as forms
from tests.evidence.support import DAY, H, frames, station, write
from tests.rules_db import fresh_database, register

pytestmark = pytest.mark.db
MN = "EVIDENCECASE000000000001"
WINDOW = ["--from", "2026-10-05T00:00", "--to", "2026-10-05T12:00"]
LAB = b"%PDF-1.4\n% lab report 2026-10-05 a21026 18.2 mg/m3\n%%EOF\n"
PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(64))


@pytest.fixture(scope="module")
def filed(server_dsn: str) -> Iterator[str]:
    """Frames for hours 0-3 and 8-11, a facility case over the gap with its written
    report (a photo), a review returning it, and two manual samples (lab reports)."""
    with fresh_database(server_dsn) as dsn:
        register(dsn, [station(MN)], DAY - timedelta(days=30))
        write(dsn, frames(MN, [0, 1, 2, 3, 8, 9, 10, 11]))
        with psycopg.connect(dsn, autocommit=True) as conn:
            row = conn.execute(
                "INSERT INTO hj212.case (key, mn, kind, opened_at, started_at, report_due,"
                " restore_due) VALUES (%s, %s, 'facility', %s, %s, %s, %s) RETURNING id",
                (f"{MN}:c", MN, DAY + 5 * H, DAY + 4 * H, DAY + 29 * H, DAY + 17 * H),
            ).fetchone()
            assert row is not None
            case_id = int(row[0])
            photo = forms.Upload("现场照片.png", "image/png", PHOTO)
            report = forms.ReportForm(
                case_id, "written", "采样泵损坏", DAY + 4 * H, DAY + 9 * H, "更换采样泵",
                attachments=(photo,),
            )  # fmt: skip
            ident = forms.file_report(conn, report, "enterprise", DAY + 6 * H)
            forms.review_report(
                conn, ident, acknowledge=False, note="请附维修记录", who="regulator",
                at=DAY + 7 * H,
            )  # fmt: skip
            for k, taken in enumerate((DAY + 5 * H, DAY + 8 * H), 1):
                lab = forms.Upload(f"lab-{k}.pdf", "application/pdf", LAB)
                sample = forms.SampleForm(
                    case_id, "a21026", taken, 18.2, "mg/m3", "HJ 57-2017", "武汉检测",
                    (lab,),
                )  # fmt: skip
                forms.file_sample(conn, sample, "lab-user", taken + H / 2)
            conn.execute(
                "UPDATE hj212.case SET state = 'closed', closed_at = %s WHERE id = %s",
                (DAY + 9 * H, case_id),
            )
        yield dsn


@pytest.fixture
def exported(
    filed: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Path:
    monkeypatch.setenv("HJ212_KEY_DIR", str(tmp_path / "keys"))
    out = tmp_path / "bundle.zip"
    assert main(["evidence", "export", "--dsn", filed, "--mn", MN, *WINDOW, "-o", str(out)]) == 0
    capsys.readouterr()
    return out


def _rewrite(src: Path, dst: Path, changes: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for name in zin.namelist():
            zout.writestr(name, changes.get(name, zin.read(name)))
    return dst


def _altered(data: bytes) -> bytes:
    return data[:20] + bytes([data[20] ^ 1]) + data[21:]


def test_the_bundle_carries_the_reports_samples_and_attachments(
    exported: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with zipfile.ZipFile(exported) as z:
        reports = bundle.read_jsonl(z.read(bundle.CASE_REPORTS))
        samples = bundle.read_jsonl(z.read(bundle.CASE_SAMPLES))
        files = bundle.read_jsonl(z.read(bundle.CASE_ATTACHMENTS))
        contents = {
            f["name"]: z.read(bundle.case_attachment_name(f["id"], f["name"])) for f in files
        }
        html = z.read("report/report.html").decode()
    ((report, review),) = [(r, r["reviews"][0]) for r in reports]
    assert (report["kind"], report["state"], review["note"]) == (
        "written",
        "returned",
        "请附维修记录",
    )
    assert [(s["value"], s["unit"]) for s in samples] == [(18.2, "mg/m³")] * 2
    assert contents == {"现场照片.png": PHOTO, "lab-1.pdf": LAB, "lab-2.pdf": LAB}
    assert all(f["sha256"] == bundle.sha256(contents[f["name"]]) for f in files)
    assert "人工监测数据" in html
    assert "已退回" in html
    assert main(["evidence", "verify", str(exported)]) == 0
    assert "OK" in capsys.readouterr().out.upper()


def test_one_altered_attachment_byte_fails_verification(
    exported: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with zipfile.ZipFile(exported) as z:
        ((ident, name),) = [
            (f["id"], f["name"])
            for f in bundle.read_jsonl(z.read(bundle.CASE_ATTACHMENTS))
            if f["name"] == "lab-2.pdf"
        ]
        target = bundle.case_attachment_name(ident, name)
        changed = {target: _altered(z.read(target))}
        manifest = json.loads(z.read(bundle.MANIFEST))
    tampered = _rewrite(exported, tmp_path / "t.zip", changed)
    assert main(["evidence", "verify", str(tampered)]) == 1
    out = capsys.readouterr().out
    assert f"{target}: SHA-256 differs from the manifest" in out
    # a forger re-signs a manifest that matches: the SHA-256 recorded at filing still fails
    for file, data in changed.items():
        manifest["files"][file] = {"sha256": bundle.sha256(data), "size": len(data)}
    forger = Ed25519PrivateKey.generate()
    public = keys.public_pem(forger.public_key())
    manifest["files"][bundle.PUBLIC_KEY] = {"sha256": bundle.sha256(public), "size": len(public)}
    body = (bundle.dumps(manifest) + "\n").encode()
    changed |= {
        bundle.MANIFEST: body,
        bundle.SIGNATURE: base64.b64encode(forger.sign(body)),
        bundle.PUBLIC_KEY: public,
    }
    forged = _rewrite(exported, tmp_path / "f.zip", changed)
    assert main(["evidence", "verify", str(forged)]) == 1
    out = capsys.readouterr().out
    assert f"{target}: SHA-256 differs from the one recorded when it was filed" in out
