"""The alarms that need time to pass, end to end on one simulated clock.

``tests/data/scenarios/alarms-day.toml`` runs 27 simulated hours (2026-03-09 22:00 to
2026-03-11 02:00, Beijing) in 56 real seconds. The simulators, the gateway (it stamps
receive times with ``Gateway(now=...)``) and the rules loop (``run_rules(clock=...)``)
all read one :class:`~simulators.timebase.SimulatedClock`, so the platform sees what it
would see in real time: a station silent for three hours, a facility fault outlasting
its 12-hour restore deadline, a whole Beijing day judged when it ends. Each fault's
alarm kinds must be raised for its station, the clean control (station 0) must raise
nothing at all, and the replay behind ``hj212 rules replay`` must recompute the same.

Receive-time settings are scaled to the speed, because at 1,800 simulated seconds per
real second a 0.3-s hiccup of this shared 2-core machine would otherwise be a 10-minute
silence: ``silence_min_s`` 1 h (outage after an hour without a frame, not 10 min),
``hour_grace_min`` and ``realtime_grace_min`` 30 min, ``drift_behind_s`` 1 h, and the
loop's settle time 30 min (one real second). Everything judged on data time (valid
hours and days, rates, anomalies) runs with the defaults.

Registered ranges are those of an ultra-low-emission boiler's analysers (SO2 and NOx
0-100, dust 0-20 mg/m3): with the simulator's 0-500 NOx range a clean NOx series varies
less than 2 % of the range in a day (A8), which is the field's point about oversized
ranges, not a fault of the station.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import pytest

from config.rules import RulesSettings
from config.settings import GatewaySettings
from gateway.app import Gateway
from rules.config import RulesConfig, Ruleset
from services.rules_runner import run_rules
from simulators.fleet import run_fleet
from tests.e2e.scenario_support import cems, check_replay, timed_scenario
from tests.gateway.support import rows
from tests.rules_db import register, rules_dsn

__all__ = ["rules_dsn"]
pytestmark = [pytest.mark.db, pytest.mark.e2e, pytest.mark.anyio]

SCENARIO = Path(__file__).resolve().parents[1] / "data" / "scenarios" / "alarms-day.toml"
CONTROL = 0
SIMULATED = timedelta(hours=28)
DAY = datetime.fromisoformat("2026-03-10T00:00:00+08:00")  # the day judged whole
# judged: hour 23:00 of the 10th closes the day at 00:00 + 30 min grace
TARGET = DAY + timedelta(days=1, minutes=45)
SETTINGS = RulesSettings(
    ruleset=Ruleset(
        base=RulesConfig(
            silence_min_s=3600.0,
            hour_grace_min=30.0,
            realtime_grace_min=30.0,
            drift_behind_s=3600.0,
        )
    ),
    interval_s=0.05,
    settle_s=1800.0,
)
# alarm kind -> (station index, the pollutant the alarm names; None: the station's)
EXPECTED: dict[str, tuple[int, str | None]] = {
    "outage": (1, None),
    "facility": (2, "a21026"),
    "case-reminder": (2, "a21026"),
    "case-overdue": (2, "a21026"),
    "manual-sampling-due": (2, "a21026"),
    "manual-sampling-missed": (2, "a21026"),
    "hour-incomplete": (2, "a21026"),
    "day-incomplete": (2, "a21026"),
    "narrow-band": (3, "a21026"),
    "detection-limit": (4, "a34013"),
    "converted-mismatch": (5, "a21026"),
    "aggregate-mismatch": (6, "a21002"),
    "out-of-order": (7, None),
    "cou-mismatch": (8, "a21026"),
    "hour-missing": (9, None),
}
ETR_LOW = (1, 2, 9)  # the disconnected station (on-time rate), the faulty one, 21 of 24 h


async def _watermark_at_least(dsn: str, when: datetime, within: float) -> None:
    sql = "SELECT 1 FROM hj212.rules_cursor WHERE watermark >= %s"
    with anyio.fail_after(within):
        while not await anyio.to_thread.run_sync(partial(rows, dsn, sql, when)):  # noqa: ASYNC110 - polls the database, no event to wait on
            await anyio.sleep(0.1)


async def test_a_simulated_day_raises_the_slow_alarms_for_the_faulted_stations_only(
    rules_dsn: str, tmp_path: Path
) -> None:
    scenario, mn, clock = timed_scenario(SCENARIO, lead=0.5)
    assert scenario.start is not None
    register(
        rules_dsn,
        [
            cems(m, f"scenario day {m[-2:]}", ranges=(100.0, 100.0, 20.0), rt_interval_s=300)
            for m in mn
        ],
        scenario.start - timedelta(days=1),
    )
    gateway = Gateway(
        GatewaySettings(host="127.0.0.1", port=0, metrics_port=0, spool_dir=tmp_path / "spool"),
        rules_dsn,
        now=clock,
    )
    real = clock.real_seconds(SIMULATED)
    async with anyio.create_task_group() as tg:
        port = await tg.start(gateway.run)
        tg.start_soon(
            partial(run_fleet, len(mn), "127.0.0.1", port, real, scenario=scenario, clock=clock)
        )
        # the engine judges from the clock minus the settle time: start it when that is
        # the scenario's start, so that it expects nothing from before the stations began
        begin = scenario.start + timedelta(seconds=SETTINGS.settle_s)
        await anyio.sleep(max(0.0, (begin - clock()).total_seconds() / clock.speed))
        tg.start_soon(partial(run_rules, rules_dsn, SETTINGS, clock=clock))
        # the day is judged (at a clock of 01:15: the loop judges up to its clock minus
        # the settle time) before the fleet stops at 02:00; were the loop to lag by more
        # than an hour after that, every station would be silent, and the control's
        # outage would fail the test below
        await _watermark_at_least(rules_dsn, TARGET, real + 60)
        tg.cancel_scope.cancel()
    # every frame of the run was understood (the fleet is cancelled with the loop, so
    # its own counts do not come back)
    statuses = rows(rules_dsn, "SELECT status, count(*) FROM hj212.frame GROUP BY status")
    assert dict(statuses).keys() == {"ok"}
    assert dict(statuses)["ok"] > 12 * 28 * 12  # 12 stations, 28 h of 2011 every 5 min
    alarms = rows(
        rules_dsn,
        "SELECT mn, kind, pollutant, data_time, value, detail, cleared_at FROM hj212.alarm",
    )
    raised: dict[tuple[str, str], set[str | None]] = {}
    for row in alarms:
        raised.setdefault((row[0], row[1]), set()).add(row[2])
    control = [(r[1], r[2], r[3], r[4], r[5]) for r in alarms if r[0] == mn[CONTROL]]
    assert control == [], f"the clean station raised {control}"
    for kind, (index, pollutant) in EXPECTED.items():
        assert (mn[index], kind) in raised, f"{kind} not raised for station {index}"
        if pollutant is not None:
            assert pollutant in raised[(mn[index], kind)], (kind, raised[(mn[index], kind)])
    _check_outage(rules_dsn, mn[1])
    _check_hour_missing(alarms, mn[9])
    _check_factor_missing(rules_dsn, mn[10])
    _check_deadlines(rules_dsn, mn[11])
    _check_rates(rules_dsn, alarms, mn)
    check_replay(rules_dsn, raised, SETTINGS)


def _check_outage(dsn: str, mn: str) -> None:
    """The outage: silent from 02:00, raised an hour later, cleared when the link came
    back at 05:00, its case opened and closed with the silence's start on record."""
    ((raised_at, cleared_at),) = rows(
        dsn, "SELECT raised_at, cleared_at FROM hj212.alarm WHERE mn = %s AND kind = 'outage'", mn
    )
    start = DAY + timedelta(hours=2)
    # an hour after the last frame (sent between 01:55 and 02:00)
    assert start + timedelta(minutes=55) <= raised_at <= start + timedelta(hours=1, minutes=20)
    assert cleared_at is not None
    assert start + timedelta(hours=3) <= cleared_at <= start + timedelta(hours=3, minutes=30)
    ((began,),) = rows(
        dsn, "SELECT started_at FROM hj212.case WHERE mn = %s AND kind = 'outage'", mn
    )
    assert start - timedelta(minutes=10) <= began <= start + timedelta(minutes=5)
    events = [
        r[0]
        for r in rows(
            dsn,
            "SELECT e.kind FROM hj212.case_event e JOIN hj212.case c ON c.id = e.case_id"
            " WHERE c.mn = %s ORDER BY e.at",
            mn,
        )
    ]
    assert events[0] == "opened"
    assert events[-1] == "closed"


def _check_hour_missing(alarms: list[tuple[Any, ...]], mn: str) -> None:
    """Station 9's hour records of 02:00-04:00 were never made while its real-time and
    minute data went on: one hour-missing alarm from the first missing hour, cleared
    when 05:00 came with its record; the daily record is not held against the 21 hours
    that came (A21 needs every hour), and no case opens (the station is not silent)."""
    mine = [(r[1], r[3], r[6]) for r in alarms if r[0] == mn]
    ((data_time, cleared_at),) = [(t, c) for kind, t, c in mine if kind == "hour-missing"]
    assert data_time == DAY + timedelta(hours=2)
    assert cleared_at is not None
    assert DAY + timedelta(hours=6) <= cleared_at <= DAY + timedelta(hours=7)
    assert {kind for kind, _, _ in mine} == {"hour-missing", "etr-low"}


def _check_factor_missing(dsn: str, mn: str) -> None:
    """Station 10's SO2 analyser was cut off 02:00-06:00 while the other factors went
    on: a facility case for SO2 ("factor missing") opened when 02:00 was judged (03:30),
    its problem dated from 02:00, closed when SO2 came back, within its 12-h deadline."""
    found = rows(
        dsn,
        "SELECT pollutant, detail->>'cause', (detail->>'started_at')::timestamptz, raised_at,"
        " cleared_at FROM hj212.alarm WHERE mn = %s AND kind = 'facility'",
        mn,
    )
    assert len(found) == 1, found
    ((pollutant, cause, started, raised_at, cleared_at),) = found
    assert (pollutant, cause, started) == ("a21026", "factor missing", DAY + timedelta(hours=2))
    assert DAY + timedelta(hours=3, minutes=30) <= raised_at <= DAY + timedelta(hours=4)
    assert cleared_at is not None
    assert DAY + timedelta(hours=6) <= cleared_at <= DAY + timedelta(hours=6, minutes=30)
    events = rows(
        dsn,
        "SELECT e.kind FROM hj212.case_event e JOIN hj212.case c ON c.id = e.case_id"
        " WHERE c.mn = %s ORDER BY e.at",
        mn,
    )
    assert events == [("opened",), ("closed",)]  # closed before any reminder was due


def _check_deadlines(dsn: str, mn: str) -> None:
    """Station 11's NOx flagged D from 22:30 on: a facility case from 23:30 (60 min of
    D) still open at the end, whose timeline holds every step of Hubei Art. 15 at its
    elapsed time across midnight: manual sampling every 6 h, the restore deadline (12 h,
    gas) with its reminder 2 h ahead, the written report (24 h) with its reminder."""
    found = rows(dsn, "SELECT id, state, opened_at, summary FROM hj212.case WHERE mn = %s", mn)
    assert len(found) == 1, found
    ((case_id, state, opened, _),) = found
    assert state == "open"
    assert DAY - timedelta(minutes=30) <= opened <= DAY - timedelta(minutes=25)
    events = rows(dsn, "SELECT kind, at FROM hj212.case_event WHERE case_id = %s", case_id)
    hours = timedelta(hours=1)
    assert {(kind, at - opened) for kind, at in events} == {
        ("opened", 0 * hours),
        ("manual-sampling-1", 6 * hours),
        ("restore-reminder-2h", 10 * hours),
        ("restore-overdue", 12 * hours),
        ("manual-sampling-missed-2", 12 * hours),  # none entered: escalated
        ("manual-sampling-missed-3", 18 * hours),
        ("report-reminder-2h", 22 * hours),
        ("report-overdue", 24 * hours),
        ("manual-sampling-missed-4", 24 * hours),
    }
    steps = rows(
        dsn,
        "SELECT detail->>'step', severity FROM hj212.alarm WHERE mn = %s AND kind = 'case-overdue'",
        mn,
    )
    assert sorted(steps) == [("report-overdue", "critical"), ("restore-overdue", "critical")]


def _check_rates(dsn: str, alarms: list[tuple[Any, ...]], mn: list[str]) -> None:
    """The day's on-time (即时) effective rate, recomputed by hand from what was stored.

    Station 1: every hour valid, but the hour records of 01:00-04:00 waited in the
    backlog, and at 1,800x a backlog drains in simulated tens of minutes, so later hours
    may be late too: the rate is the hours whose record was stored by the end of the
    hour plus the 30-min grace, of 24 (all three assessed factors travel together).
    Station 2: 9 valid SO2 hours of 24, the other two factors whole: 57 of 72.
    Station 9: three hours never came, for all three factors: at most 63 of 72.
    """
    day = {r[0]: r for r in alarms if r[1] == "etr-low" and r[3] == DAY}
    assert set(day) >= {mn[i] for i in ETR_LOW}
    ((on_time,),) = rows(
        dsn,
        "SELECT count(*) FROM hj212.measurement WHERE mn = %s AND cn = '2061'"
        " AND pollutant = 'a21026' AND data_time >= %s AND data_time < %s"
        " AND received_at <= data_time + interval '90 minutes'",
        mn[1],
        DAY,
        DAY + timedelta(days=1),
    )
    assert on_time <= 21  # 02:00-04:00 at least came late
    _, _, _, _, rate, detail, _ = day[mn[1]]
    assert detail["variant"] == "realtime"
    assert (detail["expected"], detail["valid"]) == (72, 3 * on_time)
    assert rate == pytest.approx(on_time / 24)
    _, _, _, _, rate, detail, _ = day[mn[2]]
    assert (detail["expected"], detail["valid"]) == (72, 57)
    assert rate == pytest.approx(57 / 72)
    assert detail["by_pollutant"]["a21026"] == "37.50"
    _, _, _, _, rate, detail, _ = day[mn[9]]
    assert detail["expected"] == 72
    assert detail["received"] == detail["valid"] <= 63
