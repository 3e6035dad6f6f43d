"""Every alarm kind a simulator fault can cause, end to end: the scenario
``tests/data/scenarios/alarms.toml`` (one fault per station, station 0 clean) runs
through the real gateway into a real TimescaleDB, the rules loop (``run_rules``, as
``hj212 serve`` starts it) judges what was stored, each kind is raised for the faulted
station and not for the control, and the replay behind ``hj212 rules replay`` recomputes
the same alarms.

Time. The engine judges by *receive* time: hour H is judged when its clock reaches
H + 1 h + 10 min, a station is silent after 10 min without a frame. The scenario packs
9 simulated hours into 45 real seconds, starting at the real time of launch, so every
record arrives before its hour is due (it is accumulated, not back-filled) and the
rules loop's clock is then moved past the last simulated hour. Simulated time runs
ahead of receive time by up to 9 h, so the test raises ``drift_future_s`` to 10 h (a
rules parameter); the ``clock_drift`` station, gaining an hour per hour, passes that.

The kinds that need real time to pass (outage, etr-low, facility-case reminders and
deadlines, hour- and day-incomplete, narrow-band and detection-limit over 24 h) and
those of the logger faults (converted-mismatch, aggregate-mismatch, out-of-order) are
raised in ``test_scenario_day.py``, where the simulators, the gateway and the rules
share one simulated clock. Here, on real receive time:

* ``outage`` is not asserted: a ``disconnect`` fault lasts its simulated duration /
  speed in real seconds (5 s for 1 h at speed 720), far below the 10-min silence, and
  once the loop's clock is moved on after the run every station is silent.
* ``hour-missing``, ``hour-incomplete`` and ``day-incomplete`` are raised for every
  station alike (the run starts mid-hour and all stations fall silent at its end);
  ``test_scenario_day.py`` raises each for its faulted station only.
* ``suspected-exceedance`` (flag T over the limit) is the exceedance rule's side of the
  over-range fault (A10): the same station raises both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
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
from simulators.fleet import Counts, build_stations, run_fleet
from simulators.scenario import Scenario, load
from tests.e2e.scenario_support import cems, check_replay
from tests.gateway.support import rows
from tests.rules_db import register, rules_dsn

__all__ = ["rules_dsn"]
pytestmark = [pytest.mark.db, pytest.mark.e2e, pytest.mark.anyio]

SCENARIO = Path(__file__).resolve().parents[1] / "data" / "scenarios" / "alarms.toml"
CONTROL = 0
# alarm kind -> (station index with the fault, pollutant the alarm names or None)
EXPECTED: dict[str, tuple[int, str | None]] = {
    "facility": (1, "a21026"),  # D for 90 min
    "exceedance": (3, "a21026"),
    "constant": (4, "a21026"),
    "zero": (5, "a21026"),
    "negative": (6, "a21026"),
    "over-range": (7, "a21026"),
    "suspected-exceedance": (7, "a21026"),
    "jump": (8, "a34013"),
    "flow-zero": (9, None),
    "o2-implausible": (10, None),
    "duplicates": (11, None),
    "clock-drift": (12, None),
    "nox-inversion": (13, None),  # the control sends no NO/NO2: see the window check
}
MAINTENANCE = (2, "a21002")  # M for 150 min: a facility case too
SIMULATED = timedelta(hours=9)
SETTINGS = RulesSettings(
    ruleset=Ruleset(base=RulesConfig(drift_future_s=10 * 3600)),
    interval_s=0.05,
    settle_s=2.0,  # a frame is committed well within this (production: 5 s)
)


@dataclass
class Clock:
    """Real time plus an offset that the test moves forward."""

    offset: timedelta = field(default_factory=timedelta)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


async def _until(dsn: str, sql: str, *params: object) -> list[tuple[Any, ...]]:
    """Poll until the query returns rows (the rules loop runs every 50 ms)."""
    with anyio.fail_after(60):
        while True:
            found = await anyio.to_thread.run_sync(partial(rows, dsn, sql, *params))
            if found:
                return found
            await anyio.sleep(0.05)


@pytest.fixture
def scenario() -> Scenario:
    return load(SCENARIO)


async def test_each_fault_raises_its_alarm_for_its_station_only_and_replay_agrees(
    rules_dsn: str, tmp_path: Path, scenario: Scenario
) -> None:
    assert scenario.stations is not None
    assert scenario.seed is not None
    stations = build_stations(scenario, scenario.stations, scenario.seed, scenario.mn_prefix or "")
    mn = [s.mn for s in stations]
    register(
        rules_dsn,
        [
            cems(m, f"scenario alarms {m[-2:]}", ranges=(200.0, 500.0, 50.0), rt_interval_s=60)
            for m in mn
        ],
        datetime.now(UTC) - timedelta(days=1),
    )
    clock = Clock()
    gateway = Gateway(
        GatewaySettings(
            host="127.0.0.1",
            port=0,
            metrics_port=0,
            spool_dir=tmp_path / "spool",
            # simulated hours on real receive time: DataTime runs hours ahead on purpose
            max_future=2 * 86400.0,
        ),
        rules_dsn,
    )
    counts: list[Counts] = []
    async with anyio.create_task_group() as tg:
        port = await tg.start(gateway.run)
        tg.start_soon(partial(run_rules, rules_dsn, SETTINGS, clock=clock))
        await _until(rules_dsn, "SELECT 1 FROM hj212.rules_cursor")
        start = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
        assert scenario.duration is not None
        counts.append(
            await run_fleet(
                len(stations), "127.0.0.1", port, scenario.duration, scenario=scenario, start=start
            )
        )
        (last,) = rows(rules_dsn, "SELECT max(received_at) FROM hj212.frame")[0]
        await _until(rules_dsn, "SELECT 1 FROM hj212.rules_cursor WHERE watermark >= %s", last)
        # time passes: every simulated hour is judged (H + 1 h + 10 min)
        target = start + SIMULATED + timedelta(hours=1, minutes=15)
        clock.offset = target + timedelta(seconds=SETTINGS.settle_s) - datetime.now(UTC)
        await _until(rules_dsn, "SELECT 1 FROM hj212.rules_cursor WHERE watermark >= %s", target)
        tg.cancel_scope.cancel()
    (fleet,) = counts
    assert fleet.errors == 0
    raised = _raised(rules_dsn)
    for kind, (index, pollutant) in EXPECTED.items():
        assert (mn[index], kind) in raised, f"{kind} not raised for station {index}"
        if pollutant is None:
            assert (mn[CONTROL], kind) not in raised, f"{kind} raised for the clean station"
        else:
            assert pollutant in raised[(mn[index], kind)], (kind, raised[(mn[index], kind)])
            clean = raised.get((mn[CONTROL], kind), set())
            assert pollutant not in clean, f"{kind} {pollutant} raised for the clean station"
    # the NO/NO2 station raises it for the fault's hour only, not for its clean hours
    inverted = rows(
        rules_dsn,
        "SELECT min(data_time), max(data_time) FROM hj212.alarm"
        " WHERE mn = %s AND kind = 'nox-inversion'",
        mn[13],
    )
    (nox,) = [f for f in scenario.faults if f.kind == "nox_inversion"]
    (first, last_inverted), hour = inverted[0], timedelta(hours=1)
    begin = start + timedelta(seconds=nox.start)
    end = begin + timedelta(seconds=nox.duration)
    assert begin - hour < first <= last_inverted < end + hour  # hour records: hour start
    index, pollutant = MAINTENANCE
    assert pollutant in raised[(mn[index], "facility")]
    assert pollutant not in raised.get((mn[CONTROL], "facility"), set())
    check_replay(rules_dsn, raised, SETTINGS)


def _raised(dsn: str) -> dict[tuple[str, str], set[str | None]]:
    """(MN, kind) -> the pollutants named by the alarms stored for it."""
    out: dict[tuple[str, str], set[str | None]] = {}
    for mn, kind, pollutant in rows(dsn, "SELECT mn, kind, pollutant FROM hj212.alarm"):
        out.setdefault((mn, kind), set()).add(pollutant)
    return out
