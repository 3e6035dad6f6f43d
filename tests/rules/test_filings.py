"""What the enterprise files on a case, and the regulator's answers, as engine inputs
(rules/filings.py): reports against the report deadline, returned reports, manual
samples against the 6-h rule, advance notices of planned stops."""

from __future__ import annotations

from datetime import datetime, timedelta

from rules.engine import Engine
from rules.filings import Filing
from rules.model import CaseEvent, Output, Record
from rules.state import StationState
from tests.rules.support import START, H, alarms, case_events, clears, engine, gas_station, hourly
from tests.rules.support import run as run_inputs

STATION = gas_station()


def _opened(e: Engine) -> tuple[CaseEvent, list[Output]]:
    """Three good hours, then silence: the outage case opens (3 h after the last frame)."""
    out = run_inputs(e, hourly(STATION, range(3)), START + 7 * H)
    (opened,) = [ev for ev in case_events(out) if ev.kind == "opened"]
    return opened, out


def _report(ident: int, case: CaseEvent, at: datetime, ref: int | None = None) -> Filing:
    return Filing(ident, STATION.mn, "written", at, case.case_key, ref)


def _sample(ident: int, case: CaseEvent, taken: datetime, entered: datetime) -> Filing:
    return Filing(ident, STATION.mn, "sample", entered, case.case_key, None, taken, None, "a21026")


def _samples(case: CaseEvent, until: timedelta, every: timedelta) -> list[Filing]:
    out, k = [], 1
    while k * every < until:
        taken = case.at + k * every
        out.append(_sample(k, case, taken, taken + timedelta(minutes=10)))
        k += 1
    return out


def _steps(out: list[Output]) -> set[str]:
    return {str(a.detail.get("step")) for a in alarms(out) if a.case_key and "step" in a.detail}


def test_a_report_in_time_and_samples_every_5_hours_leave_only_the_restore_overdue() -> None:
    e = engine(STATION)
    case, _ = _opened(e)
    inputs = [*_samples(case, 30 * H, 5 * H), _report(1, case, case.at + 20 * H)]
    inputs.sort(key=lambda f: f.at)
    out = run_inputs(e, inputs, case.at + 30 * H)
    assert _steps(out) == {"restore-reminder-2h", "restore-overdue"}
    kinds = [ev.kind for ev in case_events(out)]
    assert "report-filed" in kinds
    assert kinds.count("manual-sample") == 5
    assert not alarms(out, "manual-sampling-due")
    assert not alarms(out, "manual-sampling-missed")
    state = e.states[STATION.mn].cases[case.case_key]
    assert (state.report_id, state.report_late, state.samples) == (1, False, 5)


def test_without_a_report_the_24_h_overdue_is_raised() -> None:
    e = engine(STATION)
    case, _ = _opened(e)
    out = run_inputs(e, _samples(case, 30 * H, 5 * H), case.at + 30 * H)
    (overdue,) = [a for a in alarms(out, "case-overdue") if a.detail["step"] == "report-overdue"]
    assert overdue.at == case.at + 24 * H
    assert overdue.severity == "critical"


def test_a_late_report_is_recorded_late_and_the_overdue_stands() -> None:
    e = engine(STATION)
    case, _ = _opened(e)
    out = run_inputs(e, [_report(7, case, case.at + 25 * H)], case.at + 26 * H)
    assert "report-overdue" in _steps(out)
    (late,) = [ev for ev in case_events(out) if ev.kind == "report-filed-late"]
    assert late.detail == {"report": 7, "late": True}
    overdue_keys = {a.key for a in alarms(out, "case-overdue")}
    assert not overdue_keys & {c.key for c in clears(out)}
    assert e.states[STATION.mn].cases[case.case_key].report_late


def test_a_returned_report_shows_until_corrected_even_after_the_case_closed() -> None:
    e = engine(STATION)
    case, _ = _opened(e)
    returned = Filing(3, STATION.mn, "returned", case.at + 21 * H, case.case_key, 1)
    out = run_inputs(e, [_report(1, case, case.at + 20 * H), returned], case.at + 23 * H)
    (alarm,) = alarms(out, "case-report-returned")
    assert alarm.case_key == case.case_key
    assert alarm.at == case.at + 21 * H
    assert "report-returned" in [ev.kind for ev in case_events(out)]
    # the facility comes back: the case closes, the returned report still shows
    back = hourly(STATION, range(28, 31), start=START)
    later = run_inputs(e, back, START + 32 * H)
    assert "closed" in [ev.kind for ev in case_events(later)]
    assert alarm.key not in {c.key for c in clears(later)}
    # the same, answered with a correction: the return is cleared
    e2 = engine(STATION)
    case2, _ = _opened(e2)
    answered = [
        _report(1, case2, case2.at + 20 * H),
        Filing(3, STATION.mn, "returned", case2.at + 21 * H, case2.case_key, 1),
        _report(2, case2, case2.at + 22 * H, ref=1),
    ]
    out2 = run_inputs(e2, answered, case2.at + 25 * H)
    (alarm2,) = alarms(out2, "case-report-returned")
    assert alarm2.key in {c.key for c in clears(out2)}
    assert "report-overdue" not in _steps(out2)


def test_a_missing_sample_is_reminded_then_escalated() -> None:
    e = engine(STATION)
    case, _ = _opened(e)
    first = _sample(1, case, case.at + 4 * H, case.at + 4 * H + timedelta(minutes=5))
    out = run_inputs(e, [first], case.at + 17 * H)
    sampling = [(a.kind, a.severity, a.at - case.at) for a in alarms(out) if "sampl" in a.kind]
    # due 6 h after the sample taken at 4 h: a reminder at 10 h, an escalation at 16 h
    assert sampling == [
        ("manual-sampling-due", "info", 10 * H),
        ("manual-sampling-missed", "critical", 16 * H),
    ]


def test_a_late_entered_sample_does_not_undo_the_reminder_already_raised() -> None:
    e = engine(STATION)
    case, _ = _opened(e)
    late = _sample(1, case, case.at + 5 * H, case.at + 7 * H)
    out = run_inputs(e, [late], case.at + 10 * H)
    assert [a.at - case.at for a in alarms(out, "manual-sampling-due")] == [6 * H]
    assert not alarms(out, "manual-sampling-missed")  # next due 11 h: not yet


def test_an_advance_notice_covering_the_start_makes_the_outage_planned() -> None:
    e = engine(STATION)
    notice = Filing(
        5, STATION.mn, "planned-stop", START + H, None, None, START + 2 * H, START + 40 * H
    )
    out = run_inputs(e, [notice, *hourly(STATION, range(3))], START + 39 * H)
    (opened,) = [ev for ev in case_events(out) if ev.kind == "opened"]
    assert opened.detail["planned"] == {"notice": 5, "kind": "planned-stop"}
    (outage,) = alarms(out, "outage")
    assert outage.severity == "warning"
    assert not {"report-overdue", "report-reminder-2h", "restore-overdue"} & _steps(out)


def test_a_returned_notice_or_one_filed_after_the_start_does_not_plan_the_case() -> None:
    for filings in (
        [
            Filing(5, STATION.mn, "planned-stop", START, None, None, START, START + 40 * H),
            Filing(6, STATION.mn, "returned", START + H, None, 5),
        ],
        [Filing(5, STATION.mn, "planned-stop", START + 8 * H, None, None, START, START + 40 * H)],
    ):
        e = engine(STATION)
        inputs: list[Record | Filing] = [*filings, *hourly(STATION, range(3))]
        inputs.sort(key=_at)
        out = run_inputs(e, inputs, START + 31 * H)
        (opened,) = [ev for ev in case_events(out) if ev.kind == "opened"]
        assert "planned" not in opened.detail
        assert "report-overdue" in _steps(out)


def _at(item: Record | Filing) -> datetime:
    return item.at if isinstance(item, Filing) else item.received_at


def test_the_filings_survive_the_state_round_trip() -> None:
    e = engine(STATION)
    case, _ = _opened(e)
    run_inputs(
        e,
        [_report(1, case, case.at + H), _sample(2, case, case.at + H, case.at + 2 * H)],
        case.at + 3 * H,
    )
    text = e.states[STATION.mn].to_json()
    again = StationState.from_json(text)
    assert again.to_json() == text
    assert again.cases[case.case_key].report_id == 1
    assert again.cases[case.case_key].manual_base is not None


def test_a_manual_sample_stands_for_the_hours_until_the_next_at_most_six() -> None:
    from rules.manual import ManualValue, hourly
    from rules.times import HOUR, us

    t0 = us(START)
    samples = [
        ManualValue("a21026", t0 + HOUR // 2, 10.0),  # 00:30: hours 0-5 (6 h reach: 06:30)
        ManualValue("a21026", t0 + 6 * HOUR + HOUR // 4, 12.0),  # 06:15: up to 08:00
        ManualValue("a21026", t0 + 8 * HOUR, 14.0),  # 08:00: hours 8-13
        ManualValue("a21002", t0, 5.0),
    ]
    covered = hourly(samples, 6 * HOUR)
    so2 = {(h - t0) // HOUR: v for (code, h), v in covered.items() if code == "a21026"}
    expected = dict.fromkeys(range(6), 10.0) | {6: 12.0, 7: 12.0}
    assert so2 == expected | dict.fromkeys(range(8, 14), 14.0)
    assert sorted((h - t0) // HOUR for (code, h) in covered if code == "a21002") == list(range(6))
