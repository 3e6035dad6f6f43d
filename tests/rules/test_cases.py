"""Outage and facility cases: deadlines across midnight and month ends, the timeline."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from protocol import BEIJING
from rules.cases import deadlines, next_step, steps
from rules.config import RulesConfig
from rules.engine import Engine
from rules.times import us
from tests.rules.support import (
    GOOD_GAS,
    START,
    H,
    Value,
    alarms,
    case_events,
    clears,
    engine,
    gas_station,
    hourly,
    record,
    run,
    varied,
    water_station,
)

CFG = RulesConfig()


def _bj(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=BEIJING)


@pytest.mark.parametrize(
    ("medium", "opened", "report", "restore"),
    [
        # gas, across midnight and the end of October
        ("gas", "2026-10-31 21:00:05", "2026-11-01 21:00:05", "2026-11-01 09:00:05"),
        # water, across the end of a non-leap February
        ("water", "2027-02-27 10:00:00", "2027-02-28 10:00:00", "2027-03-01 10:00:00"),
        # water in a leap year
        ("water", "2028-02-28 10:00:00", "2028-02-29 10:00:00", "2028-03-01 10:00:00"),
        # gas across the year end
        ("gas", "2026-12-31 23:30:00", "2027-01-01 23:30:00", "2027-01-01 11:30:00"),
    ],
)
def test_deadline_arithmetic(medium: str, opened: str, report: str, restore: str) -> None:
    report_due, restore_due = deadlines(us(_bj(opened)), medium, CFG)
    assert (report_due, restore_due) == (us(_bj(report)), us(_bj(restore)))


def test_steps_are_in_time_order_and_skip_reminders_before_opening() -> None:
    opened = us(_bj("2026-10-31 21:00:05"))
    report_due, restore_due = deadlines(opened, "gas", CFG)
    labels = [label for _, label in steps(opened, report_due, restore_due, CFG)]
    assert labels == [
        "restore-reminder-2h",
        "restore-overdue",
        "report-reminder-2h",
        "report-overdue",
    ]
    short = RulesConfig(restore_due_gas_h=1.0)
    _, soon = deadlines(opened, "gas", short)
    assert "restore-reminder-2h" not in [
        label for _, label in steps(opened, report_due, soon, short)
    ]
    assert next_step(opened, report_due, restore_due, [], 1, CFG)[1] == "manual-sampling-1"


def test_an_outage_case_runs_its_whole_timeline_and_closes_when_data_resume() -> None:
    station = gas_station()
    day = _bj("2026-10-31 00:00")
    e = engine(station, start=day)
    silence_from = day + 18 * H  # the 17:00 hour was the last one, received 18:00:05
    out = run(e, hourly(station, range(18), start=day), _bj("2026-11-01 22:00"))
    events = [
        (ev.kind, ev.at.astimezone(BEIJING).strftime("%m-%d %H:%M:%S")) for ev in case_events(out)
    ]
    assert events == [
        ("opened", "10-31 21:00:05"),  # 3 x the hourly interval after 18:00:05
        ("manual-sampling-1", "11-01 03:00:05"),
        ("restore-reminder-2h", "11-01 07:00:05"),
        # no sample entered: the second one missing in a row escalates (docs/regulations.md §6.5)
        ("manual-sampling-missed-2", "11-01 09:00:05"),
        ("restore-overdue", "11-01 09:00:05"),  # gas: 12 h, across midnight and month end
        ("manual-sampling-missed-3", "11-01 15:00:05"),
        ("report-reminder-2h", "11-01 19:00:05"),
        ("manual-sampling-missed-4", "11-01 21:00:05"),
        ("report-overdue", "11-01 21:00:05"),  # 24 h
    ]
    opened = case_events(out)[0]
    assert opened.detail["started_at"] == (silence_from + timedelta(seconds=5)).isoformat()
    assert opened.detail["restore_due"] == "2026-11-01T09:00:05+08:00"
    outage = alarms(out, "outage")
    assert len(outage) == 1
    assert outage[0].severity == "critical"
    assert outage[0].case_key == opened.case_key
    overdue = alarms(out, "case-overdue")
    assert [a.severity for a in overdue] == ["critical", "critical"]
    assert all(a.case_key == opened.case_key for a in overdue)
    # valid data again: the case closes, its alarm clears, no more reminders
    back = hourly(station, range(26), start=_bj("2026-11-01 21:00"))
    later = run(e, back, _bj("2026-11-03 00:00"))
    assert [ev.kind for ev in case_events(later)] == ["closed"]
    assert opened.case_key in [c.key for c in clears(later)]
    assert e.states[station.mn].cases == {}


def test_a_water_case_has_48_hours_to_restore() -> None:
    station = water_station()
    e = engine(station)
    out = run(e, hourly(station, range(3)), START + timedelta(days=3))
    opened = case_events(out)[0]
    assert opened.kind == "opened"
    assert (
        opened.detail["restore_due"]
        == (opened.at + timedelta(hours=48)).astimezone(BEIJING).isoformat()
    )


def test_deadlines_are_configurable_per_region() -> None:
    from rules.config import ruleset_from

    ruleset = ruleset_from({"region": {"50": {"report_due_h": 12, "restore_due_gas_h": 120}}})
    chongqing = gas_station("CQ1", region_code="500101")
    hubei = gas_station("HB1", region_code="420100")
    e = Engine(ruleset, origin=START, stations=[chongqing, hubei])
    out = run(e, [], START + timedelta(hours=4))
    opened = {ev.mn: ev for ev in case_events(out) if ev.kind == "opened"}
    assert set(opened) == {"CQ1", "HB1"}  # never heard from: silent from the start
    cq, hb = opened["CQ1"].detail, opened["HB1"].detail
    assert (
        cq["report_due"] == (opened["CQ1"].at + timedelta(hours=12)).astimezone(BEIJING).isoformat()
    )
    assert (
        cq["restore_due"]
        == (opened["CQ1"].at + timedelta(hours=120)).astimezone(BEIJING).isoformat()
    )
    assert (
        hb["report_due"] == (opened["HB1"].at + timedelta(hours=24)).astimezone(BEIJING).isoformat()
    )


def test_a_fault_flag_for_an_hour_opens_a_facility_case_for_that_factor() -> None:
    station = gas_station()
    e = engine(station)
    inputs = []
    for i in range(200):  # real-time data every 30 s
        at = START + timedelta(seconds=30 * i)
        values = dict(varied(GOOD_GAS, i))
        flag = "D" if 20 <= i < 160 else "N"
        inputs.append(
            record(station.mn, at, {**values, "a21002": (values["a21002"], flag)}, cn="2011")
        )
    out = run(e, inputs, START + timedelta(hours=1, minutes=40))
    events = case_events(out)
    assert [ev.kind for ev in events] == ["opened", "closed"]
    assert events[0].detail["pollutant"] == "a21002"
    # opened once the D run reached 60 min (20 -> 140), closed by the first N after it
    assert events[0].at == START + timedelta(seconds=30 * 140 + 5)  # received 5 s after
    assert events[1].at == START + timedelta(seconds=30 * 160 + 5)
    assert len(alarms(out, "facility")) == 1


def test_planned_maintenance_under_a_mark_opens_no_case() -> None:
    from tests.rules.support import mark

    station = gas_station()
    e = engine(station)
    window = mark(station.mn, START, START + timedelta(hours=4), "维护")
    inputs: list[object] = [window]
    for i in range(400):
        at = START + timedelta(seconds=30 * i)
        values = dict(varied(GOOD_GAS, i))
        so2 = (values["a21026"], "M")
        inputs.append(record(station.mn, at, {**values, "a21026": so2}, cn="2011"))
    until = START + timedelta(hours=3, minutes=15)
    assert case_events(run(e, inputs, until)) == []  # type: ignore[arg-type]
    # the same without the mark: an M run over 120 min is a facility problem (A22)
    unmarked = engine(station)
    opened = case_events(run(unmarked, inputs[1:], until))  # type: ignore[arg-type]
    assert [(ev.kind, ev.detail["pollutant"]) for ev in opened] == [("opened", "a21026")]


def test_a_factor_missing_while_the_others_arrive_opens_a_facility_case() -> None:
    station = gas_station()
    e = engine(station)
    records = hourly(station, range(3))
    gap = record(
        station.mn, START + 3 * H, {k: v for k, v in varied(GOOD_GAS, 3).items() if k != "a34013"}
    )
    out = run(
        e, [*records, gap, *hourly(station, range(4, 6))], START + 6 * H + timedelta(minutes=20)
    )
    events = case_events(out)
    assert [(ev.kind, ev.detail.get("pollutant")) for ev in events][:1] == [("opened", "a34013")]
    assert events[0].detail["cause"] == "factor missing"
    assert events[-1].kind == "closed"


def test_a_factor_back_before_its_last_missing_hour_is_judged_opens_one_case_only() -> None:
    """SO2 left out of every upload 02:00-06:00, real-time data every 5 min: the case
    opens when 02:00 is judged (03:10) and closes with the first real-time SO2 at 06:00;
    hour 05:00, judged at 06:10 after SO2 came back, opens no second case."""
    station = gas_station(rt_interval_s=300)
    inputs = []
    for minute in range(0, 8 * 60, 5):
        at = START + timedelta(minutes=minute)
        values = varied(GOOD_GAS, minute)
        if 2 * H <= at - START < 6 * H:
            del values["a21026"]
        inputs.append(record(station.mn, at, values, cn="2011"))
        if minute % 60 == 55:  # the hour record, made at the end of its hour
            hour = at - timedelta(minutes=55)
            hourly_values = varied(GOOD_GAS, minute // 60)
            if 2 * H <= hour - START < 6 * H:
                del hourly_values["a21026"]
            inputs.append(record(station.mn, hour, hourly_values))
    inputs.sort(key=lambda r: r.received_at)
    events = case_events(run(engine(station), inputs, START + 8 * H))
    timeline = [(ev.kind, ev.at) for ev in events]
    assert timeline == [
        ("opened", START + 3 * H + timedelta(minutes=10)),
        ("closed", START + 6 * H + timedelta(seconds=5)),
    ]
    assert events[0].detail["started_at"] == "2026-10-01T02:00:00+08:00"


def test_a_daily_record_valid_by_its_earlier_hours_does_not_end_a_facility_case() -> None:
    """NOx flagged D from 22:30 on; the daily record of that day comes at midnight with
    flag N (22.5 of 24 hours valid): it says nothing of the time after 22:30, so the
    case opened at 23:30 stays open, and no second case opens an hour later."""
    station = gas_station(rt_interval_s=300)
    inputs = []
    for minute in range(22 * 60, 27 * 60, 5):
        values: dict[str, Value] = dict(varied(GOOD_GAS, minute))
        if minute >= 22 * 60 + 30:
            values["a21002"] = (GOOD_GAS["a21002"], "D")
        inputs.append(record(station.mn, START + timedelta(minutes=minute), values, cn="2011"))
    day = record(station.mn, START, varied(GOOD_GAS, 0), cn="2031")
    inputs = sorted([*inputs, day], key=lambda r: r.received_at)
    e = engine(station, start=START + 22 * H)
    events = case_events(run(e, inputs, START + 27 * H))
    assert [(ev.kind, ev.at) for ev in events] == [
        ("opened", START + 23 * H + timedelta(minutes=30, seconds=5))
    ]
