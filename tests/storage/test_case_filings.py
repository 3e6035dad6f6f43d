"""Reports, notices, reviews and manual samples on a real database (services/case_forms.py,
storage/incidents.py, storage/manual_data.py): every error of a form at once, nothing
stored half, attachments checked by their SHA-256, and the rules runner taking each
filing at the time it was filed, live as in a replay."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from cli.main import main
from protocol import BEIJING
from services import case_forms as forms
from services.case_forms import FormError, NoticeForm, ReportForm, SampleForm, Upload
from services.rules_replay import replay
from services.rules_runner import RulesRunner
from storage import incidents, manual_data
from tests.rules.support import H, gas_station, hourly
from tests.rules_db import register, rules_dsn, store

__all__ = ["rules_dsn"]
pytestmark = [pytest.mark.db]

T0 = datetime(2026, 11, 2, 0, 0, tzinfo=BEIJING)
MN = "CASEFILE01"
PDF = Upload("lab-report.pdf", "application/pdf", b"%PDF-1.4\n1 0 obj <<>> endobj\n%%EOF\n")


Db = psycopg.Connection[tuple[object, ...]]


@pytest.fixture
def conn(rules_dsn: str) -> Iterator[Db]:
    with psycopg.connect(rules_dsn, autocommit=True) as db:
        yield db


def _opened(dsn: str, conn: Db) -> tuple[RulesRunner, Db, int, datetime]:
    """Three good hours, then silence: the runner opens an outage case."""
    register(dsn, [gas_station(MN)], T0 - timedelta(days=1))
    store(dsn, hourly(gas_station(MN), range(3), start=T0))
    runner = RulesRunner(conn)
    runner.start(T0)
    runner.step(T0 + 7 * H)
    row = conn.execute("SELECT id, opened_at FROM hj212.case WHERE mn = %s", (MN,)).fetchone()
    assert row is not None
    ident, opened = row
    assert isinstance(ident, int)
    assert isinstance(opened, datetime)
    return runner, conn, ident, opened


def _sample(case_id: int, taken: datetime, **changes: object) -> SampleForm:
    base: dict[str, object] = {
        "case_id": case_id,
        "pollutant": "a21026",
        "sampled_at": taken,
        "value": 21.5,
        "unit": "mg/m3",
        "method": "HJ 57-2017",
        "laboratory": "Wuhan Test Lab",
        "attachments": (PDF,),
    }
    base.update(changes)
    return SampleForm(**base)  # type: ignore[arg-type]


def _report(case_id: int, opened: datetime, **changes: object) -> ReportForm:
    base: dict[str, object] = {
        "case_id": case_id,
        "kind": "written",
        "cause": "SO2 analyser pump failed",
        "started_at": opened - 3 * H,
        "expected_restore": opened + 30 * H,
        "measures": "pump ordered; manual sampling by Wuhan Test Lab every 5 h",
        "attachments": (PDF,),
    }
    base.update(changes)
    return ReportForm(**base)  # type: ignore[arg-type]


def _count(conn: Db, table: str) -> int:
    row = conn.execute(f"SELECT count(*) FROM hj212.{table}".encode()).fetchone()
    assert row is not None
    assert isinstance(row[0], int)
    return row[0]


def test_a_bad_sample_gets_every_error_and_nothing_is_stored(rules_dsn: str, conn: Db) -> None:
    _, conn, case_id, opened = _opened(rules_dsn, conn)
    bad = _sample(
        case_id,
        opened + 40 * H,  # after the filing time below
        pollutant="a21026",
        value=900.0,  # the analyser's range is 0-200
        unit="ug/m3",
        method="",
        attachments=(Upload("report.pdf", "application/pdf", b"not a pdf"),),
    )
    at = opened + 2 * H
    errors = forms.check_sample(conn, bad, at)
    assert [e.split(":")[0] for e in errors] == [
        "sampled_at",
        "unit",
        "value",
        "method",
        "attachment 1 (report.pdf)",
    ]
    with pytest.raises(FormError) as caught:
        forms.file_sample(conn, bad, "ent", at)
    assert caught.value.errors == errors
    unknown = _sample(case_id, opened + H, pollutant="a99999")
    assert forms.check_sample(conn, unknown, at) == ["pollutant: a99999 is not an HJ 212-2017 code"]
    unregistered = _sample(case_id, opened + H, pollutant="a21005")  # CO: not this station's
    assert forms.check_sample(conn, unregistered, at)[0].startswith("pollutant: a21005 is not reg")
    assert forms.check_sample(conn, _sample(case_id, opened + H, attachments=()), at) == [
        "attachments: the lab report is required"
    ]
    assert (_count(conn, "manual_sample"), _count(conn, "case_attachment")) == (0, 0)


def test_the_database_refuses_an_attachment_whose_hash_is_not_its_content(
    rules_dsn: str, conn: Db
) -> None:
    _, conn, case_id, opened = _opened(rules_dsn, conn)
    ident = forms.file_report(conn, _report(case_id, opened), "ent", opened + H)
    wrong = hashlib.sha256(b"something else").digest()
    with pytest.raises(psycopg.errors.CheckViolation):
        incidents.insert_attachment(
            conn,
            "report",
            ident,
            name="x.txt",
            content_type="text/plain",
            sha256=wrong,
            content=b"text",
        )
    (report,) = incidents.reports(conn, case_id=case_id)
    assert [a.sha256 for a in report.attachments] == [hashlib.sha256(PDF.content).hexdigest()]


def test_reports_and_samples_satisfy_the_case_live_and_in_the_replay(
    rules_dsn: str, conn: Db
) -> None:
    runner, conn, case_id, opened = _opened(rules_dsn, conn)
    # samples every 5 h while the fault lasts, the report at 20 h, acknowledged at 21 h;
    # the runner is behind each filing's time (live: the clock less the settle time)
    report = 0
    for k in range(1, 6):
        taken = opened + k * 5 * H
        runner.step(taken)
        forms.file_sample(conn, _sample(case_id, taken), "ent", taken + timedelta(minutes=3))
        if k == 4:
            report = forms.file_report(conn, _report(case_id, opened), "ent", taken + 4 * H / 60)
            with pytest.raises(FormError, match="another user must review"):
                forms.review_report(conn, report, acknowledge=True, note="", who="ent", at=taken)
            forms.review_report(
                conn, report, acknowledge=True, note="", who="regulator", at=opened + 21 * H
            )
    runner.step(opened + 30 * H)
    steps = {
        r[0]
        for r in conn.execute(
            "SELECT detail->>'step' FROM hj212.alarm WHERE mn = %s AND case_id = %s",
            (MN, case_id),
        )
    }
    assert steps == {None, "restore-reminder-2h", "restore-overdue"}  # None: the outage
    timeline = [
        r[0]
        for r in conn.execute(
            "SELECT kind FROM hj212.case_event WHERE case_id = %s ORDER BY at", (case_id,)
        )
    ]
    assert timeline.count("manual-sample") == 5
    assert "report-filed" in timeline
    assert "report-acknowledged" in timeline
    (stored,) = incidents.reports(conn, case_id=case_id)
    assert (stored.state, stored.late) == ("acknowledged", False)
    assert len(manual_data.samples(conn, case_id=case_id)) == 5
    actions = {
        r[0] for r in conn.execute("SELECT action FROM hj212.audit_log WHERE mn = %s", (MN,))
    }
    assert {"case-report", "case-review", "manual-sample"} <= actions
    result = replay(conn, T0, opened + 30 * H)
    assert result.matches, (result.missing, result.extra)
    assert result.stored > 3


def test_a_returned_report_shows_as_returned_and_replay_agrees(rules_dsn: str, conn: Db) -> None:
    runner, conn, case_id, opened = _opened(rules_dsn, conn)
    # the runner is behind the filing's time (live: the clock less the settle time)
    runner.step(opened + 20 * H - timedelta(minutes=1))
    report = forms.file_report(conn, _report(case_id, opened), "ent", opened + 20 * H)
    with pytest.raises(FormError, match="needs a note"):
        forms.review_report(conn, report, acknowledge=False, note=" ", who="reg", at=opened)
    forms.review_report(
        conn, report, acknowledge=False, note="cause unclear", who="reg", at=opened + 21 * H
    )
    with pytest.raises(FormError, match="is on file"):
        forms.file_report(conn, _report(case_id, opened), "ent", opened + 22 * H)
    runner.step(opened + 26 * H)
    kinds = [
        r[0] for r in conn.execute("SELECT kind FROM hj212.alarm WHERE case_id = %s", (case_id,))
    ]
    assert "case-report-returned" in kinds
    assert incidents.reports(conn, case_id=case_id)[0].review_note == "cause unclear"
    # the correction answers it: the return clears
    forms.file_report(conn, _report(case_id, opened, corrects=report), "ent", opened + 27 * H)
    runner.step(opened + 28 * H)
    row = conn.execute(
        "SELECT cleared_at FROM hj212.alarm WHERE case_id = %s AND kind = 'case-report-returned'",
        (case_id,),
    ).fetchone()
    assert row is not None
    assert row[0] == opened + 27 * H
    result = replay(conn, T0, opened + 28 * H)
    assert result.matches, (result.missing, result.extra)


def test_an_acknowledged_notice_marks_its_window_and_plans_the_outage(
    rules_dsn: str, conn: Db
) -> None:
    register(rules_dsn, [gas_station(MN)], T0 - timedelta(days=1))
    store(rules_dsn, hourly(gas_station(MN), range(3), start=T0))
    runner = RulesRunner(conn)
    runner.start(T0)
    notice = NoticeForm(MN, "planned-stop", T0 + 2 * H, T0 + 30 * H, "boiler overhaul")
    late = NoticeForm(MN, "planned-stop", T0, T0 + 30 * H, "")
    assert forms.check_notice(conn, late, T0 + H) == [
        "start: an advance notice is filed before the stop begins",
        "cause: required",
    ]
    ident = forms.file_notice(conn, notice, "ent", T0 + H)
    forms.review_report(conn, ident, acknowledge=True, note="", who="reg", at=T0 + H)
    runner.step(T0 + 10 * H)
    ((category, period),) = conn.execute(
        "SELECT category, period FROM hj212.data_mark WHERE mn = %s", (MN,)
    ).fetchall()
    assert category == "shutdown"
    assert period.lower == T0 + 2 * H  # type: ignore[attr-defined]
    ((severity, detail),) = conn.execute(
        "SELECT severity, detail FROM hj212.alarm WHERE mn = %s AND kind = 'outage'", (MN,)
    ).fetchall()
    assert severity == "warning"
    assert detail["planned"] == {"notice": ident, "kind": "planned-stop"}  # type: ignore[index]


def test_the_cli_files_reviews_and_shows_with_the_same_checks(
    rules_dsn: str, conn: Db, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, conn, case_id, opened = _opened(rules_dsn, conn)
    lab = tmp_path / "检测报告.pdf"
    lab.write_bytes(PDF.content)
    base = ["--dsn", rules_dsn, "--by", "ent-cli"]
    assert main(["cases", "report", str(case_id), *base, "--measures", "x"]) == 1
    refused = capsys.readouterr().err.splitlines()
    assert refused == [
        "hj212: cause: required",
        "hj212: started_at: required",
        "hj212: expected_restore: required",
    ]
    assert _count(conn, "case_report") == 0
    report = ["cases", "report", str(case_id), *base, "--cause", "泵故障", "--measures", "换泵"]
    report += ["--started", (opened - H).isoformat(), "--expected-restore", "2026-11-03T12:00"]
    assert main([*report, "--attach", str(lab)]) == 0
    report_id = json.loads(capsys.readouterr().out)["id"]
    sample = ["cases", "sample", str(case_id), *base, "--pollutant", "a21026", "--value", "18"]
    sample += ["--at", (opened + H).isoformat(), "--unit", "mg/m3", "--method", "HJ 57-2017"]
    assert main([*sample, "--lab", "武汉检测", "--attach", str(lab)]) == 0
    capsys.readouterr()
    review = ["cases", "review", str(report_id), "--dsn", rules_dsn, "--by", "reg-cli"]
    assert main([*review, "--return", "--note", "请补充原因"]) == 0
    capsys.readouterr()
    assert main(["cases", "show", str(case_id), "--dsn", rules_dsn]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [r["state"] for r in shown["reports"]] == ["returned"]
    assert shown["samples"][0]["unit"] == "mg/m³"
    assert {d["what"]: d["state"] for d in shown["due"]}["report"] == "returned"
    assert shown["samples"][0]["attachments"][0]["name"] == "检测报告.pdf"
