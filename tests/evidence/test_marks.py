"""Marks (标记): proposed by the enterprise, they change nothing until a regulator
approves them; approved, they change the rates as docs/regulations.md §1.3 says."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from cli.main import main
from rules.config import RulesConfig
from rules.rates import day_tallies
from rules.times import us
from rules.transmission import Tally
from storage import audit, marks, reports_queries
from tests.evidence.support import DAY, H, frames, station, write
from tests.rules_db import fresh_database, register

pytestmark = pytest.mark.db
MN = "MARKS000000000000000001"


@pytest.fixture
def day_dsn(server_dsn: str) -> Iterator[str]:
    """A station with 20 of 24 hourly records of one day: hours 10-13 never arrived."""
    with fresh_database(server_dsn) as dsn:
        register(dsn, [station(MN)], DAY - timedelta(days=30))
        write(dsn, frames(MN, [h for h in range(24) if not 10 <= h < 14], realtime=False))
        yield dsn


def _day(dsn: str) -> Tally:
    with psycopg.connect(dsn) as conn:
        data = reports_queries.period_data(conn, [MN], DAY, DAY + 24 * H)[MN]
    tallies = day_tallies(
        station(MN), RulesConfig(), data.hours, data.minutes, data.marks,
        us(DAY), us(DAY + 24 * H), data.minute_hours, now=us(DAY + 25 * H),
    )  # fmt: skip
    return sum((t for days in tallies.values() for t in days.values()), Tally())


def test_an_approved_shutdown_mark_takes_its_hours_out_of_the_period(
    day_dsn: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = _day(day_dsn)
    assert (before.expected, before.received, before.valid) == (72, 60, 60)  # 3 factors
    notice = tmp_path / "停产通知.pdf"
    notice.write_bytes(b"%PDF-1.4 the plant's shutdown notice")
    # the day is months old: a region whose window reaches it (docs/corrections.md §2)
    rules = tmp_path / "rules.toml"
    rules.write_text("[rules]\ncorrection_window_days = 36500\n")
    environ = os.environ.get("HJ212_RULES_CONFIG")
    args = ["--rules-config", str(rules), "marks", "add", "--dsn", day_dsn, "--mn", MN]
    args += ["--kind", "shutdown"]
    args += ["--from", "2026-10-05T10:00", "--to", "2026-10-05T14:00", "--by", "enterprise-e1"]
    args += ["--reason", "锅炉检修停运", "--attach", str(notice)]
    assert main(args) == 0
    assert os.environ.get("HJ212_RULES_CONFIG") == environ  # not left for later commands
    ident = json.loads(capsys.readouterr().out)["id"]
    assert _day(day_dsn) == before  # a proposal changes nothing

    with psycopg.connect(day_dsn) as conn, pytest.raises(marks.MarkError, match="another user"):
        marks.review(conn, ident, approve=True, who="enterprise-e1")
    review = ["marks", "review", str(ident), "--approve", "--by", "regulator-wh"]
    assert main([*review, "--dsn", day_dsn, "--note", "通知已核实"]) == 0
    after = _day(day_dsn)
    assert (after.expected, after.received, after.valid, after.shutdown) == (60, 60, 60, 12)
    assert after.completion.etr == 1.0
    assert before.completion.etr == 60 / 72

    assert main(["marks", "list", "--dsn", day_dsn, "--mn", MN]) == 0
    (listed,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()[-1:]]
    assert listed["state"] == "approved"
    assert listed["reviewed_by"] == "regulator-wh"
    # machine output: ISO 8601 in Beijing time (it printed 2026-10-05 02:00:00+00:00)
    assert listed["start"] == "2026-10-05T10:00:00+08:00"
    (attachment,) = listed["attachments"]
    assert attachment["name"] == "停产通知.pdf"
    assert attachment["sha256"] == hashlib.sha256(notice.read_bytes()).hexdigest()
    with psycopg.connect(day_dsn) as conn:
        steps = [(e.action, e.actor) for e in reversed(audit.entries(conn, mn=MN))]
        assert audit.verify(conn).ok
    assert "read" in [action for action, _ in steps]  # the marks list itself
    assert ("mark", "enterprise-e1") in steps
    assert ("review", "regulator-wh") in steps


def test_maintenance_marks_invalidate_and_rejected_marks_do_nothing(day_dsn: str) -> None:
    with psycopg.connect(day_dsn) as conn:
        kept = marks.add(
            conn, mn=MN, start=DAY, end=DAY + 2 * H, kind="calibration",
            reason="季度校准", who="ops", pollutant="a21026",
        )  # fmt: skip
        refused = marks.add(
            conn, mn=MN, start=DAY + 2 * H, end=DAY + 8 * H, kind="force-majeure",
            reason="暴雨", who="ops",
        )  # fmt: skip
        marks.review(conn, kept, approve=True, who="reg")
        assert marks.review(conn, refused, approve=False, who="reg", note="无证明") is None
        with pytest.raises(marks.MarkError, match="already rejected"):
            marks.review(conn, refused, approve=True, who="reg")
    day = _day(day_dsn)
    # calibration: SO2's hours 0-1 received but invalid; the rejected mark changes nothing
    assert (day.expected, day.received, day.valid) == (72, 60, 58)
