"""The station registry: CSV and TOML import with per-line errors, upsert, list, audit."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import psycopg
import pytest

from protocol import BEIJING
from services import registry_file
from storage import stations
from tests.storage.support import new_mn, rows

ROOT = Path(__file__).resolve().parents[2]

CSV_HEADER = (
    "mn,name,enterprise,outlet,medium,region_code,password,protocol_version,legacy_crc,"
    "rt_interval_s,minute_interval_min,o2_ref,active,pollutants\n"
)


def _csv(mn_a: str, mn_b: str) -> str:
    return CSV_HEADER + (
        f"{mn_a},1号排口,示例化工,DA001,gas,420100,123456,2017,reject,30,10,6,true,"
        '"a21026 limit=35 period=hour range=0..200 unit=mg/m3; a21002 limit=50"\n'
        f"{mn_b},Bad region,X,W1,water,4201,123456,2017,reject,30,10,,true,\n"
        f"{mn_b},Bad medium,X,W1,steam,420100,123456,2017,reject,30,10,,true,\n"
        f"{mn_b},Bad minute,X,W1,water,420100,123456,2017,reject,30,7,,true,\n"
        f'{mn_b},Bad range,X,W1,water,420100,123456,2017,reject,30,10,,true,"w01018 range=9..1"\n'
        f"{mn_b},污水总排口,示例水厂,DW001,water,420102,654321,2005,modbus,60,5,,yes,"
        "w01018 limit=50 period=day;w21003\n"
    )


def test_csv_errors_name_their_lines_and_good_lines_still_parse() -> None:
    parsed = registry_file.parse_csv(_csv("AAA1", "BBB2"))
    assert [s.mn for s in parsed.stations] == ["AAA1", "BBB2"]
    assert [e.split(":")[0] for e in parsed.errors] == ["line 3", "line 4", "line 5", "line 6"]
    assert "region_code" in parsed.errors[0]
    assert "medium" in parsed.errors[1]
    gas = parsed.stations[0]
    assert gas.o2_ref == 6.0
    assert gas.medium == "gas"
    assert gas.region_code == "420100"
    assert gas.pollutants[0] == stations.Pollutant(
        "a21026", True, 35.0, "hour", 0.0, 200.0, "mg/m3"
    )
    assert parsed.stations[1].legacy_crc == "modbus"


def test_toml_stations_with_pollutant_tables_and_a_bad_one() -> None:
    text = """
[[station]]
mn = "TOML0001"
password = "B01ler"
name = "Boiler 1"
medium = "gas"
region_code = "110105"
o2_ref = 9
  [[station.pollutant]]
  code = "a21026"
  limit = 200
  range = [0, 500]

[[station]]
mn = "TOML0002"
name = "no region"
medium = "water"
"""
    parsed = registry_file.parse_toml(text)
    assert [s.mn for s in parsed.stations] == ["TOML0001"]
    assert parsed.stations[0].pollutants[0].range_high == 500.0
    assert len(parsed.errors) == 1
    assert parsed.errors[0].startswith("line 14: missing region_code")


@pytest.mark.db
def test_import_upserts_replaces_pollutants_and_is_audited(dsn: str) -> None:
    mn = new_mn()
    first = stations.Station(
        mn, "Outlet", "gas", "420100", pollutants=(stations.Pollutant("a21026", emission_limit=35),)
    )
    second = stations.Station(
        mn, "Outlet renamed", "gas", "420100", pollutants=(stations.Pollutant("a21002"),)
    )
    with psycopg.connect(dsn) as conn:
        stations.upsert(conn, [first])
        stations.upsert(conn, [first])  # unchanged: no new audit rows
        stations.upsert(conn, [second])
        listed = [s for s in stations.list_stations(conn) if s.mn == mn]
    assert [replace(s, monitored_since=None) for s in listed] == [second]
    assert listed[0].monitored_since is not None  # the first import's time
    audit = rows(
        dsn,
        "SELECT object, action FROM hj212.audit_log WHERE mn = %s ORDER BY id",
        mn,
    )
    details = rows(dsn, "SELECT detail FROM hj212.audit_log WHERE object = 'station'")
    assert details
    assert not any("password" in d[0] or "sm4_key" in d[0] for d in details)  # no secrets
    changed = rows(
        dsn,
        "SELECT detail -> 'password_changed' FROM hj212.audit_log WHERE mn = %s"
        " AND object = 'station' ORDER BY id",
        mn,
    )
    assert changed == [(True,), (False,)]  # set on insert, untouched by the rename
    assert audit == [
        ("station", "insert"),
        ("station_pollutant", "insert"),
        ("station", "update"),
        ("station_pollutant", "delete"),
        ("station_pollutant", "insert"),
    ]


@pytest.mark.db
def test_the_import_command_imports_good_lines_and_exits_1_on_bad_ones(
    dsn: str, tmp_path: Path
) -> None:
    a, b = new_mn(), new_mn()
    path = tmp_path / "stations.csv"
    path.write_text(_csv(a, b), "utf-8")

    def hj212(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cli", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )

    result = hj212("stations", "import", str(path), "--dsn", dsn)
    assert result.returncode == 1
    assert f"{path}: line 3: region_code" in result.stderr
    assert "2 station(s) imported, 4 bad line(s) skipped" in result.stdout
    listing = hj212("stations", "list", "--dsn", dsn)
    assert listing.returncode == 0
    lines = [line for line in listing.stdout.splitlines() if line.startswith((a, b))]
    assert len(lines) == 2
    assert (
        "a21002 limit=50; a21026 limit=35 period=hour range=0..200 unit=mg/m3"
        in lines[0] + lines[1]
    )
    assert "123456" not in listing.stdout  # passwords are not listed


@pytest.mark.db
def test_monitored_since_sets_from_when_hours_are_expected_and_a_blank_keeps_it(
    dsn: str,
) -> None:
    """Stations migrated from an older platform: their past months count in the reports."""
    mn = new_mn()
    head = "mn,name,medium,region_code,password,monitored_since\n"
    parsed = registry_file.parse_csv(
        head
        + f"{mn},Outlet,gas,420100,Pw0001,2026-09-01\n"
        + f"{mn},Outlet,gas,420100,Pw0001,1 Sept 2026\n"
        + f"{mn},Outlet,gas,420100,Pw0001,2026-09-15T08:30:00+00:00\n"
    )
    assert parsed.errors == [
        "line 3: monitored_since: '1 Sept 2026' is not a date (2026-09-01) or date-time"
    ]
    first, later = parsed.stations
    assert first.monitored_since == datetime(2026, 9, 1, tzinfo=BEIJING)  # Beijing midnight

    def created() -> datetime:
        when = rows(dsn, "SELECT created_at FROM hj212.station WHERE mn = %s", mn)[0][0]
        assert isinstance(when, datetime)
        return when

    with psycopg.connect(dsn) as conn:
        stations.upsert(conn, [first])
        assert created() == datetime(2026, 9, 1, tzinfo=BEIJING)
        stations.upsert(conn, [replace(first, monitored_since=None, name="Renamed")])
        assert created() == datetime(2026, 9, 1, tzinfo=BEIJING)  # a blank keeps it
        stations.upsert(conn, [later])
        assert created() == datetime(2026, 9, 15, 16, 30, tzinfo=BEIJING)
        listed = [s for s in stations.list_stations(conn) if s.mn == mn]
    assert listed[0].monitored_since == datetime(2026, 9, 15, 16, 30, tzinfo=BEIJING)
    changes = rows(
        dsn,
        "SELECT action FROM hj212.audit_log WHERE mn = %s AND object = 'station' ORDER BY id",
        mn,
    )
    assert changes == [("insert",), ("update",), ("update",)]


@pytest.mark.parametrize("code", ["429999", "420199", "990000", "000000"])
def test_a_region_code_not_in_the_division_list_is_refused_and_named(code: str) -> None:
    text = CSV_HEADER + (
        f"AAA1,1号排口,示例化工,DA001,gas,{code},123456,2017,reject,30,10,6,true,\n"
        "BBB2,2号排口,示例化工,DA002,gas,420502,123456,2017,reject,30,10,6,true,\n"
    )
    parsed = registry_file.parse_csv(text)
    assert [s.mn for s in parsed.stations] == ["BBB2"]
    assert len(parsed.errors) == 1
    assert parsed.errors[0].startswith("line 2:")
    assert (
        f"region_code {code} is not in the administrative-division code list" in (parsed.errors[0])
    )


def test_the_division_list_names_provinces_cities_and_counties() -> None:
    from config import regions

    assert regions.name_of("420102") == "湖北省武汉市江岸区"
    assert regions.name_of("4205") == "湖北省宜昌市"
    assert regions.name_of("42") == "湖北省"
    assert [r.code for r in regions.chain("420602")] == ["420000", "420600", "420602"]
    assert regions.regions()["110101"].full == "北京市东城区"  # 市辖区 is not a name
    assert not regions.known("429999")
