"""Back-fill end to end (issue 19, "Done when"; docs/forwarding.md §6).

A simulated waste-water outfall is cut off from the platform 02:00-04:00 (simulated,
600x): what falls due meanwhile it never sends by itself. Once it is back the gateway
asks it for the missing hours (2061, BeginTime/EndTime), it sends them, and the day's
completion rate counts them, through services/figures.py: every hour ended and judged
by 05:30 received, two of them late (the realtime variant does not count those).
About 35 s.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

import anyio
import psycopg
import pytest

from config.settings import BackfillSettings, GatewaySettings
from gateway.app import Gateway
from rules.config import RulesConfig, Ruleset
from services.figures import figures
from simulators.fleet import build_stations, run_fleet
from simulators.scenario import Fault, Scenario
from simulators.timebase import SimulatedClock
from tests.e2e.scenario_support import water
from tests.gateway.support import rows
from tests.rules_db import register, rules_dsn

__all__ = ["rules_dsn"]
pytestmark = [pytest.mark.db, pytest.mark.e2e, pytest.mark.anyio]

# a Wednesday at 08:00, when the simulated water plant starts its shifts: a stopped
# plant's F hours would not be expected at all (docs/regulations.md §1.3)
START = datetime.fromisoformat("2026-05-06T08:00:00+08:00")
SPEED = 600.0
RUN = timedelta(hours=5, minutes=30)
ASSESSED = 4  # COD, NH3-N, TP, TN
BACKFILL = BackfillSettings(every=1.0, min_interval=600.0, grace=600.0)


async def test_a_station_cut_off_for_two_hours_is_asked_and_the_day_counts_them(
    rules_dsn: str, tmp_path: Path
) -> None:
    cut = Fault("cut_off", 7200, 7200, stations=frozenset({0}))
    scenario = Scenario(
        stations=1, seed=61, mn_prefix="B1F1", models=("water",), rtd_interval=300, faults=(cut,)
    )
    (station,) = build_stations(scenario, 1, 61, "B1F1")
    mn = station.mn
    register(rules_dsn, [water(mn, "补传", rt_interval_s=300)], START)
    clock = SimulatedClock(START, SPEED, time.monotonic() + 0.5)
    gw = GatewaySettings(host="127.0.0.1", port=0, metrics_port=0, spool_dir=tmp_path / "spool")
    gateway = Gateway(gw, rules_dsn, now=clock, backfill=BACKFILL)
    real = clock.real_seconds(RUN)
    async with anyio.create_task_group() as tg:
        port = await tg.start(gateway.run)
        await anyio.to_thread.run_sync(partial(_wait_until, clock, START))
        await run_fleet(1, "127.0.0.1", port, real, scenario=scenario, clock=clock)
        tg.cancel_scope.cancel()
    asked = rows(
        rules_dsn,
        "SELECT cn, cp, state FROM hj212.command WHERE mn = %s AND requested_by = 'backfill'"
        " ORDER BY id",
        mn,
    )
    assert asked, "never asked"
    assert {(cn, state) for cn, _, state in asked} == {("2061", "done")}
    assert "BeginTime=20260506100000" in asked[0][1]  # the cut-off began at 10:00
    hours = rows(
        rules_dsn,
        "SELECT DISTINCT data_time FROM hj212.measurement WHERE mn = %s AND cn = '2061'"
        " AND pollutant = 'w01018' ORDER BY 1",
        mn,
    )
    assert [h for (h,) in hours] == [START + timedelta(hours=i) for i in range(5)]
    with psycopg.connect(rules_dsn) as conn:
        day = figures(
            conn,
            START,
            START + timedelta(days=1),
            now=START + RUN,
            ruleset=Ruleset(base=RulesConfig()),
            mns=[mn],
            emissions=False,
        )
    (mine,) = day.stations
    tally = mine.rate()
    # 08:00-12:00 ended and judged by 13:30, less the water check hour (exempt)
    assert tally.completion.expected + tally.exempt == 5 * ASSESSED
    assert tally.completion.received == tally.completion.expected  # all, 2 h back-filled
    # what came by itself, on time: the two hours of the cut-off short
    assert tally.realtime.received == tally.completion.expected - 2 * ASSESSED


def _wait_until(clock: SimulatedClock, moment: datetime) -> None:
    while clock() < moment:
        time.sleep(0.01)
