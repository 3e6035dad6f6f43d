"""The monthly and quarterly reports for a month the simulators made, through the
real gateway and TimescaleDB, against counts and sums taken by hand from the rows.

``tests/data/scenarios/month.toml``: October 2026 of two CEMS and one outfall, hour
records (2061) only, 744 simulated hours in 45 real seconds on one simulated clock
(the gateway stamps receive times with it, so records sent late after the disconnect
are late by simulated hours). The reports go through the rules' rate machinery
(:mod:`rules.rates`: validity, the water check-hour exemption, realtime and completion
variants, kg from flow x concentration); the test counts with plain SQL:

* transmission, completion (补全): every hour of every assessed factor expected and
  received; valid unless its flag is not N (SO2 of station 1 flagged D for 10 hours;
  the outfall's stopped hours (night shifts, Sundays: flag F, no flow) are not expected
  at all); for the water factors one check hour a day is exempt (of the hours it ran).
* transmission, realtime (即时): the same, counting only records stored by the end of
  their hour plus the grace (``realtime_grace_min`` 30 min). At 60,000x one real
  millisecond is a simulated minute, so a busy event loop makes many records "late":
  the realtime figures of this run say nothing about the simulators, but the report
  must still count exactly what the rows say.
* emissions: the devices' -Cou summed from the rows equals the report's device column;
  the report's amount (Σ C x V) agrees with it within the 2 % check.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import psycopg
import pytest

from config.settings import GatewaySettings
from gateway.app import Gateway
from reports import emissions, transmission
from reports.periods import parse
from rules.config import RulesConfig, Ruleset
from rules.model import PollutantConfig, StationInfo
from simulators.fleet import run_fleet
from tests.e2e.scenario_support import cems, timed_scenario
from tests.gateway.support import rows
from tests.rules_db import register, rules_dsn

__all__ = ["rules_dsn"]
pytestmark = [pytest.mark.db, pytest.mark.e2e, pytest.mark.anyio]

SCENARIO = Path(__file__).resolve().parents[1] / "data" / "scenarios" / "month.toml"
OCTOBER = datetime.fromisoformat("2026-10-01T00:00:00+08:00")
# October's last hour record goes at 00:00 + jitter (< 5 min); the 12 h after it (0.72 real
# seconds) let a busy event loop catch up, so that it is sent before the fleet stops
SIMULATED = timedelta(days=31, hours=12)
GRACE = 30.0  # realtime_grace_min, scaled to the speed
RULESET = Ruleset(base=RulesConfig(realtime_grace_min=GRACE))
GAS = ("a21026", "a21002", "a34013")
WATER = ("w01018", "w21003", "w21011", "w21001")


def _water(mn: str, enterprise: str) -> StationInfo:
    return StationInfo(
        mn,
        medium="water",
        region_code="420100",
        enterprise=enterprise,
        name=f"outfall {mn[-1]}",
        rt_interval_s=300,
        pollutants={
            "w01018": PollutantConfig("w01018", True, 50.0, "day", 0.0, 500.0),
            "w21003": PollutantConfig("w21003", True, 5.0, "day", 0.0, 50.0),
            "w21011": PollutantConfig("w21011", True, 0.5, "day", 0.0, 10.0),
            "w21001": PollutantConfig("w21001", True, 15.0, "day", 0.0, 100.0),
            "w01001": PollutantConfig("w01001", False, None, None, 0.0, 14.0),
            "w00000": PollutantConfig("w00000", False, None, None, 0.0, 200.0),
        },
    )


def _table(report_table: Any) -> list[dict[str, Any]]:
    return [dict(zip(report_table.columns, row, strict=True)) for row in report_table.rows]


async def test_a_simulated_month_reports_what_a_hand_count_of_the_rows_gives(
    rules_dsn: str, tmp_path: Path
) -> None:
    scenario, mn, clock = timed_scenario(SCENARIO, lead=0.3)
    assert scenario.start is not None
    register(
        rules_dsn,
        [
            cems(
                mn[0], "boiler 0", ranges=(100.0, 100.0, 20.0), rt_interval_s=300, enterprise="E1"
            ),
            cems(
                mn[1], "boiler 1", ranges=(100.0, 100.0, 20.0), rt_interval_s=300, enterprise="E1"
            ),
            _water(mn[2], "E2"),
        ],
        scenario.start - timedelta(days=30),
    )
    gateway = Gateway(
        GatewaySettings(host="127.0.0.1", port=0, metrics_port=0, spool_dir=tmp_path / "spool"),
        rules_dsn,
        now=clock,
    )
    async with anyio.create_task_group() as tg:
        port = await tg.start(gateway.run)
        counts = await run_fleet(
            len(mn),
            "127.0.0.1",
            port,
            clock.real_seconds(SIMULATED),
            scenario=scenario,
            clock=clock,
            uploads=frozenset({"2061"}),
        )
        tg.cancel_scope.cancel()
    assert counts.errors == 0
    assert counts.timeouts == 0
    stored = rows(
        rules_dsn,
        "SELECT mn, count(DISTINCT data_time) FROM hj212.measurement WHERE cn = '2061'"
        " AND data_time >= %s AND data_time < %s GROUP BY mn ORDER BY mn",
        scenario.start,
        scenario.start + timedelta(days=31),
    )
    missing = rows(
        rules_dsn,
        "SELECT m, h FROM unnest(%s::text[]) m, generate_series(%s::timestamptz,"
        " %s::timestamptz, interval '1 hour') h WHERE NOT EXISTS (SELECT 1 FROM"
        " hj212.measurement x WHERE x.mn = m AND x.cn = '2061' AND x.data_time = h)",
        mn,
        scenario.start,
        scenario.start + timedelta(days=31, hours=-1),
    )
    assert missing == []
    assert stored == [(m, 744) for m in mn]  # every hour of the month, the backlog too
    with psycopg.connect(rules_dsn) as conn:
        # asked at the simulated clock's end: October is over, judged to its last hour
        rates = transmission.build(conn, parse("2026-10"), RULESET, region="42", now=clock())
        quarter = emissions.build(conn, parse("2026Q4"), RULESET, region="42", now=clock())
    _check_transmission(rules_dsn, _table(rates.tables[0]), mn)
    _check_emissions(rules_dsn, _table(quarter.tables[0]), mn)


def _hand_tally(dsn: str, mn: str, codes: tuple[str, ...], cap: int | None) -> dict[str, int]:
    """expected, received, valid and their realtime halves over the assessed factors,
    counted from the stored hour rows; ``cap``: water, hours a day after the check hour."""
    day = "date_trunc('day', data_time AT TIME ZONE 'Asia/Shanghai')"
    on_time = f"received_at <= data_time + interval '1 hour {GRACE:g} minutes'"
    found = rows(
        dsn,
        f"SELECT pollutant, {day}, count(*), count(*) FILTER (WHERE flag = 'N'),"
        f" count(*) FILTER (WHERE {on_time}), count(*) FILTER (WHERE {on_time} AND flag = 'N')"
        " FROM hj212.measurement m WHERE mn = %s AND cn = '2061' AND pollutant = ANY(%s)"
        " AND data_time >= %s AND data_time < %s"
        # an hour the plant reports itself stopped (F, no flow) is not expected (§1.3)
        " AND NOT (flag = 'F' AND EXISTS (SELECT 1 FROM hj212.measurement f"
        " WHERE f.mn = m.mn AND f.cn = '2061' AND f.data_time = m.data_time"
        " AND f.pollutant = 'w00000' AND f.avg <= 0))"
        " GROUP BY 1, 2",
        mn,
        list(codes),
        OCTOBER,
        OCTOBER + timedelta(days=31),
    )
    out = {"expected": 0, "received": 0, "valid": 0, "received_rt": 0, "valid_rt": 0}
    for _, _, hours, valid, hours_rt, valid_rt in found:
        # water: one check hour a day exempt, out of the hours the plant ran
        limit = hours if cap is None else min(cap, hours - 1)
        out["expected"] += min(24, limit)
        out["received"] += min(hours, limit)
        out["valid"] += min(valid, limit)
        out["received_rt"] += min(hours_rt, limit)
        out["valid_rt"] += min(valid_rt, limit)
    return out


def _check_transmission(dsn: str, report: list[dict[str, Any]], mn: list[str]) -> None:
    station = {r["mn"]: r for r in report if r["level"] == "station"}
    hand = {
        mn[0]: _hand_tally(dsn, mn[0], GAS, None),
        mn[1]: _hand_tally(dsn, mn[1], GAS, None),
        mn[2]: _hand_tally(dsn, mn[2], WATER, 23),
    }
    for m, counted in hand.items():
        figures = {k: station[m][k] for k in counted}
        assert figures == counted, m
    # what the scenario implies, from the hand counts
    assert hand[mn[0]]["valid"] == hand[mn[0]]["expected"] == 744 * 3
    assert hand[mn[1]]["received"] == 744 * 3
    assert hand[mn[1]]["valid"] == 744 * 3 - 10  # SO2 flagged D for 10 hours
    assert hand[mn[1]]["received_rt"] <= 744 * 3 - 6 * 3  # the backlog hours came late
    # the outfall runs 08:00-24:00 but on Sundays (27 days in October 2026); its stopped
    # hours (F, flow 0) are not expected, and one check hour a day is exempt
    assert hand[mn[2]]["expected"] == 27 * 15 * 4
    so2 = next(
        r
        for r in report
        if r["level"] == "pollutant" and r["mn"] == mn[1] and r["pollutant"] == "a21026"
    )
    assert (so2["expected"], so2["valid"]) == (744, 734)
    assert so2["etr"] == pytest.approx(734 / 744)
    e1 = next(r for r in report if r["level"] == "enterprise" and r["enterprise"] == "E1")
    assert e1["valid"] == hand[mn[0]]["valid"] + hand[mn[1]]["valid"]
    assert e1["etr"] == pytest.approx(e1["valid"] / (2 * 744 * 3))


def _check_emissions(dsn: str, report: list[dict[str, Any]], mn: list[str]) -> None:
    """October's month rows of the 2026Q4 report (the quarter rows may hold the first
    hours of November too: how many were sent before the run ended depends on how busy
    the machine was). Hours flagged F (the outfall's night shifts) count no emission, in
    the report as in the hand sums."""
    months = {r["month"] for r in report if r["level"] == "month"}
    assert "2026-10" in months
    assert months <= {"2026-10", "2026-11"}
    october = {
        (r["mn"], r["item"]): r for r in report if r["level"] == "month" and r["month"] == "2026-10"
    }
    items = {mn[0]: ("a00000", *GAS), mn[1]: ("a00000", *GAS), mn[2]: ("w00000", *WATER[:2])}
    for m, codes in items.items():
        for code in codes:
            ((cou, hours),) = rows(
                dsn,
                "SELECT sum(cou), count(*) FROM hj212.measurement WHERE mn = %s"
                " AND cn = '2061' AND pollutant = %s AND data_time >= %s AND data_time < %s"
                " AND flag <> 'F'",
                m,
                code,
                OCTOBER,
                OCTOBER + timedelta(days=31),
            )
            row = october[(m, code)]
            assert row["hours"] == hours, (m, code)
            assert (hours == 744) == (m != mn[2]), (m, code)  # the outfall stops at night
            # the flow's Cou is the volume; a pollutant's is the devices' kg, next to
            # the report's own Σ C x V, which must agree within the 2 % check
            assert row["amount"] == pytest.approx(cou, rel=0.02), (m, code)
            if code not in ("a00000", "w00000"):
                assert row["device_cou"] == pytest.approx(cou), (m, code)
                assert row["check"] == "ok", (m, code)
    station = {(r["mn"], r["item"]): r for r in report if r["level"] == "station"}
    total = next(r for r in report if r["level"] == "total" and r["item"] == "a21026")
    assert total["amount"] == pytest.approx(
        station[(mn[0], "a21026")]["amount"] + station[(mn[1], "a21026")]["amount"]
    )
