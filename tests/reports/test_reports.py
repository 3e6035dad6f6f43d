"""Reports for a simulated month, checked against a hand computation.

October 2026 (31 days, 744 hours), region 420100:

* G1, gas, enterprise E1: SO2 / NOx / PM assessed. The first 48 h under a shutdown
  mark; hours 100-109 lost (nothing received); SO2 flagged C for hours 200-205; hours
  300-309 sent two days late (補传). So expected (744 - 48) x 3 = 2088, received
  (696 - 10) x 3 = 2058, valid 2058 - 6 = 2052; realtime received 2058 - 30 = 2028,
  valid 2052 - 30 = 2022.
* G2, gas, E1: 60 hours lost: expected 744 x 3 = 2232, received = valid = 684 x 3 = 2052.
* W1, water, E2: COD, NH3-N, TP, TN; hour 3 of every day missing (the standard-sample
  check, exempt): expected = received = valid = 31 x 23 = 713 per factor.
* X1, gas in region 510100: left out by --region 42.

Emissions, constant values: G1 SO2 20 mg/m³, NOx 30, PM 4, flow 100 m³/s (360,000 m³ an
hour): SO2 7.2 kg an hour over the 734 hours received = 5284.8 kg; the device's SO2-Cou
is 1 % high. W1 COD 30 mg/L at 10 L/s (36 m³ an hour): 1.08 kg an hour x 713 hours.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from protocol import BEIJING
from reports import emissions, render, svg, transmission
from reports.model import Chart
from reports.periods import PeriodError, parse
from rules.model import Reading, Record
from tests.rules.support import gas_station, water_station
from tests.rules_db import fresh_database, register, store

pytestmark = [pytest.mark.db]

MONTH = datetime(2026, 10, 1, tzinfo=BEIJING)
H = timedelta(hours=1)
LATER = datetime(2027, 1, 1, 1, tzinfo=BEIJING)  # every hour of the periods judged
GAS = {"a21026": 20.0, "a21002": 30.0, "a34013": 4.0, "a19001": 9.0, "a00000": 100.0}
WATER = {"w01018": 30.0, "w21003": 2.0, "w21011": 0.3, "w21001": 10.0, "w00000": 10.0}


def _hour(
    mn: str,
    h: int,
    values: dict[str, float],
    *,
    flags: dict[str, str] | None = None,
    late: bool = False,
    cou: dict[str, float] | None = None,
) -> Record:
    at = MONTH + h * H
    received = at + H + timedelta(seconds=5) + (timedelta(days=2) if late else timedelta())
    readings = {
        code: Reading(
            avg=v, min=v, max=v, cou=(cou or {}).get(code), flag=(flags or {}).get(code, "N")
        )
        for code, v in values.items()
    }
    return Record(mn, "2061", received, at, readings)


def _month() -> list[Record]:
    records: list[Record] = []
    so2_cou = {"a21026": 7.2 * 1.01, "a21002": 10.8, "a00000": 360_000.0}
    for h in range(744):
        if not 100 <= h < 110:
            flags = {"a21026": "C"} if 200 <= h < 206 else None
            records.append(_hour("G1", h, GAS, flags=flags, late=300 <= h < 310, cou=so2_cou))
        if not 400 <= h < 460:
            records.append(_hour("G2", h, GAS))
        if h % 24 != 3:
            records.append(_hour("W1", h, WATER, cou={"w00000": 36.0}))
        if h < 24:
            records.append(_hour("X1", h, GAS))
    return records


@pytest.fixture(scope="module")
def month_dsn(server_dsn: str) -> Iterator[str]:
    with fresh_database(server_dsn) as dsn:
        _fill(dsn)
        yield dsn


def _fill(rules_dsn: str) -> None:
    before = MONTH - timedelta(days=10)
    register(
        rules_dsn,
        [
            gas_station("G1", name="Plant 1 stack", enterprise="E1"),
            gas_station("G2", name="Plant 1 boiler", enterprise="E1"),
            water_station("W1", name="Works outfall", enterprise="E2"),
            gas_station("X1", region_code="510100", enterprise="E9"),
        ],
        before,
    )
    assert set(store(rules_dsn, _month())) == {"ok"}
    with psycopg.connect(rules_dsn) as conn:
        conn.execute(
            "INSERT INTO hj212.data_mark (mn, period, category, reason, marked_at)"
            " VALUES ('G1', tstzrange(%s, %s), '停运', 'boiler overhaul', %s)",
            (MONTH, MONTH + 48 * H, MONTH),
        )


def _rows(report_table: object) -> dict[tuple[str, str, str, str], dict[str, object]]:
    table = report_table  # reports.model.Table
    out = {}
    for row in table.rows:  # type: ignore[attr-defined]
        record = dict(zip(table.columns, row, strict=True))  # type: ignore[attr-defined]
        key = (
            str(record["level"]),
            str(record["mn"]),
            str(record["enterprise"]),
            str(record["pollutant"]),
        )
        out[key] = record
    return out


def test_transmission_report_matches_the_hand_computation(month_dsn: str) -> None:
    with psycopg.connect(month_dsn) as conn:
        report = transmission.build(conn, parse("2026-10"), region="42", now=LATER)
    rows = _rows(report.tables[0])
    assert not any(key[1] == "X1" for key in rows)  # another region
    g1 = rows[("station", "G1", "E1", "")]
    assert (g1["expected"], g1["received"], g1["valid"]) == (2088, 2058, 2052)
    assert (g1["received_rt"], g1["valid_rt"], g1["shutdown_h"]) == (2028, 2022, 144)
    assert round(g1["etr"] * 100, 2) == round(2052 / 2088 * 100, 2) == 98.28  # type: ignore[operator]
    assert round(g1["etr_rt"] * 100, 2) == 96.84  # type: ignore[operator]
    assert g1["pass"] == "yes"
    so2 = rows[("pollutant", "G1", "E1", "a21026")]
    assert (so2["expected"], so2["received"], so2["valid"]) == (696, 686, 680)
    g2 = rows[("station", "G2", "E1", "")]
    assert (g2["expected"], g2["received"], g2["valid"]) == (2232, 2052, 2052)
    assert g2["pass"] == "no"  # 91.94 %
    w1 = rows[("station", "W1", "E2", "")]
    assert (w1["expected"], w1["received"], w1["valid"], w1["exempt_h"]) == (2852, 2852, 2852, 124)
    assert w1["etr"] == 1.0
    e1 = rows[("enterprise", "", "E1", "")]
    assert (e1["expected"], e1["received"], e1["valid"]) == (4320, 4110, 4104)
    assert e1["etr"] == pytest.approx(0.95)
    assert e1["pass"] == "no"  # exactly 95 %: 大于 95 % (seed 003 Art. 8) is not met
    assert round(e1["etr_rt"] * 100, 2) == 94.31  # type: ignore[operator]
    total = rows[("total", "", "", "")]
    assert (total["expected"], total["valid"]) == (4320 + 2852, 4104 + 2852)
    daily = report.tables[1]
    assert len(daily.rows) == 31
    assert daily.column("day")[0] == "2026-10-01"


def test_a_month_still_running_counts_the_hours_judged_and_says_up_to_when(
    month_dsn: str,
) -> None:
    """Asked on 10-11 at 03:05 (Beijing): 01:00 ended at 02:00 and was judged at 02:10,
    02:00 is not judged until 03:10; 10 days and 2 hours = 242 hours count, none after."""
    asked = MONTH + timedelta(days=10, hours=3, minutes=5)
    with psycopg.connect(month_dsn) as conn:
        report = transmission.build(conn, parse("2026-10"), region="42", now=asked)
        finished = transmission.build(conn, parse("2026-10"), region="42", now=LATER)
    rows = _rows(report.tables[0])
    g2 = rows[("station", "G2", "E1", "")]  # hours 400-459 lost are all still to come
    assert (g2["expected"], g2["received"], g2["valid"]) == (242 * 3, 242 * 3, 242 * 3)
    assert g2["pass"] == "yes"
    g1 = rows[("station", "G1", "E1", "")]  # 48 h shut down, hours 100-109 lost
    assert (g1["expected"], g1["received"]) == ((242 - 48) * 3, (242 - 58) * 3)
    daily = report.tables[1]
    assert daily.column("day")[-1] == "2026-10-11"  # no day after the moment asked
    assert "统计期未结束" in report.subtitle
    assert "2026-10-11 02:00" in report.subtitle
    assert "统计期未结束" not in finished.subtitle


def test_emissions_report_matches_the_hand_computation(month_dsn: str) -> None:
    with psycopg.connect(month_dsn) as conn:
        report = emissions.build(conn, parse("2026Q4"), region="42", now=LATER)
    rows = {}
    for row in report.tables[0].rows:
        record = dict(zip(report.tables[0].columns, row, strict=True))
        rows[
            (record["level"], record["mn"], record["enterprise"], record["month"], record["item"])
        ] = record
    so2 = rows[("station", "G1", "E1", "2026Q4", "a21026")]
    assert so2["amount"] == pytest.approx(734 * 7.2)
    assert so2["hours"] == 734
    assert so2["device_cou"] == pytest.approx(734 * 7.2 * 1.01)
    assert so2["difference"] == pytest.approx(0.01)
    assert so2["check"] == "ok"  # 1 % is within the 2 % tolerance
    assert rows[("month", "G1", "E1", "2026-10", "a21026")]["amount"] == pytest.approx(734 * 7.2)
    flue = rows[("station", "G1", "E1", "2026Q4", "a00000")]
    assert flue["amount"] == pytest.approx(734 * 360_000)
    cod = rows[("station", "W1", "E2", "2026Q4", "w01018")]
    assert cod["amount"] == pytest.approx(713 * 1.08)
    water = rows[("station", "W1", "E2", "2026Q4", "w00000")]
    assert water["amount"] == pytest.approx(713 * 36)
    nh3 = rows[("station", "W1", "E2", "2026Q4", "w21003")]
    assert nh3["amount"] == pytest.approx(713 * 36 * 2.0 / 1000)
    e1 = rows[("enterprise", "", "E1", "2026Q4", "a21026")]
    assert e1["amount"] == pytest.approx((734 + 684) * 7.2)
    total = rows[("total", "", "", "2026Q4", "a21002")]
    assert total["amount"] == pytest.approx((734 + 684) * 10.8)
    # each medium's pollutants and its volume on axes of their own; months without data
    # (November, December) have no bar rather than a zero one
    charts = {c.title: c for c in report.charts}
    assert list(charts) == [
        "水污染物 Water pollutants by month (kg)",
        "废水量 Waste water by month (m³)",
        "大气污染物 Air pollutants by month (kg)",
        "废气量 Flue gas by month (m³)",
    ]
    waste_water = charts["废水量 Waste water by month (m³)"]
    assert waste_water.series == {"2026-10": [713 * 36], "2026-11": [None], "2026-12": [None]}
    air = charts["大气污染物 Air pollutants by month (kg)"]
    assert air.series["2026-10"][0] == pytest.approx((734 + 684) * 7.2)


def test_renderers(month_dsn: str, tmp_path: Path) -> None:
    with psycopg.connect(month_dsn) as conn:
        report = transmission.build(conn, parse("2026-10"), region="42", now=LATER)
    text = render.to_csv(report)
    assert text.encode("utf-8").startswith(b"\xef\xbb\xbf")  # the BOM Excel needs
    lines = text.removeprefix("\ufeff").splitlines()
    assert lines[0].startswith("level,region_code,enterprise,mn,station,pollutant,expected")
    assert any(
        line.startswith("station,420100,E1,G1,Plant 1 stack,,2088,144,0,2028,2022,")
        and ",98.28," in line
        for line in lines
    )
    html = render.to_html(report)
    assert html.count("<svg") == 2
    assert "<script" not in html
    assert "http" not in html.replace("http://www.w3.org/2000/svg", "")  # nothing external
    assert 'class="threshold"' in html
    assert "Plant 1 stack" in html
    path = tmp_path / "transmission.xlsx"
    render.to_xlsx(report, path)
    from openpyxl import load_workbook

    book = load_workbook(path)
    assert book.sheetnames == ["transmission", "daily", "notes"]
    sheet = book["transmission"]
    header = [c.value for c in sheet[1]]
    values = {}
    for row in sheet.iter_rows(min_row=2, values_only=True):
        record = dict(zip(header, row, strict=True))
        values[(record["level"], record["mn"])] = record
    assert values[("station", "G1")]["valid"] == 2052
    assert values[("station", "G1")]["etr"] == pytest.approx(2052 / 2088)


def test_the_report_commands(month_dsn: str, tmp_path: Path) -> None:
    base = [sys.executable, "-m", "cli", "report"]
    csv_out = subprocess.run(
        [
            *base,
            "transmission",
            "--period",
            "2026-10",
            "--region",
            "42",
            "--format",
            "csv",
            "--dsn",
            month_dsn,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert csv_out.returncode == 0, csv_out.stderr
    assert csv_out.stdout.startswith("\ufeff")
    assert ",G1,Plant 1 stack,,2088," in csv_out.stdout
    target = tmp_path / "q.html"
    html = subprocess.run(
        [
            *base,
            "emissions",
            "--quarter",
            "2026Q4",
            "--format",
            "html",
            "--output",
            str(target),
            "--dsn",
            month_dsn,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert html.returncode == 0, html.stderr
    assert "<svg" in target.read_text("utf-8")
    xlsx = subprocess.run(
        [
            *base,
            "transmission",
            "--period",
            "2026Q4",
            "--format",
            "xlsx",
            "--output",
            str(tmp_path / "t.xlsx"),
            "--dsn",
            month_dsn,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert xlsx.returncode == 0, xlsx.stderr
    assert (tmp_path / "t.xlsx").stat().st_size > 1000
    bad = subprocess.run(
        [*base, "transmission", "--period", "2026-13", "--dsn", month_dsn],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2


def test_chart_figures_count_in_wan_and_yi() -> None:
    assert [svg.number(v) for v in (0, 37.058, 4800, 16809.1, 6e7, 2.656e8, 3e8)] == [
        "0",
        "37.06",
        "4800",
        "1.681万",
        "6000万",
        "2.656亿",
        "3亿",
    ]
    flue = Chart("bar", "废气量", ["废气排放量 flue gas"], {"2026-10": [2.656e8]}, "m³")
    drawn = svg.render(flue)
    assert ">3亿</text>" in drawn  # the axis top
    assert '<text class="figure"' in drawn
    assert ">2.656亿</text>" in drawn  # the bar's own figure
    assert "rotate(" not in drawn  # one label, flat under its bar


def test_many_chart_labels_turn_and_crowded_bars_carry_no_figures() -> None:
    days = [f"2026-10-{d:02d}" for d in range(1, 32)]
    daily = Chart("bar", "daily", days, {"etr": [0.9] * 31}, "%", threshold=0.95)
    drawn = svg.render(daily)
    assert drawn.count("rotate(-40") == 31
    assert 'class="figure"' not in drawn  # 31 bars: no room for their figures
    few = svg.render(
        Chart("bar", "rates", ["boiler 0", "outfall 2"], {"etr": [0.9954, 0.568]}, "%")
    )
    assert "rotate(" not in few
    assert ">99.54%</text>" in few
    assert ">56.80%</text>" in few


def test_periods() -> None:
    quarter = parse("2026q3")
    assert (quarter.start, quarter.end) == (
        datetime(2026, 7, 1, tzinfo=BEIJING),
        datetime(2026, 10, 1, tzinfo=BEIJING),
    )
    assert len(quarter.months()) == 3
    assert parse("2026-12").end == datetime(2027, 1, 1, tzinfo=BEIJING)
    assert len(parse("2028-02").days()) == 29
    assert parse("2026-10-03").kind == "day"
    with pytest.raises(PeriodError):
        parse("2026-13")


def test_a_yearly_period(month_dsn: str) -> None:
    """Issue 20: a year is a report period (docs/regulations.md §1.4); October's data
    are the year's, the other months' hours are expected and missing."""
    year = parse("2026")
    assert (year.kind, year.start, year.end) == (
        "year",
        datetime(2026, 1, 1, tzinfo=BEIJING),
        datetime(2027, 1, 1, tzinfo=BEIJING),
    )
    assert len(year.months()) == 12
    with psycopg.connect(month_dsn) as conn:
        report = transmission.build(conn, year, region="42", now=LATER)
        october = transmission.build(conn, parse("2026-10"), region="42", now=LATER)
    g1, g1_october = (_rows(r.tables[0])[("station", "G1", "E1", "")] for r in (report, october))
    assert (g1["received"], g1["valid"]) == (g1_october["received"], g1_october["valid"])
    assert int(str(g1["expected"])) > int(str(g1_october["expected"]))  # Nov., Dec. expected
    days = [str(d) for d in report.tables[1].column("day")]
    assert days[-1] == "2026-12-31"  # from the day the stations were monitored on
    assert (
        len(days) == len(set(days)) == (datetime(2027, 1, 1) - datetime.fromisoformat(days[0])).days
    )


@pytest.mark.parametrize(("period", "region"), [("1973", "7"), ("2026-10-05", "42")])
def test_a_pdf_of_a_period_with_nothing_or_one_day_in_it(
    month_dsn: str, period: str, region: str
) -> None:
    """An empty period (no stations, no days: the console's report download answered
    500, schemathesis drew ?period=1973&region=7&format=pdf) and a single day (a line of
    one point, drawn as a bar) still give a PDF."""
    from evidence.report import to_pdf

    with psycopg.connect(month_dsn) as conn:
        report = transmission.build(conn, parse(period), region=region, now=LATER)
    days = next(c for c in report.charts if c.kind == "line").labels
    assert len(days) == (0 if period == "1973" else 1)
    assert to_pdf(report).startswith(b"%PDF")
