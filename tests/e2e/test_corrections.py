"""Issue 18, Done-when 2: a missing hour substituted by rule and wrong hours corrected,
each reviewed, through the CLI on a real database with frames written by the real
writer; the rules engine re-judges them live, the figures change as docs/corrections.md
§3 says, exceedance ignores the substituted hour, the raw archive still verifies and
``rules replay`` over the window matches. And a mark approved late re-judges the hours
it covers; a mark or a correction proposed after the window is refused.

Times are real (the CLI acts at the clock's now): the data are the day before now.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from cli.main import main
from evidence.verify import verify_bundle
from protocol import BEIJING, encode
from reports import emissions, transmission
from reports.model import Table
from reports.periods import parse
from rules.config import Ruleset
from rules.emissions import Total
from rules.transmission import Tally
from services import corrections as service
from services.case_forms import FormError
from services.figures import figures
from services.rules_replay import replay
from services.rules_runner import RulesRunner
from storage import corrections as store
from storage import marks
from tests.evidence.support import station, write
from tests.rules.support import START, hourly, water_station
from tests.rules_db import register, rules_dsn
from tests.rules_db import store as store_records

__all__ = ["rules_dsn"]
pytestmark = [pytest.mark.db]

MN = "CORRECT0001"
H = timedelta(hours=1)
SO2, FLOW = "a21026", "a00000"
Db = psycopg.Connection[tuple[object, ...]]


def _t0() -> datetime:
    """Start of the day of data: 30 whole hours before now (Beijing)."""
    now = datetime.now(BEIJING)
    return now.replace(minute=0, second=0, microsecond=0) - 30 * H


def _values(h: int) -> dict[str, dict[str, object]]:
    wobble = 1 + ((h * 37) % 11 - 5) / 100
    base = {SO2: 20.0, "a21002": 30.0, "a34013": 4.0, "a19001": 9.0, FLOW: 100.0}
    values: dict[str, dict[str, object]] = {
        c: {"Min": round(v * wobble, 2), "Avg": round(v * wobble, 2), "Max": round(v * wobble, 2),
            "Flag": "N"}
        for c, v in base.items()
    }  # fmt: skip
    if h == 10:  # a wrong value: the analyser's range was set wrong
        values[SO2] = {"Min": 80.0, "Avg": 80.0, "Max": 80.0, "Flag": "N"}
    if h == 15:  # flagged faulty by the device
        values[SO2] = {"Min": 25.0, "Avg": 25.0, "Max": 25.0, "Flag": "D"}
    return values


def _frames(t0: datetime, hours: range, skip: int) -> list[tuple[datetime, bytes]]:
    out = []
    for h in hours:
        if h == skip:
            continue  # the missing hour: nothing arrived
        at = t0 + h * H
        sent = encode.upload("2061", data_time=at, values=_values(h), qn=encode.new_qn(at + H),
                             st="31", pw="123456", mn=MN)  # fmt: skip
        out += [(at + H + timedelta(seconds=5), raw) for raw in sent]
    return out


@pytest.fixture
def conn(rules_dsn: str) -> Iterator[Db]:
    with psycopg.connect(rules_dsn, autocommit=True) as db:
        yield db


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict[str, object]]]:
    code = main(list(args))
    out = capsys.readouterr().out
    return code, [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def _so2(conn: Db, t0: datetime) -> tuple[Total, Total, Tally]:
    found = figures(conn, t0, t0 + 24 * H, now=datetime.now(UTC), ruleset=Ruleset(), mns={MN})
    (one,) = found.stations
    totals = one.emission_totals()
    return totals[SO2], totals[FLOW], one.factor_rates()[SO2]


def _rows(table: Table) -> list[dict[str, object]]:
    return [dict(zip(table.columns, r, strict=True)) for r in table.rows]


def _alarms(conn: Db, kind: str) -> list[tuple[object, ...]]:
    """key, data_time, lifecycle state, detail, the note of its last lifecycle step."""
    return conn.execute(
        "SELECT key, data_time, state, detail, (SELECT note FROM hj212.alarm_action x"
        " WHERE x.alarm_id = a.id ORDER BY x.id DESC LIMIT 1)"
        " FROM hj212.alarm a WHERE mn = %s AND kind = %s ORDER BY raised_at",
        (MN, kind),
    ).fetchall()


def _setup(dsn: str, conn: Db) -> tuple[RulesRunner, datetime]:
    t0 = _t0()
    register(dsn, [station(MN)], t0 - timedelta(days=1))
    assert set(write(dsn, _frames(t0, range(24), skip=5))) == {"ok"}
    runner = RulesRunner(conn)
    runner.start(t0)
    runner.step(datetime.now(UTC) - timedelta(seconds=1))
    return runner, t0


def test_substitution_and_corrections_reviewed_change_the_figures_as_documented(
    rules_dsn: str,
    conn: Db,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runner, t0 = _setup(rules_dsn, conn)
    (exceeded,) = _alarms(conn, "exceedance")
    assert exceeded[1] == t0 + 10 * H
    assert exceeded[2] == "open"
    so2, flow, rate = _so2(conn, t0)
    common = ["--dsn", rules_dsn, "--mn", MN]

    def at(h: int) -> str:
        return (t0 + h * H).isoformat()

    # refused, every one with its reason, and nothing stored
    code, _ = _cli(capsys, "corrections", "propose", *common, "--pollutant", SO2, "--at", at(10),
                   "--value", "-3", "--reason", " ", "--by", "ent")  # fmt: skip
    assert code == 1
    code, _ = _cli(capsys, "corrections", "propose", *common, "--pollutant", SO2, "--at", at(5),
                   "--value", "20", "--reason", "r", "--by", "ent")  # fmt: skip
    assert code == 1  # nothing was stored for hour 5: a substitution, not a correction
    old = (t0 - timedelta(days=11)).isoformat()
    code, _ = _cli(capsys, "corrections", "propose", *common, "--pollutant", SO2, "--at", old,
                   "--value", "20", "--reason", "r", "--by", "ent")  # fmt: skip
    assert code == 1
    assert conn.execute("SELECT count(*) FROM hj212.correction").fetchone() == (0,)

    ids = []
    for code_, h in ((SO2, 5), (FLOW, 5)):
        code, rows = _cli(capsys, "corrections", "substitute", *common, "--pollutant", code_,
                          "--at", at(h), "--rule", "hj75-mean-adjacent",
                          "--reason", "通讯中断 1 h", "--by", "ent")  # fmt: skip
        assert code == 0, capsys.readouterr().err
        ids.append(int(str(rows[0]["id"])))
    substituted = json.loads(json.dumps(rows[0]))
    assert substituted["new_value"] == pytest.approx(
        (_values(4)[FLOW]["Avg"] + _values(6)[FLOW]["Avg"]) / 2  # type: ignore[operator]
    )
    for h, value in ((10, "20"), (15, "21")):
        code, rows = _cli(capsys, "corrections", "propose", *common, "--pollutant", SO2,
                          "--at", at(h), "--value", value, "--reason", "量程设置错误, 运维记录",
                          "--by", "ent")  # fmt: skip
        assert code == 0, capsys.readouterr().err
        assert rows[0]["original"] == {10: 80.0, 15: 25.0}[h]
        ids.append(int(str(rows[0]["id"])))
    # nothing changes before review; the proposer cannot review its own
    assert _so2(conn, t0) == (so2, flow, rate)
    code, _ = _cli(capsys, "corrections", "review", str(ids[0]), "--approve", "--by", "ent",
                   "--dsn", rules_dsn)  # fmt: skip
    assert code == 1
    for ident in ids:
        code, rows = _cli(capsys, "corrections", "review", str(ident), "--approve",
                          "--by", "regulator", "--dsn", rules_dsn)  # fmt: skip
        assert code == 0, capsys.readouterr().err
        assert rows[0]["state"] == "approved"
    runner.step(datetime.now(UTC))

    # the engine re-judged: hour 10's exceedance is cleared, saying why; no exceedance
    # was judged on the substituted hour 5 (nor on hour 15, corrected under the limit)
    (after,) = _alarms(conn, "exceedance")
    assert after[0] == exceeded[0]
    assert after[2] == "closed"
    assert "re-judged: correction" in str(after[4])
    notes = {str(r[0]): r[3] for r in _alarms(conn, "rejudged")}
    assert len(notes) == 4
    assert notes[f"{MN}:rejudged:correction:{ids[2]}"]["cleared"] == [exceeded[0]]  # type: ignore[index]
    assert "never judged" in notes[f"{MN}:rejudged:correction:{ids[0]}"]["judged"]  # type: ignore[index]

    # the figures (docs/corrections.md §3): amounts apart, rates as documented
    new_so2, new_flow, new_rate = _so2(conn, t0)
    m3 = {h: float(_values(h)[FLOW]["Avg"]) * 3600 for h in (10, 15)}  # type: ignore[arg-type]
    sub_m3 = float(substituted["new_value"]) * 3600
    assert (new_so2.substituted_hours, new_so2.corrected_hours) == (1, 2)
    assert new_so2.hours == so2.hours + 1
    assert new_so2.measured == pytest.approx(so2.computed - (80 * m3[10] + 25 * m3[15]) * 1e-6)
    assert new_so2.corrected == pytest.approx((20 * m3[10] + 21 * m3[15]) * 1e-6)
    mean_so2 = (float(_values(4)[SO2]["Avg"]) + float(_values(6)[SO2]["Avg"])) / 2  # type: ignore[arg-type]
    assert new_so2.substituted == pytest.approx(mean_so2 * sub_m3 * 1e-6)
    assert new_so2.computed == pytest.approx(
        new_so2.measured + new_so2.substituted + new_so2.corrected
    )
    assert new_flow.substituted_hours == 1
    assert new_flow.computed == pytest.approx(flow.computed + sub_m3)
    # the reports carry the same figures in their own columns (the 24 h span two days)
    days = sorted({(t0 + h * H).strftime("%Y-%m-%d") for h in (0, 23)})
    reported = {"substituted_h": 0, "corrected_h": 0, "corrected": 0.0, "rate_corrected_h": 0}
    for label in days:
        report = emissions.build(conn, parse(label), Ruleset(), now=datetime.now(UTC))
        for row in _rows(report.tables[0]):
            if row["level"] == "station" and row["item"] == SO2:
                for key in ("substituted_h", "corrected_h", "corrected"):
                    reported[key] += row[key]  # type: ignore[operator]
        rates = transmission.build(conn, parse(label), Ruleset(), now=datetime.now(UTC))
        for row in _rows(rates.tables[0]):
            if row["level"] == "pollutant" and row["pollutant"] == SO2:
                reported["rate_corrected_h"] += row["corrected_h"]  # type: ignore[operator]
    assert (reported["substituted_h"], reported["corrected_h"]) == (1, 2)
    assert reported["corrected"] == pytest.approx(new_so2.corrected, abs=0.002)
    assert reported["rate_corrected_h"] == 2
    # a substituted hour stays missing; the corrected invalid hour counts valid, 补全 only
    assert (new_rate.expected, new_rate.received) == (rate.expected, rate.received)
    assert new_rate.valid == rate.valid + 1
    assert (new_rate.received_rt, new_rate.valid_rt) == (rate.received_rt, rate.valid_rt)

    # the raw values and the archive are untouched
    stored = conn.execute(
        "SELECT avg FROM hj212.measurement WHERE mn = %s AND pollutant = %s AND data_time = %s",
        (MN, SO2, t0 + 10 * H),
    ).fetchone()
    assert stored == (80.0,)
    assert main(["db", "verify-chain", "--dsn", rules_dsn]) == 0
    # an evidence bundle of the window verifies (every frame re-parsed against the stored
    # values) and its figures carry the substituted and corrected amounts apart
    monkeypatch.setenv("HJ212_KEY_DIR", str(tmp_path / "keys"))
    bundle_zip = tmp_path / "bundle.zip"
    window = ["--from", t0.isoformat(), "--to", (t0 + 24 * H).isoformat()]
    assert main(["evidence", "export", *common, *window, "-o", str(bundle_zip)]) == 0
    assert verify_bundle(bundle_zip) == []
    with zipfile.ZipFile(bundle_zip) as z:
        exported = json.loads(z.read("figures/figures.json"))["emissions"][SO2]
    assert (exported["substituted_hours"], exported["corrected_hours"]) == (1, 2)
    assert exported["corrected"] == pytest.approx(new_so2.corrected)
    capsys.readouterr()
    code, listed = _cli(capsys, "corrections", "list", "--dsn", rules_dsn, "--mn", MN)
    assert code == 0
    assert sorted(int(str(r["id"])) for r in listed) == sorted(ids)
    assert {r["state"] for r in listed} == {"approved"}
    code, shown = _cli(capsys, "corrections", "show", str(ids[0]), "--dsn", rules_dsn)
    assert (code, shown[0]["rule"], shown[0]["kind"]) == (0, "hj75-mean-adjacent", "substitution")
    actions = {
        r[0]
        for r in conn.execute(
            "SELECT action FROM hj212.audit_log WHERE object LIKE 'correction:%%'"
        )
    }
    assert {"substitution", "correction", "review"} <= actions
    result = replay(conn, t0, datetime.now(UTC))
    assert result.matches, (result.missing, result.extra)
    assert result.stored >= 6


def test_a_mark_approved_late_rejudges_and_one_past_the_window_is_refused(
    rules_dsn: str, conn: Db, capsys: pytest.CaptureFixture[str]
) -> None:
    runner, t0 = _setup(rules_dsn, conn)
    (exceeded,) = _alarms(conn, "exceedance")
    old = (t0 - timedelta(days=11)).isoformat()
    code = main(["marks", "add", "--dsn", rules_dsn, "--mn", MN, "--from", old,
                 "--to", (t0 - timedelta(days=10, hours=20)).isoformat(), "--kind", "calibration",
                 "--reason", "late", "--by", "ent"])  # fmt: skip
    assert code == 1
    assert "outside the correction window" in capsys.readouterr().err
    code = main(["marks", "add", "--dsn", rules_dsn, "--mn", MN, "--from", (t0 + 9 * H).isoformat(),
                 "--to", (t0 + 12 * H).isoformat(), "--kind", "calibration",
                 "--pollutant", SO2, "--reason", "标定, 运维记录", "--by", "ent"])  # fmt: skip
    assert code == 0
    (request,) = marks.list_requests(conn, mn=MN)
    assert main(["marks", "review", str(request.id), "--approve", "--by", "regulator",
                 "--dsn", rules_dsn]) == 0  # fmt: skip
    runner.step(datetime.now(UTC))
    (after,) = _alarms(conn, "exceedance")
    assert after[2] == "closed"  # withdrawn: a marked hour is not judged
    assert "公告2022年第21号" in str(after[4])
    (note,) = _alarms(conn, "rejudged")
    assert note[3]["cleared"] == [exceeded[0]]  # type: ignore[index]
    result = replay(conn, t0, datetime.now(UTC))
    assert result.matches, (result.missing, result.extra)


def test_a_substitution_takes_a_corrected_neighbour_and_a_region_window(
    rules_dsn: str, conn: Db
) -> None:
    _, t0 = _setup(rules_dsn, conn)
    now = datetime.now(UTC)
    fix = service.CorrectionForm(MN, SO2, t0 + 4 * H, "correction", "量程错误", new_value=10.0)
    ident = service.propose(conn, fix, "ent", now, Ruleset())
    service.review(conn, ident, "approved", "regulator", "", now)
    gap = service.CorrectionForm(MN, SO2, t0 + 5 * H, "substitution", "通讯中断",
                                 rule="hj75-mean-adjacent")  # fmt: skip
    made = store.get(conn, service.propose(conn, gap, "ent", now, Ruleset()))
    assert made is not None
    assert made.new_value == pytest.approx((10.0 + float(_values(6)[SO2]["Avg"])) / 2)  # type: ignore[arg-type]
    assert made.basis["before"] == {"hour": (t0 + 4 * H).isoformat(), "value": 10.0}
    # a region with a window of one day refuses what the default (10 days) accepts
    strict = Ruleset(regions={"4201": {"correction_window_days": 1}})
    late = service.CorrectionForm(MN, SO2, t0 + 2 * H, "correction", "r", new_value=9.0)
    assert service.check(conn, late, now, Ruleset()) == []
    (refusal,) = service.check(conn, late, now, strict)
    assert refusal.startswith("data_time:")
    assert "within 1 days" in refusal


def test_two_proposals_for_one_hour_get_one_approval(rules_dsn: str, conn: Db) -> None:
    _, t0 = _setup(rules_dsn, conn)
    now = datetime.now(UTC)
    # two proposals that passed their checks at the same moment (the check reads first)
    twins = [
        store.insert(
            conn,
            store.Proposal(MN, SO2, t0 + 7 * H, 20.0, v, "correction", None, {}, "r"),
            "ent",
            now,
        )
        for v in (11.0, 12.0)
    ]
    service.review(conn, twins[0], "approved", "regulator", "", now)
    with pytest.raises(FormError, match="in force already"):
        service.review(conn, twins[1], "approved", "regulator", "", now)
    rejected = service.review(conn, twins[1], "rejected", "regulator", "重复申请", now)
    assert rejected.state == "rejected"


def test_a_corrected_water_hour_withdraws_its_days_exceedance_live_and_in_replay(
    rules_dsn: str, conn: Db
) -> None:
    water = water_station("WATERFIX01")  # COD: a daily limit of 50 mg/L
    register(rules_dsn, [water], START - timedelta(days=30))
    store_records(rules_dsn, hourly(water, range(24), w01018=52.0))
    runner = RulesRunner(conn)
    runner.start(START)
    runner.step(START + 26 * H)
    (day,) = conn.execute(
        "SELECT key FROM hj212.alarm WHERE mn = %s AND kind = 'exceedance'", (water.mn,)
    ).fetchall()
    at = START + 27 * H
    form = service.CorrectionForm(water.mn, "w01018", START + 5 * H, "correction",
                                  "仪表量程设置错误", new_value=2.0)  # fmt: skip
    ident = service.propose(conn, form, "ent", at, Ruleset())
    service.review(conn, ident, "approved", "regulator", "核实", at + timedelta(minutes=1))
    runner.step(START + 28 * H)
    state, note = conn.execute(
        "SELECT state, (SELECT note FROM hj212.alarm_action x WHERE x.alarm_id = a.id)"
        " FROM hj212.alarm a WHERE key = %s",
        (day[0],),
    ).fetchone() or (None, None)
    assert state == "closed"
    assert "daily mean" in str(note)
    result = replay(conn, START, START + 28 * H)
    assert result.matches, (result.missing, result.extra)
