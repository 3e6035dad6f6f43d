"""One figure, three readers: the console's routes, the reports and the evidence bundle
ask the same stored month and get the same rates and emission totals, equal to the ones
computed here by hand (so three identical wrong figures cannot pass).

October 2026, region 420100, frames encoded by the codec and stored by the real writer:

* G1, gas (SO2, NOx, PM assessed; O2 and flow not), hourly records (2061) every hour
  but: hours 0-23 under an approved shutdown mark and not sent; hours 100-109 lost;
  SO2 flagged D (fault) in hours 200-205; SO2 at 80 mg/m³ (over its limit) in hours
  250-252; every factor flagged F with no flow in hours 300-303 (unit stopped); hours
  400-409 sent two days late (back-filled). From hour 480 on, minute records (2051,
  every 10 min) too: hours 480-481 have only 4 of them (40 valid minutes < 45); a
  maintenance mark on SO2 over 490:00-490:20 (not half the hour, so the hour itself
  is unmarked) takes two SO2 minutes out; NOx's first two minutes of hour 495 are
  flagged D.

  Expected per factor 744 - 24 - 4 = 716; received 716 - 10 = 706; valid SO2 706 - 6 -
  2 - 1 = 697, NOx 706 - 2 - 1 = 703, PM 706 - 2 = 704; realtime 10 fewer of each.
  SO2 amount: 20 mg/m³ x 360,000 m³ x 10⁻⁶ = 7.2 kg an hour over the 703 hours at 20
  and 28.8 kg over the 3 at 80 (706 hours with a value: F hours have none, D hours count);
  the device's SO2-Cou is 1 % high (check ok), its NOx-Cou 5 % high (differs).
* W1, water (COD, NH3-N, TP, TN), hourly only: hour 3 of every day missing (the check
  hour, exempt), hours 60-65 missing, COD flagged D in hours 200-201. Expected 31 x 23
  = 713 per factor; received 707; valid 707, COD 705. COD 30 mg/L x 36 m³ x 10⁻³ = 1.08
  kg an hour over 707 hours.
* X1, gas in region 510100: outside the jurisdiction asked for.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import json
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from httpx import Client

from config.settings import ConsoleSettings
from console.app import create_app
from console.auth import hash_password
from evidence.export import export_bundle
from protocol import BEIJING, encode
from reports import emissions, transmission
from reports.model import Report
from reports.periods import parse
from services.writer import Writer
from storage import console_store, marks
from tests.console.conftest import serving
from tests.console.support import PASSWORD
from tests.evidence.support import record
from tests.rules.support import gas_station, water_station
from tests.rules_db import fresh_database, register

pytestmark = pytest.mark.db

MONTH = datetime(2026, 10, 1, tzinfo=BEIJING)
NEXT = datetime(2026, 11, 1, tzinfo=BEIJING)
H = timedelta(hours=1)
AFTER = NEXT + timedelta(hours=1)  # every hour of October ended and judged
DURING = MONTH + timedelta(days=19, hours=13, minutes=5)  # 10-20 13:05: hours 0-467 judged
G1, W1, X1 = "FIGURE000000000000000G01", "FIGURE000000000000000W01", "FIGURE000000000000000X01"
GAS = {"a21026": 20.0, "a21002": 30.0, "a34013": 4.0, "a19001": 9.0, "a00000": 100.0}
WATER = {"w01018": 30.0, "w21003": 2.0, "w21011": 0.3, "w21001": 10.0, "w00000": 10.0}
USER = "figures-operator"

Frames = list[tuple[datetime, bytes]]


def _upload(mn: str, cn: str, at: datetime, values: dict[str, dict[str, object]]) -> list[bytes]:
    qn = encode.new_qn(at)
    return encode.upload(cn, data_time=at, values=values, qn=qn, st="31", pw="123456", mn=mn)


def _gas_hour(h: int) -> dict[str, dict[str, object]]:
    values = {c: {"Min": v, "Avg": v, "Max": v, "Flag": "N"} for c, v in GAS.items()}
    so2 = 80.0 if 250 <= h < 253 else 20.0
    values["a21026"].update(Min=so2, Avg=so2, Max=so2, Cou=so2 * 0.36 * 1.01)
    values["a21002"]["Cou"] = 30 * 0.36 * 1.05
    values["a00000"]["Cou"] = 360_000.0
    if 200 <= h < 206:
        values["a21026"]["Flag"] = "D"
    if 300 <= h < 304:  # the unit stopped: no flow, no amounts, every factor F
        values = {c: {"Avg": 0.0 if c == "a00000" else v, "Flag": "F"} for c, v in GAS.items()}
    return values


def _gas() -> Frames:
    out: Frames = []
    for h in range(24, 744):
        if 100 <= h < 110:
            continue
        at = MONTH + h * H
        late = timedelta(days=2) if 400 <= h < 410 else timedelta()
        out += [
            (at + H + timedelta(seconds=5) + late, raw)
            for raw in _upload(G1, "2061", at, _gas_hour(h))
        ]
        if h < 480:
            continue
        for k in range(4 if h in (480, 481) else 6):
            minute = at + timedelta(minutes=10 * k)
            values = {c: {"Min": v, "Avg": v, "Max": v, "Flag": "N"} for c, v in GAS.items()}
            if h == 495 and k < 2:
                values["a21002"]["Flag"] = "D"
            received = minute + timedelta(minutes=10, seconds=3)
            out += [(received, raw) for raw in _upload(G1, "2051", minute, values)]
    return out


def _water() -> Frames:
    out: Frames = []
    for h in range(744):
        if h % 24 == 3 or 60 <= h < 66:
            continue
        at = MONTH + h * H
        values = {c: {"Min": v, "Avg": v, "Max": v, "Flag": "N"} for c, v in WATER.items()}
        values["w00000"]["Cou"] = 36.0
        if h in (200, 201):
            values["w01018"]["Flag"] = "D"
        out += [(at + H + timedelta(seconds=5), raw) for raw in _upload(W1, "2061", at, values)]
    return out


def _elsewhere() -> Frames:
    values = {c: {"Min": v, "Avg": v, "Max": v, "Flag": "N"} for c, v in GAS.items()}
    hours = [MONTH + h * H for h in range(24, 48)]
    return [(at + H, raw) for at in hours for raw in _upload(X1, "2061", at, values)]


async def _write(dsn: str, frames: Frames) -> list[str]:
    writer = Writer(dsn, max_batch=500)
    task = asyncio.create_task(writer.run())
    try:
        return list(await asyncio.gather(*(writer.submit(record(at, raw)) for at, raw in frames)))
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.fixture(scope="module")
def month(server_dsn: str) -> Iterator[str]:
    with fresh_database(server_dsn) as dsn:
        register(
            dsn,
            [
                gas_station(G1, name="一号锅炉", enterprise="E1"),
                water_station(W1, name="总排口", enterprise="E2"),
                gas_station(X1, region_code="510100", enterprise="E9"),
            ],
            MONTH - timedelta(days=10),
        )
        frames = sorted(_gas() + _water() + _elsewhere())
        assert set(asyncio.run(_write(dsn, frames))) == {"ok"}
        with psycopg.connect(dsn) as conn:
            for start, end, kind, pollutant in (
                (MONTH, MONTH + 24 * H, "shutdown", None),
                (MONTH + 490 * H, MONTH + 490 * H + timedelta(minutes=20), "maintenance", "a21026"),
            ):
                ident = marks.add(
                    conn, mn=G1, start=start, end=end, kind=kind, reason="检修", who="enterprise",
                    pollutant=pollutant,
                )  # fmt: skip
                marks.review(conn, ident, approve=True, who="regulator")
            console_store.add_user(conn, USER, hash_password(PASSWORD), "operator", "42", "")
        yield dsn


@pytest.fixture(scope="module")
def clock() -> list[datetime]:
    return [AFTER]


@pytest.fixture(scope="module")
def console(month: str, clock: list[datetime]) -> Iterator[Client]:
    app = create_app(month, ConsoleSettings(), clock=lambda: clock[0])
    with serving(app) as url, Client(base_url=url) as client:
        answer = client.post("/api/login", json={"name": USER, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        yield client


# -- the three readers, each reduced to {mn: {...}} -------------------------------------
WINDOW = {"start": MONTH.isoformat(), "end": NEXT.isoformat()}


def _console_rates(client: Client) -> dict[str, tuple[int, int, float, float]]:
    body = client.get("/api/rates", params=WINDOW).json()
    return {s["mn"]: (s["expected"], s["valid"], s["etr"], s["etr_rt"]) for s in body["stations"]}


def _console_emissions(client: Client, mn: str) -> dict[str, tuple[float, float, int]]:
    body = client.get(f"/api/stations/{mn}/emissions", params=WINDOW).json()
    return {
        code: (
            sum(d["computed"] for d in days),
            sum(d["device"] for d in days),
            sum(d["hours"] for d in days),
        )
        for code, days in body["factors"].items()
    }


def _table(report: Report) -> list[dict[str, Any]]:
    table = report.tables[0]
    return [dict(zip(table.columns, row, strict=True)) for row in table.rows]


def _report_rates(report: Report) -> dict[str, tuple[int, int, float, float]]:
    return {
        r["mn"]: (r["expected"], r["valid"], r["etr"], r["etr_rt"])
        for r in _table(report)
        if r["level"] == "station"
    }


def _report_factor_rates(report: Report, mn: str) -> dict[str, tuple[int, int, int, int]]:
    return {
        r["pollutant"]: (r["expected"], r["received"], r["valid"], r["valid_rt"])
        for r in _table(report)
        if r["level"] == "pollutant" and r["mn"] == mn
    }


def _report_emissions(report: Report, mn: str) -> dict[str, dict[str, Any]]:
    return {r["item"]: r for r in _table(report) if r["level"] == "station" and r["mn"] == mn}


def _bundle(dsn: str, mn: str, now: datetime, where: Path) -> dict[str, Any]:
    out = where / f"{mn}-{now:%d%H}.zip"
    export_bundle(dsn, mn, MONTH, NEXT, out, who="test", key_dir=where / "keys", now=now)
    with zipfile.ZipFile(out) as z:
        figures: dict[str, Any] = json.loads(z.read("figures/figures.json"))
    return figures


def _bundle_rates(figures: dict[str, Any]) -> tuple[int, int, float, float]:
    total = figures["transmission"]["total"]
    c, rt = total["completion"], total["realtime"]
    return c["expected"], c["valid"], c["etr"], rt["etr"]


def _bundle_factor_rates(figures: dict[str, Any]) -> dict[str, tuple[int, int, int, int]]:
    return {
        code: (
            t["completion"]["expected"],
            t["completion"]["received"],
            t["completion"]["valid"],
            t["realtime"]["valid"],
        )
        for code, t in figures["transmission"]["factors"].items()
    }


# -- by hand ----------------------------------------------------------------------------
G1_FACTORS = {  # expected, received, valid, valid realtime
    "a21002": (716, 706, 703, 693),
    "a21026": (716, 706, 697, 687),
    "a34013": (716, 706, 704, 694),
}
W1_FACTORS = {
    "w01018": (713, 707, 705, 705),
    "w21001": (713, 707, 707, 707),
    "w21003": (713, 707, 707, 707),
    "w21011": (713, 707, 707, 707),
}
G1_SO2_KG = 703 * 7.2 + 3 * 28.8
W1_COD_KG = 707 * 1.08


def test_the_month_is_one_figure_in_the_console_the_report_and_the_bundle(
    month: str, console: Client, clock: list[datetime], tmp_path: Path
) -> None:
    clock[0] = AFTER
    with psycopg.connect(month) as conn:
        rates = transmission.build(conn, parse("2026-10"), region="42", now=AFTER)
        amounts = emissions.build(conn, parse("2026-10"), region="42", now=AFTER)
    bundles = {mn: _bundle(month, mn, AFTER, tmp_path) for mn in (G1, W1)}
    shown = _console_rates(console)
    # by hand first: the report's factor rows and the bundle's factors
    assert _report_factor_rates(rates, G1) == G1_FACTORS == _bundle_factor_rates(bundles[G1])
    assert _report_factor_rates(rates, W1) == W1_FACTORS == _bundle_factor_rates(bundles[W1])
    g1 = (2148, 2104, 2104 / 2148, 2074 / 2148)
    assert _report_rates(rates)[G1] == pytest.approx(g1)
    # then the three readers against each other, every station of the jurisdiction
    assert set(shown) == set(_report_rates(rates)) == {G1, W1}  # X1 is in Sichuan
    assert shown == _report_rates(rates)
    for mn, figures in bundles.items():
        assert _bundle_rates(figures) == shown[mn]
    # emissions: the report's direct-report items, the console's and the bundle's totals
    for mn, by_hand in ((G1, {"a21026": G1_SO2_KG}), (W1, {"w01018": W1_COD_KG})):
        reported, figures = _report_emissions(amounts, mn), bundles[mn]["emissions"]
        on_screen = _console_emissions(console, mn)
        assert set(on_screen) == set(figures)  # the same factors have amounts
        assert set(reported) <= set(figures)
        for code, (computed, device, hours) in on_screen.items():
            assert (computed, device, hours) == pytest.approx(
                (figures[code]["computed"], figures[code]["device"], figures[code]["hours"])
            ), code
        for code, row in reported.items():
            assert row["amount"] == round(figures[code]["computed"], 3), code
            assert row["hours"] == figures[code]["hours"], code
            assert row["check"] == figures[code]["check"], code
        for code, kg in by_hand.items():
            assert figures[code]["computed"] == pytest.approx(kg)
    so2, nox = bundles[G1]["emissions"]["a21026"], bundles[G1]["emissions"]["a21002"]
    assert so2["hours"] == 706
    assert so2["device"] == pytest.approx(G1_SO2_KG * 1.01)
    assert (so2["check"], nox["check"]) == ("ok", "differs")
    assert "a19001" not in bundles[G1]["emissions"]  # O2 has no amount
    assert bundles[G1]["emissions"]["a00000"]["computed"] == pytest.approx(706 * 360_000)


def test_the_report_command_says_the_same(
    month: str, console: Client, clock: list[datetime]
) -> None:
    """``hj212 report`` in a process of its own (on the real clock: October is long
    judged) prints the console's figures."""
    clock[0] = AFTER
    answer = subprocess.run(
        [sys.executable, "-m", "cli", "report", "transmission", "--period", "2026-10",
         "--region", "42", "--format", "csv", "--dsn", month],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert answer.returncode == 0, answer.stderr
    rows = list(csv.DictReader(io.StringIO(answer.stdout.removeprefix("\ufeff"))))
    printed = {r["mn"]: r for r in rows if r["level"] == "station"}
    for mn, (expected, valid, etr, etr_rt) in _console_rates(console).items():
        assert (int(printed[mn]["expected"]), int(printed[mn]["valid"])) == (expected, valid)
        assert printed[mn]["etr"] == f"{etr * 100:.2f}"
        assert printed[mn]["etr_rt"] == f"{etr_rt * 100:.2f}"
    assert printed[G1]["expected"] == "2148"


def test_a_month_still_running_is_counted_alike_up_to_the_hours_judged(
    month: str, console: Client, clock: list[datetime], tmp_path: Path
) -> None:
    """Asked on 10-20 at 13:05: hours 0-467 are ended and judged (12:00 ended at 13:00,
    judged at 13:10 is not yet). G1: 468 - 24 (mark) - 4 (F) = 440 expected a factor,
    430 received; SO2 valid 424 (D), NOx and PM 430; minutes start after."""
    clock[0] = DURING
    with psycopg.connect(month) as conn:
        rates = transmission.build(conn, parse("2026-10"), region="42", now=DURING)
        amounts = emissions.build(conn, parse("2026-10"), region="42", now=DURING)
    figures = _bundle(month, G1, DURING, tmp_path)
    body = console.get("/api/rates", params=WINDOW).json()
    assert datetime.fromisoformat(body["counted_to"]) == MONTH + 468 * H
    assert figures["counted"]["to"] == (MONTH + 468 * H).isoformat()
    assert "2026-10-20 12:00" in rates.subtitle
    assert _report_factor_rates(rates, G1) == {
        "a21002": (440, 430, 430, 420),
        "a21026": (440, 430, 424, 414),
        "a34013": (440, 430, 430, 420),
    }
    assert _bundle_factor_rates(figures) == _report_factor_rates(rates, G1)
    assert _console_rates(console) == _report_rates(rates)
    assert _bundle_rates(figures) == _report_rates(rates)[G1]
    so2_kg = 427 * 7.2 + 3 * 28.8  # hours 24-467 with a value: 444 - 10 lost - 4 F
    assert figures["emissions"]["a21026"]["computed"] == pytest.approx(so2_kg)
    assert _console_emissions(console, G1)["a21026"] == pytest.approx((so2_kg, so2_kg * 1.01, 430))
    assert _report_emissions(amounts, G1)["a21026"]["amount"] == pytest.approx(so2_kg, abs=1e-3)
