"""Manual samples in the one figure (services/figures.py, rules/manual.py): an accepted
sample stands for the hours up to the next (at most 6 h) where the automatic hour is
not valid; they count valid in the completion rate only, and their emissions are
computed from the manual value and marked as manual hours. Pending and rejected samples
count nothing, and nothing changes where the automatic hour was valid."""

from __future__ import annotations

from datetime import datetime, timedelta

import psycopg
import pytest

from protocol import BEIJING
from rules.config import Ruleset
from rules.emissions import Total, mass_factor
from rules.transmission import Tally
from services import case_forms as forms
from services.figures import figures
from tests.rules.support import GOOD_GAS, H, gas_station, hourly, varied
from tests.rules_db import register, rules_dsn, store

__all__ = ["rules_dsn"]
pytestmark = [pytest.mark.db]

T0 = datetime(2026, 11, 10, 0, 0, tzinfo=BEIJING)
MN = "MANUALFIG01"
PDF = forms.Upload("lab.pdf", "application/pdf", b"%PDF-1.4\n%%EOF\n")


def _so2(dsn: str, now: datetime) -> tuple[Tally, Total]:
    with psycopg.connect(dsn) as conn:
        found = figures(conn, T0, T0 + 12 * H, now=now, ruleset=Ruleset(), mns=[MN])
    (one,) = found.stations
    return one.factor_rates()["a21026"], one.emission_totals()["a21026"]


def test_accepted_samples_fill_the_invalid_hours_they_stand_for(rules_dsn: str) -> None:
    station = gas_station(MN)
    register(rules_dsn, [station], T0 - timedelta(days=1))
    records = hourly(station, range(2), start=T0)
    records += [r for h in range(2, 8) for r in hourly(station, [h], T0, a21026=(20.0, "D"))]
    records += hourly(station, range(8, 12), start=T0)
    store(rules_dsn, records)
    now = T0 + 13 * H
    rate_before, total_before = _so2(rules_dsn, now)
    with psycopg.connect(rules_dsn, autocommit=True) as conn:
        row = conn.execute(
            "INSERT INTO hj212.case (key, mn, kind, pollutant, opened_at, started_at)"
            " VALUES ('k', %s, 'facility', 'a21026', %s, %s) RETURNING id",
            (MN, T0 + 3 * H, T0 + 2 * H),
        ).fetchone()
        assert row is not None
        case_id = int(row[0])
        ids = []
        for taken, value in ((T0 + 2.5 * H, 24.0), (T0 + 7 * H, 26.0), (T0 + 5 * H, 99.0)):
            form = forms.SampleForm(
                case_id, "a21026", taken, value, "mg/m3", "HJ 57-2017", "lab", (PDF,)
            )
            ids.append(forms.file_sample(conn, form, "ent", taken + H / 4))
        forms.review_sample(conn, ids[0], accept=True, note="", who="reg", at=now)
        forms.review_sample(conn, ids[1], accept=True, note="", who="reg", at=now)
        forms.review_sample(conn, ids[2], accept=False, note="wrong lab", who="reg", at=now)
    rate, total = _so2(rules_dsn, now)
    # hours 2-7 were D: 2.5 h's sample stands for 2-6 (up to the next at 7:00), 7:00's for 7
    assert rate.completion.valid == rate_before.completion.valid + 6
    assert rate.realtime == rate_before.realtime
    assert total.manual_hours == 6
    assert total.hours == total_before.hours
    factor = mass_factor("a21026")
    assert factor is not None
    volume = {h: varied(GOOD_GAS, h)["a00000"] * 3600 for h in range(12)}
    automatic = sum(
        varied(GOOD_GAS, h)["a21026"] * volume[h] * factor for h in (0, 1, *range(8, 12))
    )
    manual = sum(24.0 * volume[h] * factor for h in range(2, 7)) + 26.0 * volume[7] * factor
    assert total.computed == pytest.approx(automatic + manual)
