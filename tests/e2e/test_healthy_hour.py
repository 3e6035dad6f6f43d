"""Ten healthy stations across an hour boundary: every figure 100 %, no alarm.

``tests/data/scenarios/healthy-hour.toml`` runs five CEMS and five waste-water outfalls
from 10:00 to 11:12 (simulated, Beijing) through the real gateway into the database,
with the rules engine on the same clock. Once the engine has judged 10:00 (at 11:10),
the figures are asked for, at that simulated moment, through the console's API, the
report builder and an evidence bundle, each over a window that runs on into hours
still to come: each must count the one hour that has ended and been judged, 10:00
(registered at 10:00: no earlier hour), find it complete and valid (100 %), and count
nothing of 11:00 or later. Nothing at all may be raised.
"""

from __future__ import annotations

import json
import zipfile
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import psycopg
import pytest

from config.rules import RulesSettings
from config.settings import GatewaySettings
from evidence.export import export_bundle
from gateway.app import Gateway
from reports import transmission
from reports.model import Report
from reports.periods import parse
from rules.config import RulesConfig, Ruleset
from services.rules_runner import run_rules
from simulators.fleet import run_fleet
from tests.e2e.scenario_support import cems, console, timed_scenario, water
from tests.gateway.support import rows
from tests.rules_db import register, rules_dsn

__all__ = ["rules_dsn"]
pytestmark = [pytest.mark.db, pytest.mark.e2e, pytest.mark.anyio]

SCENARIO = Path(__file__).resolve().parents[1] / "data" / "scenarios" / "healthy-hour.toml"
SIMULATED = timedelta(minutes=72)
TEN = datetime.fromisoformat("2026-03-11T10:00:00+08:00")
ELEVEN = TEN + timedelta(hours=1)
JUDGED = ELEVEN + timedelta(minutes=10)  # 10:00 is judged at 11:00 + hour_grace_min
ASSESSED = {"gas": 3, "water": 4}  # SO2, NOx, dust; COD, NH3-N, TP, TN
# The figures' rules are the defaults (the console and the bundle use them too); only
# the silence that would make a station "in outage" is widened: at 120x a 5-s stall of
# this shared machine is 10 simulated minutes, not a fault of any station.
RULESET = Ruleset(base=RulesConfig(silence_min_s=1800.0))
SETTINGS = RulesSettings(ruleset=RULESET, interval_s=0.05, settle_s=60.0)


async def _watermark_at_least(dsn: str, when: datetime, within: float) -> None:
    sql = "SELECT 1 FROM hj212.rules_cursor WHERE watermark >= %s"
    with anyio.fail_after(within):
        while not await anyio.to_thread.run_sync(partial(rows, dsn, sql, when)):  # noqa: ASYNC110 - polls the database, no event to wait on
            await anyio.sleep(0.1)


async def test_ten_healthy_stations_across_an_hour_are_100_percent_and_raise_nothing(
    rules_dsn: str, tmp_path: Path
) -> None:
    scenario, mn, clock = timed_scenario(SCENARIO, lead=0.5)
    assert scenario.start == TEN
    media = {m: ("gas" if i % 2 == 0 else "water") for i, m in enumerate(mn)}
    registry = [
        cems(m, f"健康 {m[-2:]}", ranges=(200.0, 500.0, 50.0), rt_interval_s=60)
        if media[m] == "gas"
        else water(m, f"健康 {m[-2:]}", rt_interval_s=60)
        for m in mn
    ]
    register(rules_dsn, registry, TEN)  # monitored from 10:00: no earlier hour is theirs
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
        tg.start_soon(partial(run_rules, rules_dsn, SETTINGS, clock=clock))
        await _watermark_at_least(rules_dsn, JUDGED, real + 60)
        asked = clock()  # 11:11 or so: 11:00 is still running
        figures = await anyio.to_thread.run_sync(_figures, rules_dsn, mn, clock, tmp_path)
        tg.cancel_scope.cancel()
    assert JUDGED <= asked < JUDGED + timedelta(minutes=5)
    _check_console(figures["console"], figures["stations"], mn, media)
    _check_report(figures["report"], mn, media)
    for m in (mn[0], mn[1]):  # a CEMS and an outfall
        _check_bundle(figures["bundles"][m], media[m])
    raised = rows(rules_dsn, "SELECT mn, kind, pollutant, data_time FROM hj212.alarm")
    assert raised == []
    # what the figures counted came through the real pipeline: every station's 10:00
    # hour record of each assessed factor is stored, and was received on time
    stored = rows(
        rules_dsn,
        "SELECT mn, count(*) FROM hj212.measurement WHERE cn = '2061' AND data_time = %s"
        " AND received_at <= %s GROUP BY mn",
        TEN,
        ELEVEN + timedelta(minutes=10),
    )
    assert {m: n >= ASSESSED[media[m]] for m, n in stored} == dict.fromkeys(mn, True)


def _figures(dsn: str, mn: list[str], clock: Any, tmp: Path) -> dict[str, Any]:
    """The figures of the day so far, asked at the clock's moment, three ways."""
    end = TEN + timedelta(days=1)  # a window that runs into hours still to come
    with console(dsn, clock) as client:
        window = {"start": TEN.isoformat(), "end": end.isoformat()}
        rates = client.get("/api/rates", params=window)
        assert rates.status_code == 200, rates.text
        stations = client.get("/api/stations").json()
    with psycopg.connect(dsn) as conn:
        report = transmission.build(conn, parse("2026-03-11"), RULESET, now=clock())
    bundles = {}
    for m in (mn[0], mn[1]):
        path = tmp / f"{m}.zip"
        export_bundle(dsn, m, TEN, end, path, who="test", key_dir=tmp / "keys", now=clock())
        with zipfile.ZipFile(path) as z:
            bundles[m] = json.loads(z.read("figures/figures.json"))
    return {"console": rates.json(), "stations": stations, "report": report, "bundles": bundles}


def _check_console(
    rates: dict[str, Any], stations: list[dict[str, Any]], mn: list[str], media: dict[str, str]
) -> None:
    assert datetime.fromisoformat(rates["counted_to"]) == ELEVEN
    by_mn = {s["mn"]: s for s in rates["stations"]}
    assert set(by_mn) == set(mn)
    for m in mn:
        s = by_mn[m]
        assert (s["expected"], s["valid"]) == (ASSESSED[media[m]],) * 2, s
        assert s["etr"] == 1.0
        assert s["etr_rt"] == 1.0
        assert s["daily"] == [1.0]  # one day so far, not the days to come
    assert [d["etr"] for d in rates["trend"]] == [1.0]
    assert {s["mn"]: (s["online"], s["refused"]) for s in stations} == dict.fromkeys(
        mn, (True, None)
    )


def _check_report(report: Report, mn: list[str], media: dict[str, str]) -> None:
    table = report.tables[0]
    found = [dict(zip(table.columns, row, strict=True)) for row in table.rows]
    station_rows = {str(r["mn"]): r for r in found if r["level"] == "station"}
    assert set(station_rows) == set(mn)
    for m, r in station_rows.items():
        expected = ASSESSED[media[m]]
        assert (r["expected"], r["received"], r["valid"]) == (expected,) * 3, r
        assert (r["received_rt"], r["valid_rt"]) == (expected,) * 2
        assert r["etr"] == r["etr_rt"] == 1.0
        assert r["pass"] == "yes"
    (total,) = [r for r in found if r["level"] == "total"]
    assert total["expected"] == 5 * ASSESSED["gas"] + 5 * ASSESSED["water"]
    assert total["etr"] == 1.0
    assert report.tables[1].column("day") == ["2026-03-11"]
    assert "统计期未结束" in report.subtitle
    assert "2026-03-11 11:00" in report.subtitle  # counted to the end of 10:00


def _check_bundle(figures: dict[str, Any], medium: str) -> None:
    assert datetime.fromisoformat(figures["counted"]["from"]) == TEN
    assert datetime.fromisoformat(figures["counted"]["to"]) == ELEVEN
    total = figures["transmission"]["total"]
    for variant in ("completion", "realtime"):
        counts = total[variant]
        expected = ASSESSED[medium]
        assert (counts["expected"], counts["received"], counts["valid"]) == (expected,) * 3
        assert counts["etr"] == 1.0
