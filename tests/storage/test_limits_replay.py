"""Issue 20's rules on the real database: pH 5.2 in a water hour and a gas hour that can
no longer stay under its limit, judged live in uneven steps with restarts, and
``replay`` recomputing exactly the alarms raised live."""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg

from protocol import BEIJING
from rules.model import PollutantConfig, Record, StationInfo
from services.rules_replay import replay
from services.rules_runner import RulesRunner
from tests.rules.support import GOOD_GAS, GOOD_WATER, H, gas_station, record, varied, water_station
from tests.rules_db import register, rules_dsn, store

__all__ = ["rules_dsn"]

T0 = datetime(2026, 11, 10, 0, 0, tzinfo=BEIJING)
LIMIT = 35.0  # a21026 of gas_station(); O2 9 % against 6 %: converted = 1.25 x measured


def _stations() -> tuple[StationInfo, StationInfo]:
    base = water_station("RPH1")
    ph = PollutantConfig("w01001", True, None, None, 0.0, 14.0)
    water = water_station("RPH1", pollutants={**base.pollutants, "w01001": ph})
    return water, gas_station("RWG1", minute_interval_min=1)


def _history() -> list[Record]:
    records = []
    for h in range(30):
        ph = 5.2 if h == 3 else 7.2
        records.append(record("RPH1", T0 + h * H, {**varied(GOOD_WATER, h), "w01001": ph}))
        hour = T0 + h * H
        if h == 2:  # 40 minutes at 3x the limit (converted), then 20 at 0
            for i in range(60):
                value = 3 * LIMIT / 1.25 if i < 40 else 0.0
                records.append(
                    record(
                        "RWG1",
                        hour + timedelta(minutes=i),
                        {**GOOD_GAS, "a21026": value, "a19001": 9.0},
                        cn="2051",
                        received=hour + timedelta(minutes=i + 1, seconds=5),
                    )
                )
            over = {**GOOD_GAS, "a21026": 2 * LIMIT / 1.25, "a19001": 9.0}
            records.append(record("RWG1", hour, over))
        else:
            records.append(record("RWG1", hour, {**varied(GOOD_GAS, h), "a19001": 9.0}))
    return records


def test_ph_and_the_early_warning_live_and_replayed(rules_dsn: str) -> None:
    register(rules_dsn, _stations(), T0 - timedelta(days=1))
    assert set(store(rules_dsn, _history())) == {"ok"}
    with psycopg.connect(rules_dsn, autocommit=True) as conn:
        runner = RulesRunner(conn)
        runner.start(T0)
        for minutes in (150, 11, 7, 40, 95, 600, 900):
            until = runner.cursor.watermark + timedelta(minutes=minutes)  # type: ignore[union-attr]
            runner.step(until)
            runner = RulesRunner(conn)
            runner.start(T0)
        end = runner.cursor.watermark  # type: ignore[union-attr]
        raised = conn.execute(
            "SELECT mn, kind, pollutant, value FROM hj212.alarm"
            " WHERE kind IN ('exceedance', 'early-warning') ORDER BY raised_at"
        ).fetchall()
        assert raised == [
            ("RWG1", "early-warning", "a21026", 3 * LIMIT),
            ("RWG1", "exceedance", "a21026", 2 * LIMIT),
            ("RPH1", "exceedance", "w01001", 5.2),
        ]
        result = replay(conn, T0, end)
        assert result.stored >= 3
        assert result.matches, (result.missing, result.extra)
