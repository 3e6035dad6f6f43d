"""Stations whose every frame is refused, end to end on one simulated clock.

``tests/data/scenarios/refused.toml``: a healthy CEMS (station 0) beside a logger using
a legacy CRC its registry entry does not allow (1), a 2025 logger encrypting with a key
the platform does not have (2) and one sending the wrong password (3). The simulators
talk to the real gateway, the rules loop runs on the same clock, and the console is
asked what it shows: the refused stations are connected but not online, each with the
reason, and each raises a frames-refused alarm within the outage threshold (10
simulated minutes for real-time data every 30 s), long before the 3 h after which a
station never heard from is in outage.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import psycopg
import pytest

from config.rules import RulesSettings
from config.settings import GatewaySettings
from gateway.app import Gateway
from rules.config import RulesConfig, Ruleset
from services.rules_runner import run_rules
from simulators.fleet import run_fleet
from tests.e2e.scenario_support import console, timed_scenario
from tests.gateway.support import register, rows
from tests.rules_db import rules_dsn

__all__ = ["rules_dsn"]
pytestmark = [pytest.mark.db, pytest.mark.e2e, pytest.mark.anyio]

SCENARIO = Path(__file__).resolve().parents[1] / "data" / "scenarios" / "refused.toml"
SIMULATED = timedelta(minutes=30)
THRESHOLD = timedelta(minutes=10)  # max(3 x RtdInterval 30 s, silence_min_s 600 s)
REASONS = {1: "legacy-crc", 2: "decrypt", 3: "wrong-password"}
SETTINGS = RulesSettings(
    ruleset=Ruleset(base=RulesConfig()),
    interval_s=0.05,
    settle_s=60.0,  # 1 real second
)


async def _watermark_at_least(dsn: str, when: object, within: float) -> None:
    sql = "SELECT 1 FROM hj212.rules_cursor WHERE watermark >= %s"
    with anyio.fail_after(within):
        while not await anyio.to_thread.run_sync(partial(rows, dsn, sql, when)):  # noqa: ASYNC110 - polls the database, no event to wait on
            await anyio.sleep(0.1)


def _register(dsn: str, mns: list[str], since: object) -> None:
    """Every station as the registry knows it: password 123456, no legacy CRC, no key."""
    for index, mn in enumerate(mns):
        register(dsn, mn, medium="water" if index == 1 else "gas")
    with psycopg.connect(dsn) as conn:
        conn.execute("UPDATE hj212.station SET created_at = %s", (since,))


async def test_stations_whose_every_frame_is_refused_are_shown_so_and_raise_an_alarm(
    rules_dsn: str, tmp_path: Path
) -> None:
    scenario, mn, clock = timed_scenario(SCENARIO, lead=0.5)
    assert scenario.start is not None
    _register(rules_dsn, mn, scenario.start - timedelta(days=1))
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
        await _watermark_at_least(rules_dsn, scenario.start + timedelta(minutes=25), real + 60)
        with console(rules_dsn, clock) as client:
            listed = client.get("/api/stations").json()
            overview = client.get("/api/overview").json()
        tg.cancel_scope.cancel()
    shown = {s["mn"]: s for s in listed}
    assert shown[mn[0]]["online"] is True
    assert shown[mn[0]]["refused"] is None
    for index, reason in REASONS.items():
        assert shown[mn[index]]["online"] is False, shown[mn[index]]
        assert shown[mn[index]]["refused"] == reason, shown[mn[index]]
    assert overview["total"]["refused"] == len(REASONS)
    _check_alarms(rules_dsn, mn)


def _check_alarms(dsn: str, mn: list[str]) -> None:
    found: dict[str, list[Any]] = {}
    for station, raised_at, detail in rows(
        dsn, "SELECT mn, raised_at, detail FROM hj212.alarm WHERE kind = 'frames-refused'"
    ):
        found.setdefault(station, []).append((raised_at, detail))
    assert set(found) == {mn[i] for i in REASONS}, found
    for index, reason in REASONS.items():
        ((raised_at, detail),) = found[mn[index]]
        assert detail["reason"] == reason
        ((first,),) = rows(
            dsn,
            "SELECT min(received_at) FROM hj212.frame WHERE mn = %s AND status <> 'ok'",
            mn[index],
        )
        # raised with the first refused frame after the threshold (they come every 30 s)
        assert first + THRESHOLD <= raised_at <= first + THRESHOLD + timedelta(minutes=2)
    # none of them got data through (the 2025 logger's plaintext heartbeats do), and
    # none is in outage yet (3 h for a station never heard from): the alarm says why
    assert rows(dsn, "SELECT DISTINCT mn FROM hj212.measurement") == [(mn[0],)]
    assert rows(dsn, "SELECT mn FROM hj212.alarm WHERE kind = 'outage'") == []
