"""The demo starts with history (cli/demo_history.py; docs/console.md §7): 14 days of
every demo station computed by the simulators, written through the real storage path
(exact hash chain, measurements), judged by the rules engine, with its faults on
purpose; healthy stations show non-zero transmission rates at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from cli.console_commands import EXTRA_PREFIX, demo_setup
from rules.config import Ruleset
from services import case_view
from services.figures import figures
from simulators.fleet import DEFAULT_PREFIX, build_stations
from simulators.scenario import Scenario
from storage import alarms, chain, incidents, stations
from tests.rules_db import rules_dsn

__all__ = ["rules_dsn"]
pytestmark = [pytest.mark.db, pytest.mark.e2e]
FLEET = 6


def test_the_demo_starts_with_days_of_history_and_its_faults(rules_dsn: str) -> None:
    lines = demo_setup(rules_dsn, FLEET, history_days=14)
    assert lines[-1].startswith(f"history: {FLEET + 2} station(s), 14 days")
    fleet = build_stations(Scenario(), FLEET, 212, DEFAULT_PREFIX)
    now = datetime.now(UTC)
    with psycopg.connect(rules_dsn, autocommit=True) as conn:
        registry = {s.mn: s for s in stations.list_stations(conn)}
        assert len(registry) == FLEET + 2
        gas = next(s for s in fleet if s.model.medium == "gas")
        water = next(s for s in fleet if s.model.name == "water")  # silent 8 h, 3 days ago
        cems = registry[gas.mn]
        assessed = {p.code: p.assessed for p in cems.pollutants}
        assert {c for c, yes in assessed.items() if yes} == {"a21026", "a21002", "a34013"}
        # every chain of the history verifies from its genesis
        for mn in registry:
            report = chain.verify_chain(conn, mn)
            assert report.ok, report.breaks
            assert not report.unanchored
        found = figures(conn, now - timedelta(days=7), now, now=now, ruleset=Ruleset())
        rates = {f.station.mn: f.rate().completion.etr for f in found.stations}
        # the stations with an assessed factor (a flow meter has none: no rate), but the
        # water station silent for 8 h; an exceedance costs no hour
        healthy = [s.mn for s in fleet if s is not water and s.model.name != "flow"]
        assert all(rates[s.mn] is None for s in fleet if s.model.name == "flow")
        low = {mn: rates[mn] for mn in healthy if (rates[mn] or 0.0) < 0.95}
        assert not low, rates
        assert 0 < (rates[water.mn] or 0) < 1
        raised = alarms.list_alarms(conn, mn=gas.mn, kind="exceedance", limit=50)
        assert {a.pollutant for a in raised} == {"a21026"}
        extra = [mn for mn in registry if mn.startswith(EXTRA_PREFIX)]
        open_cases = {c.mn: c for c in incidents.open_cases(conn, extra)}
        assert set(open_cases) == set(extra)  # silent now; back reporting F
        phases = {mn: case_view.link_back(conn, c, Ruleset()) for mn, c in open_cases.items()}
    assert sorted(str(p) for p in phases.values()) == ["silent", "stopped"]
    # a second demo on the same database adds nothing
    again = demo_setup(rules_dsn, FLEET, history_days=14)
    assert again[-1].startswith("history: 0 station(s)")
