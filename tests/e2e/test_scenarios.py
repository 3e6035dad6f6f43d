"""The all-faults scenario against the real gateway and TimescaleDB: what each fault
leaves in ``hj212.frame`` and ``hj212.measurement``, and platform commands answered by
a simulated logger through ``hj212.command``.

The scenario runs 20 real seconds covering 40 simulated minutes (23:40 to 00:20), so
minute, hour and day records appear; every assertion is about what was stored, none
about how long anything took.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any, cast

import anyio
import psycopg
import pytest

from simulators.fleet import Counts, build_stations, run_fleet
from simulators.models import NO2_PER_NO, Station
from simulators.scenario import Scenario, load
from storage import commands as store
from tests.gateway import support
from tests.gateway.support import running

pytestmark = [pytest.mark.db, pytest.mark.e2e, pytest.mark.anyio]

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "config" / "scenarios" / "all-faults.toml"
LEGACY = {"hj212": "reject", "modbus": "reject", "modbus-swapped": "swapped"}
COMMANDS: list[
    tuple[str, dict[str, object]]
] = [  # sent to station 0 (CEMS, 2017) while the scenario runs
    ("1011", {}),
    ("1062", {"RtdInterval": 60}),
    ("2061", {"BeginTime": "20260303210000", "EndTime": "20260303220000"}),
    ("3020", {"PolId": "a21026", "InfoId": "i13001"}),
    ("3011", {"PolId": "a19001"}),
]


def rows(dsn: str, sql: str, *params: object) -> list[tuple[Any, ...]]:
    return support.rows(dsn, sql, *params)


def _register(dsn: str, stations: list[Station]) -> None:
    """Every station in the registry, with its version, CRC policy and SM4 key."""
    with psycopg.connect(dsn) as conn:
        for s in stations:
            conn.execute(
                "INSERT INTO hj212.station (mn, name, medium, region_code, protocol_version,"
                " legacy_crc, sm4_key) VALUES (%s, %s, %s, '420100', %s, %s, %s)",
                (
                    s.mn,
                    f"scenario station {s.index}",
                    s.model.medium,
                    s.version,
                    LEGACY[s.crc],
                    s.sm4_key.hex() if s.sm4_key else None,
                ),
            )


async def _commands(dsn: str, mn: str) -> list[dict[str, object]]:
    """Queue COMMANDS once the station is connected; their final states."""
    for _ in range(200):  # until the gateway has stored a frame from it
        if rows(dsn, "SELECT 1 FROM hj212.frame WHERE mn = %s LIMIT 1", mn):
            break
        await anyio.sleep(0.05)
    ids = []
    for n, (cn, params) in enumerate(COMMANDS):
        qn = f"20260303235959{n:03d}"
        async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
            ids.append(await store.queue(conn, mn, cn, dict(params), qn, "31", "test"))
    states = []
    for command_id in ids:
        state: dict[str, object] = {}
        for _ in range(300):
            async with await psycopg.AsyncConnection.connect(dsn) as conn:
                state = await store.state_of(conn, command_id)
            if state.get("state") not in ("queued", "sent"):
                break
            await anyio.sleep(0.05)
        states.append(state)
    return states


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return load(SCENARIO)


async def test_the_all_faults_scenario_stores_what_each_fault_implies(
    dsn: str, tmp_path: Path, scenario: Scenario
) -> None:
    assert scenario.stations is not None
    assert scenario.seed is not None
    stations = build_stations(scenario, scenario.stations, scenario.seed, scenario.mn_prefix or "")
    _register(dsn, stations)
    mn = [s.mn for s in stations]
    result: dict[str, object] = {}
    async with running(dsn, tmp_path) as gateway:
        assert gateway.port is not None
        port = gateway.port

        async def fleet() -> None:
            result["counts"] = await run_fleet(
                len(stations), "127.0.0.1", port, scenario.duration or 20, scenario=scenario
            )

        async def commands() -> None:
            result["commands"] = await _commands(dsn, mn[0])

        async with anyio.create_task_group() as tg:
            tg.start_soon(fleet)
            tg.start_soon(commands)
    counts = result["counts"]
    assert isinstance(counts, Counts)
    assert counts.errors == 0
    t0 = datetime.fromisoformat("2026-03-03T23:40:00+08:00")
    check_value_faults(dsn, mn, t0)
    check_link_faults(dsn, mn, t0, counts)
    check_dialects(dsn, mn)
    check_records_reconcile(dsn, mn)
    check_commands(cast(list[dict[str, Any]], result["commands"]))


def _flags(dsn: str, mn: str, pollutant: str) -> set[object]:
    found = rows(
        dsn,
        "SELECT DISTINCT flag FROM hj212.measurement WHERE mn = %s AND cn = '2011'"
        " AND pollutant = %s",
        mn,
        pollutant,
    )
    return {r[0] for r in found}


def _window(
    dsn: str, mn: str, pollutant: str, begin: datetime, end: datetime
) -> list[tuple[Any, ...]]:
    return rows(
        dsn,
        "SELECT rtd, flag, zs_rtd FROM hj212.measurement WHERE mn = %s AND cn = '2011'"
        " AND pollutant = %s AND data_time >= %s AND data_time < %s ORDER BY data_time",
        mn,
        pollutant,
        begin,
        end,
    )


def check_value_faults(dsn: str, mn: list[str], t0: datetime) -> None:
    s = timedelta(seconds=1)
    # station 0: fault (D) then maintenance (M), then calibration (C: zero, then span)
    assert {"D", "M", "C", "N"} <= _flags(dsn, mn[0], "a21026")
    assert {"D", "M", "N"} <= _flags(dsn, mn[0], "a21002")
    assert {r[1] for r in _window(dsn, mn[0], "a21026", t0, t0 + 600 * s)} == {"D"}
    calibration = _window(dsn, mn[0], "a21026", t0 + 1200 * s, t0 + 1500 * s)
    assert {r[1] for r in calibration} == {"C"}
    assert {r[0] for r in calibration} == {0.0, 160.0}  # zero gas, span gas (80 % of 200)
    minute = rows(
        dsn,
        "SELECT flag FROM hj212.measurement WHERE mn = %s AND cn = '2051'"
        " AND pollutant = 'a21026' AND data_time = %s",
        mn[0],
        t0,
    )
    assert minute == [("D",)]  # flue gas: < 75 % normal readings (notes to C.16-C.18)
    # station 1: stuck, zeros, negatives; the flag stays what the plant state says (N,
    # or F once the waste-water plant's shift ends at midnight): these faults are silent
    stuck = _window(dsn, mn[1], "w01018", t0, t0 + 900 * s)
    assert len(stuck) == 30
    assert len({r[0] for r in stuck}) == 1
    assert {r[1] for r in stuck} == {"N"}
    zeros = _window(dsn, mn[1], "w21003", t0 + 900 * s, t0 + 1500 * s)
    assert len(zeros) == 20
    assert {r[0] for r in zeros} == {0.0}
    negatives = _window(dsn, mn[1], "w21011", t0 + 1500 * s, t0 + 2100 * s)
    assert len(negatives) == 20
    assert all(r[0] < 0 and r[1] in "NF" for r in negatives)
    # station 2: over range (T), spikes, sustained exceedance of the limit (Zs)
    over = _window(dsn, mn[2], "a21026", t0 + 300 * s, t0 + 900 * s)
    assert over
    assert all(r[1] == "T" and r[0] > 200 for r in over)
    before = [r[0] for r in _window(dsn, mn[2], "a34013", t0, t0 + 900 * s)]
    spiky = [r[0] for r in _window(dsn, mn[2], "a34013", t0 + 900 * s, t0 + 1800 * s)]
    assert max(spiky) > 5 * max(before)
    exceed = _window(dsn, mn[2], "a21002", t0 + 1800 * s, t0 + 2400 * s)
    assert exceed
    assert all(r[2] > 50 for r in exceed)
    # station 8: a dead NH3-N analyser (narrow band), TP at its detection limit
    narrow = [r[0] for r in _window(dsn, mn[8], "w21003", t0, t0 + 2400 * s)]
    assert len(narrow) == 80
    assert max(narrow) - min(narrow) <= 2 * 0.005 * 50 + 0.001  # ± 0.5 % of 0-50 mg/L
    low = [r[0] for r in _window(dsn, mn[8], "w21011", t0, t0 + 2400 * s)]
    assert len(low) == 80
    assert all(0 < v <= 1.5 * 0.004 * 10 + 0.001 for v in low)  # TP range 0-10 mg/L
    # station 5: SO2 converted to 9 % O2 instead of 6 %: Zs = C x 12 / (21 - O2)
    pairs = rows(
        dsn,
        "SELECT so2.rtd, so2.zs_rtd, o2.rtd FROM hj212.measurement so2"
        " JOIN hj212.measurement o2 ON o2.mn = so2.mn AND o2.cn = so2.cn"
        " AND o2.data_time = so2.data_time AND o2.pollutant = 'a19001'"
        " WHERE so2.mn = %s AND so2.cn = '2011' AND so2.pollutant = 'a21026'",
        mn[5],
    )
    assert len(pairs) == 80
    for rtd, zs, o2 in pairs:
        assert zs == pytest.approx(rtd * 12 / (21 - min(o2, 20)), abs=0.011)
    # station 2: the 23:00 hour record of flue-gas temperature, made while the logger
    # mis-aggregated, is 1.3 x the mean of that hour's samples (those stored: 23:40-24:00)
    ((hour_avg,),) = rows(
        dsn,
        "SELECT avg FROM hj212.measurement WHERE mn = %s AND cn = '2061'"
        " AND pollutant = 'a01012' AND data_time = %s",
        mn[2],
        t0 - 40 * 60 * s,
    )
    samples = [r[0] for r in _window(dsn, mn[2], "a01012", t0, t0 + 1200 * s)]
    assert 1.2 < hour_avg / (sum(samples) / len(samples)) < 1.4
    # station 10: the dust analyser cut off 23:50-00:00, the other factors still sent
    assert len(_window(dsn, mn[10], "a21026", t0, t0 + 1200 * s)) == 40
    assert len(_window(dsn, mn[10], "a34013", t0, t0 + 600 * s)) == 20
    assert _window(dsn, mn[10], "a34013", t0 + 600 * s, t0 + 1200 * s) == []
    # station 13 (cems-nox): NOx is what its NO and NO2 make, but half of it 23:50-00:00
    parts = {
        code: [r[0] for r in _window(dsn, mn[13], code, t0, t0 + 1200 * s)]
        for code in ("a21002", "a21003", "a21004")
    }
    assert [len(v) for v in parts.values()] == [40, 40, 40]
    made = [no * NO2_PER_NO + no2 for no, no2 in zip(parts["a21003"], parts["a21004"], strict=True)]
    ratios = [nox / m for nox, m in zip(parts["a21002"], made, strict=True)]
    assert all(0.99 < r < 1.01 for r in ratios[:20])
    assert all(0.49 < r < 0.51 for r in ratios[20:])


def check_link_faults(dsn: str, mn: list[str], t0: datetime, counts: Counts) -> None:
    s = timedelta(seconds=1)
    # station 3 (2025): unreachable for 10 simulated minutes, then the backlog with RF=1
    resent = rows(
        dsn,
        "SELECT count(*) FROM hj212.frame WHERE mn = %s AND status = 'ok'"
        " AND position('RF=1' in convert_from(raw, 'UTF8')) > 0",
        mn[3],
    )
    assert resent[0][0] >= 10
    outage = _window(dsn, mn[3], "a21026", t0 + 600 * s, t0 + 1200 * s)
    assert len(outage) == 20  # every 30-s reading of the outage arrived afterwards
    assert counts.resent_acked >= 10
    # station 12: cut off 00:05-00:10, its real-time records of then never sent by itself
    sql = (
        "SELECT count(DISTINCT data_time) FROM hj212.measurement WHERE mn = %s AND cn = '2011'"
        " AND data_time >= %s AND data_time < %s"
    )
    assert rows(dsn, sql, mn[12], t0 + 1500 * s, t0 + 1800 * s) == [(0,)]
    assert rows(dsn, sql, mn[12], t0 + 1200 * s, t0 + 1500 * s) == [(10,)]
    # station 4: bad CRC copies rejected, garbage archived as such; the data still arrived
    crc = rows(
        dsn,
        "SELECT count(*) FROM hj212.frame WHERE mn = %s AND status = 'rejected'"
        " AND error LIKE 'crc:%%'",
        mn[4],
    )
    assert crc[0][0] >= 1
    garbage = rows(
        dsn,
        "SELECT count(*) FROM hj212.frame WHERE status = 'garbage'"
        " AND position('garbage on the line'::bytea in raw) > 0",
    )
    assert garbage[0][0] >= 1
    assert len(_window(dsn, mn[4], "w01018", t0 + 300 * s, t0 + 900 * s)) == 20
    # ... and its hourly statistics stopped at midnight: no 23:00 hour record, while the
    # minute records of that hour and the real-time data around it arrived
    hourly = rows(
        dsn,
        "SELECT cn, count(*) FROM hj212.measurement WHERE mn = %s AND pollutant = 'w01018'"
        " AND cn IN ('2051', '2061') AND data_time >= %s AND data_time < %s GROUP BY cn",
        mn[4],
        t0 - 2400 * s,
        t0 + 1200 * s,
    )
    assert dict(hourly) == {"2051": 2}  # 23:40 and 23:50
    assert len(_window(dsn, mn[4], "w01018", t0 + 900 * s, t0 + 1500 * s)) == 20
    # station 5: split packets (PNUM/PNO), every factor stored
    split = rows(
        dsn,
        "SELECT count(*) FROM hj212.frame WHERE mn = %s AND status = 'ok'"
        " AND position('PNUM='::bytea in raw) > 0",
        mn[5],
    )
    assert split[0][0] >= 4
    per_record = rows(
        dsn,
        "SELECT DISTINCT count(*) FROM hj212.measurement WHERE mn = %s AND cn = '2011'"
        " GROUP BY data_time",
        mn[5],
    )
    assert per_record == [(9,)]
    # station 6: slow writes arrive whole; duplicates are archived once more, stored once
    dup = rows(
        dsn, "SELECT count(*) FROM hj212.frame WHERE mn = %s AND status = 'duplicate'", mn[6]
    )
    assert dup[0][0] >= 1
    assert len(_window(dsn, mn[6], "w00000", t0, t0 + 1200 * s)) == 40
    # station 12: real-time uploads out of order while the fault lasts, none lost
    order = [
        r[0]
        for r in rows(
            dsn,
            "SELECT data_time FROM hj212.measurement WHERE mn = %s AND cn = '2011'"
            " AND pollutant = 'w00000' ORDER BY frame_id",
            mn[12],
        )
    ]
    back = [b for a, b in pairwise(order) if b < a]
    assert len(back) >= 5
    assert all(t0 + 300 * s <= b < t0 + 900 * s for b in back)
    assert len(set(order)) == len(order) == 80 - 10  # 10 cut off 00:05-00:10 (above)
    # station 7: a drifting clock stamps DataTime off the 30-s grid
    off_grid = rows(
        dsn,
        "SELECT count(*) FROM hj212.measurement WHERE mn = %s AND cn = '2011'"
        " AND extract(epoch FROM data_time)::bigint %% 30 <> 0",
        mn[7],
    )
    assert off_grid[0][0] >= 10
    # ... and, back after the reconnect storm with its clock minutes off, the logger asks
    # for the time (1013); the gateway answers 9013 and sets it (1012 -> 9011, 9012)
    asked = rows(dsn, "SELECT DISTINCT cn FROM hj212.frame WHERE mn = %s AND status = 'ok'", mn[7])
    assert {("1013",), ("9011",), ("9012",)} <= set(asked)
    assert counts.time_requests >= 1
    # the reconnect storm: every station dropped and came back, more than once
    assert counts.connections >= 2 * len(mn)


def check_dialects(dsn: str, mn: list[str]) -> None:
    # 2005: 14-character MN, old codes mapped to 2017 ones, no Flag
    assert len(mn[9]) == 14
    old = rows(dsn, "SELECT DISTINCT flag FROM hj212.frame WHERE mn = %s", mn[9])
    assert old == [(None,)]
    assert _flags(dsn, mn[9], "a21026")  # sent as "02-Rtd"
    # ... whose logger sent SO2-Cou in grams for the records made 00:00 and 00:10 (the
    # 23:50 and 00:00 minute records): 1000 x SO2 Avg x the minute's flue-gas volume
    t0 = datetime.fromisoformat("2026-03-03T23:40:00+08:00")
    ratios = rows(
        dsn,
        "SELECT so2.data_time, so2.cou / (so2.avg * q.cou * 1e-6) FROM hj212.measurement so2"
        " JOIN hj212.measurement q ON q.mn = so2.mn AND q.cn = so2.cn"
        " AND q.data_time = so2.data_time AND q.pollutant = 'a00000'"
        " WHERE so2.mn = %s AND so2.cn = '2051' AND so2.pollutant = 'a21026'"
        " ORDER BY so2.data_time",
        mn[9],
    )
    wrong = {(t - t0).total_seconds() // 60 for t, r in ratios if 900 < r < 1100}
    right = {(t - t0).total_seconds() // 60 for t, r in ratios if 0.9 < r < 1.1}
    assert wrong == {10, 20}
    assert 0 in right  # 23:40, made at 23:50 (00:10, made 00:20, may miss the run's end)
    assert len(wrong) + len(right) == len(ratios)
    # 2025 with SM4: ciphertext on the wire, decrypted with the registry's key
    assert _flags(dsn, mn[10], "a21026")
    plain = rows(
        dsn,
        "SELECT count(*) FROM hj212.frame WHERE mn = %s AND position('a21026-Rtd'::bytea in raw) > 0",
        mn[10],
    )
    assert plain == [(0,)]
    # legacy CRCs: refused by policy ('reject'), accepted where the registry allows it
    legacy = rows(
        dsn,
        "SELECT DISTINCT status, split_part(error, ':', 1) FROM hj212.frame WHERE mn = %s",
        mn[11],
    )
    assert legacy == [("rejected", "legacy-crc")]
    assert rows(dsn, "SELECT count(*) FROM hj212.measurement WHERE mn = %s", mn[11]) == [(0,)]
    assert _flags(dsn, mn[12], "w01018")


def check_records_reconcile(dsn: str, mn: list[str]) -> None:
    """The 23:50 minute record of station 8 is the mean, min and max of its 2011 values;
    hour and day records of the periods the run ended were uploaded too."""
    start = datetime.fromisoformat("2026-03-03T23:50:00+08:00")
    minute = rows(
        dsn,
        "SELECT min, avg, max FROM hj212.measurement WHERE mn = %s AND cn = '2051'"
        " AND pollutant = 'w01018' AND data_time = %s",
        mn[8],
        start,
    )
    real = [r[0] for r in _window(dsn, mn[8], "w01018", start, start + timedelta(minutes=10))]
    assert len(real) == 20
    assert len(minute) == 1
    lo, avg, hi = minute[0]
    assert (lo, hi) == (min(real), max(real))
    assert abs(avg - sum(real) / len(real)) <= 0.05 + 1e-9  # Avg rounded to 1 decimal
    for cn, at in (("2061", "2026-03-03T23:00:00+08:00"), ("2031", "2026-03-03T00:00:00+08:00")):
        stored = rows(
            dsn,
            "SELECT count(DISTINCT mn) FROM hj212.measurement WHERE cn = %s AND data_time = %s",
            cn,
            datetime.fromisoformat(at),
        )
        assert stored[0][0] >= 8, cn
    runtime = rows(dsn, "SELECT count(*) FROM hj212.device_status WHERE cn = '2041'")
    assert runtime[0][0] >= 8


def check_commands(states: list[dict[str, Any]]) -> None:
    by_cn = {s["cn"]: s for s in states}
    assert {cn: s["state"] for cn, s in by_cn.items()} == dict.fromkeys(
        [cn for cn, _ in COMMANDS], "done"
    )
    replies = {cn: [r["cn"] for r in s["replies"]] for cn, s in by_cn.items()}
    assert replies["1011"] == ["9011", "1011", "9012"]
    assert replies["2061"] == ["9011", "2061", "2061", "9012"]  # 21:00 and 22:00, new QNs
    assert replies["3020"] == ["9011", "3020", "9012"]
    assert replies["1062"] == ["9011", "9012"]
