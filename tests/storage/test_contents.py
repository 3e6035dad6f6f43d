"""What issue 20 keeps of a frame, on a real TimescaleDB: 2005 values in 2017 units,
noise levels, HJ 212-2025 contents and RF, the answers' facts, the deviations.

Frames are the standards' own examples (HJ 212-2017 Appendix C, HJ/T 212-2005 Appendix
C; the 2025 shapes as reported in docs/protocol.md §13), decoded by the codec and stored
by the writer, each under a fresh MN."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from protocol import Connection, DecodeOptions, Role
from protocol.encode import frame
from services.writer import Writer
from storage.deviations import by_station
from storage.device_events import events
from storage.records import record_of
from tests.storage.support import new_mn, rows, running

pytestmark = [pytest.mark.db, pytest.mark.anyio]

RECEIVED = datetime(2026, 11, 3, 1, 0, tzinfo=UTC)
MN_2017 = "010000A8900016F000169DC0"
HEAD_2017 = f"QN=20160801085857223;ST=32;PW=123456;MN={MN_2017};"
HEAD_2025 = f"QN=20240601085857223;ST=32;PW=123456;MN={MN_2017};"


async def store(
    dsn: str, segments: list[str], mn: str, wire: list[bytes] | None = None
) -> list[str]:
    """Decode each segment (its MN replaced by ``mn``) and store it; the statuses."""
    conn = Connection(Role.PLATFORM, auto_answer=False, options=DecodeOptions())
    frames = [frame(s.replace(MN_2017, mn)) for s in segments] + (wire or [])
    records = []
    for i, data in enumerate(frames):
        for event in conn.receive_data(data):
            at = RECEIVED + timedelta(seconds=i)
            records.append(record_of(event, received_at=at, peer="127.0.0.1:1", transport="tcp"))
    async with running(Writer(dsn)) as writer:
        return [await writer.submit(r) for r in records]


async def test_a_2005_pressure_and_metal_are_stored_in_kpa_and_micrograms(dsn: str) -> None:
    mn = new_mn()[:14]
    segment = (
        f"ST=32;CN=2061;PW=123456;MN={MN_2017};"
        "CP=&&DataTime=20040516020000;S04-Avg=0.101;020-Avg=0.002,020-Cou=0.001&&"
    )
    assert await store(dsn, [segment], mn) == ["ok"]
    stored = rows(
        dsn, "SELECT pollutant, avg, cou FROM hj212.measurement WHERE mn = %s ORDER BY 1", mn
    )
    assert stored == [("a01017", pytest.approx(101.0), None), ("w20111", 2.0, 1.0)]
    (deviations,) = rows(dsn, "SELECT deviations FROM hj212.frame WHERE mn = %s", mn)[0]
    assert "unit-converted:S04->a01017:MPa->kPax1000" in deviations
    assert "unit-converted:020->w20111:mg/L->μg/Lx1000" in deviations


C26 = (
    HEAD_2017.replace("ST=32", "ST=23") + "CN=2051;Flag=5;CP=&&DataTime=20160801084000;"
    "L5-Data=53.0;L10-Data=53.0;L50-Data=49.0;L90-Data=45.0;L95-Data=43.0;Leq-Data=50.0;"
    "LMx-Data=54.0;LMn-Data=42.0&&"
)
C28 = (
    HEAD_2017.replace("ST=32", "ST=23") + "CN=2031;Flag=5;CP=&&DataTime=20160801000000;"
    "L5-Data=53.0;L10-Data=53.0;L50-Data=49.0;L90-Data=45.0;L95-Data=43.0;Ldn-Data=50.0;"
    "LMx-Data=54.0;LMn-Data=42.0;L5-DayData=53.0;L10-DayData=53.0;L50-DayData=52.0;"
    "L90-DayData=51.0;L95-DayData=50.0;Ld-DayData=52.5;LMx-DayData=54.0;LMn-DayData=45.0;"
    "L5-NightData=53.0;L10-NightData=53.0;L50-NightData=52.0;L90-NightData=51.0;"
    "L95-NightData=49.0;Ln-NightData=52.5;LMx-NightData=54.0; LMn-NightData=42.0&&"
)


async def test_noise_levels_of_tables_c26_to_c28_are_stored(dsn: str) -> None:
    mn = new_mn()
    c27 = C26.replace("CN=2051", "CN=2061").replace("20160801084000", "20160801080000")
    assert await store(dsn, [C26, c27, C28], mn) == ["ok", "ok", "ok"]
    get = "SELECT data, day_data, night_data FROM hj212.measurement WHERE mn = %s AND cn = %s AND pollutant = %s"
    assert rows(dsn, get, mn, "2051", "L50") == [(49.0, None, None)]
    assert rows(dsn, get, mn, "2061", "LMn") == [(42.0, None, None)]
    assert rows(dsn, get, mn, "2031", "L95") == [(43.0, 50.0, 49.0)]
    assert rows(dsn, get, mn, "2031", "Ld") == [(None, 52.5, None)]
    assert rows(dsn, get, mn, "2031", "Ln") == [(None, None, 52.5)]
    empty = "SELECT count(*) FROM hj212.measurement WHERE mn = %s AND data IS NULL AND day_data IS NULL AND night_data IS NULL"
    assert rows(dsn, empty, mn) == [(0,)]


async def test_2025_contents_and_rf_are_stored(dsn: str) -> None:
    mn = new_mn()
    segments = [
        HEAD_2025
        + "CN=2111;Flag=8;RF=1;CP=&&DataTime=20240601085500;a01901-Avg=905.3,a01901-Flag=N&&",
        HEAD_2025.replace("ST=32", "ST=23")
        + "CN=2052;Flag=8;CP=&&DataTime=20240601085857;LA-Data=50.1&&",
        HEAD_2025 + "CN=2013;Flag=8;CP=&&DataTime=20240601090000;w01018-SampleTime=20240601090109,"
        "w01018-CompleteTime=20240601094200,w01018-SampleType=1,w01018-Avg=17.5,w01018-Flag=N&&",
        HEAD_2025 + "CN=2062;Flag=8;CP=&&DataTime=20240601080000;w01018-SampleRd=15.3,"
        "w01018-StandardValue=15.0,w01018-ResultType=1&&",
    ]
    assert await store(dsn, segments, mn) == ["ok"] * 4
    assert rows(dsn, "SELECT cn, rf FROM hj212.frame WHERE mn = %s ORDER BY id", mn) == [
        ("2111", True),
        ("2052", False),
        ("2013", False),
        ("2062", False),
    ]
    measured = rows(
        dsn, "SELECT cn, pollutant, avg, data FROM hj212.measurement WHERE mn = %s ORDER BY 1", mn
    )
    assert measured == [("2052", "LA", None, 50.1), ("2111", "a01901", 905.3, None)]
    found = rows(
        dsn,
        "SELECT cn, kind, pollutant, payload FROM hj212.device_event WHERE mn = %s ORDER BY 1",
        mn,
    )
    assert found == [
        (
            "2013",
            "raw-data",
            "w01018",
            {
                "value": 17.5,
                "sample_time": "20240601090109",
                "complete_time": "20240601094200",
                "sample_type": "1",
                "flag": "N",
            },
        ),
        (
            "2062",
            "standard-check",
            "w01018",
            {"sample_rd": 15.3, "standard_value": 15.0, "result_type": "1"},
        ),
    ]


# HJ 212-2017 Tables C.2, C.5, C.7, C.24, C.34, C.36-C.38 (the station's side)
REPLIES = [
    HEAD_2017 + "CN=1011;Flag=4;CP=&& PolId=w01018;SystemTime=20160801085857&&",
    HEAD_2017 + "CN=1061;Flag=4;CP=&&RtdInterval=30&&",
    HEAD_2017 + "CN=1063;Flag=4;CP=&&MinInterval=10&&",
    HEAD_2017 + "CN=2081;Flag=5;CP=&&DataTime=20160801085857;RestartTime=20160801085624&&",
    HEAD_2017 + "CN=3015;Flag=5;CP=&& DataTime=20160801085857;VaseNo=1 &&",
    HEAD_2017 + "CN=3017;Flag=4;CP=&&PolId=w01018;CstartTime=000000;CTime=2&&",
    HEAD_2017 + "CN=3018;Flag=4;CP=&&PolId=w01018;Stime=40&&",
    HEAD_2017 + "CN=3019;Flag=4;CP=&&PolId=w01018;w01018-SN=010000A8900016F000169DC1&&",
]


async def test_the_facts_of_the_answers_are_stored_as_device_events(dsn: str) -> None:
    mn = new_mn()
    assert await store(dsn, REPLIES, mn) == ["ok"] * len(REPLIES)
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        found = await events(
            conn, mn, RECEIVED - timedelta(days=4000), RECEIVED + timedelta(days=1)
        )
    by_cn = {e.cn: (e.kind, e.pollutant, e.payload) for e in found}
    assert by_cn["1011"] == ("system-time", "w01018", {"system_time": "2016-08-01T08:58:57+08:00"})
    assert by_cn["1061"] == ("interval", "", {"rtd_interval_s": 30, "min_interval_min": None})
    assert by_cn["1063"] == ("interval", "", {"rtd_interval_s": None, "min_interval_min": 10})
    assert by_cn["2081"] == ("restart", "", {"restart_time": "2016-08-01T08:56:24+08:00"})
    assert by_cn["3015"] == ("over-limit-sample", "", {"vase_no": 1})
    assert by_cn["3017"] == ("sampling-period", "w01018", {"cstart_time": "000000", "ctime_h": 2})
    assert by_cn["3018"] == ("sample-time", "w01018", {"stime_min": 40})
    assert by_cn["3019"] == ("instrument-id", "w01018", {"sn": "010000A8900016F000169DC1"})
    # a reply without DataTime is filed at its receive time; one with DataTime at that
    times = {e.cn: e.data_time for e in found}
    assert times["1011"] == RECEIVED
    assert times["2081"] == datetime(2016, 8, 1, 0, 58, 57, tzinfo=UTC)


async def test_a_repeated_answer_is_a_duplicate(dsn: str) -> None:
    mn = new_mn()
    restart = REPLIES[3]
    assert await store(dsn, [restart, restart], mn) == ["ok", "duplicate"]
    assert rows(dsn, "SELECT count(*) FROM hj212.device_event WHERE mn = %s", mn) == [(1,)]


async def test_which_stations_sent_legacy_crcs(dsn: str) -> None:
    """A frame refused for its CRC-16/MODBUS is filed with the variant; one accepted
    with a deviation has it too; the query counts them per station and word."""
    from protocol._crc import modbus

    legacy, clean = new_mn(), new_mn()
    segment = (
        HEAD_2017 + "CN=2011;Flag=4;CP=&&DataTime=20160801085857;w01018-Rtd=1.0,w01018-Flag=NX&&"
    )
    text = segment.replace(MN_2017, legacy).encode()
    crc = modbus(text)
    swapped = b"##%04d%b%04X\r\n" % (len(text), text, ((crc & 0xFF) << 8) | (crc >> 8))
    await store(dsn, [segment], legacy, wire=[swapped])
    await store(dsn, [segment.replace("Flag=NX", "Flag=N")], clean)
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        found = await by_station(conn, RECEIVED, RECEIVED + timedelta(hours=1), kind="legacy-crc")
        flags = await by_station(
            conn, RECEIVED, RECEIVED + timedelta(hours=1), kind="bad-flag", mn=legacy
        )
        none = await by_station(conn, RECEIVED, RECEIVED + timedelta(hours=1), mn=clean)
    mine = [(c.mn, c.deviation, c.frames) for c in found if c.mn in (legacy, clean)]
    assert mine == [(legacy, "legacy-crc:modbus-swapped", 1)]
    assert [(c.deviation, c.frames) for c in flags] == [("bad-flag:w01018-Flag", 1)]
    assert none == []


def test_the_cli_lists_deviations_and_events(dsn: str, capsys: pytest.CaptureFixture[str]) -> None:
    from cli.main import main

    mn = new_mn()
    bent = HEAD_2017 + "CN=2011;Flag=4;CP=&&DataTime=20160801085857;w01018-Rtd=1.0,w01018-Flag=n&&"
    asyncio.run(store(dsn, [bent, REPLIES[3]], mn))
    window = ["--since", "2026-11-03T08:00:00", "--until", "2026-11-03T10:00:00", "--dsn", dsn]
    assert main(["frames", "deviations", "--mn", mn, *window]) == 0
    (line,) = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert (line["mn"], line["deviation"], line["frames"]) == (mn, "bad-flag:w01018-Flag", 1)
    assert (
        main(["frames", "events", "--mn", mn, "--since", "2016-08-01T00:00:00", "--dsn", dsn]) == 0
    )
    (event,) = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert event["kind"] == "restart"
    assert event["payload"]["restart_time"].startswith("2016-08-01T08:56:24")
    assert main(["frames", "events", *window]) == 2  # no --mn


async def test_the_engine_reads_the_facts_with_the_serial_number_before(dsn: str) -> None:
    """3019 twice with another serial number: rules_inputs gives the second its
    predecessor, and the engine opens an instrument-replaced case (seed 003 Art. 12)."""
    from rules.config import Ruleset
    from rules.engine import Engine
    from rules.model import CaseEvent
    from storage.rules_inputs import records

    mn = new_mn()
    first = REPLIES[7]
    second = first.replace("F000169DC1&&", "F000169DC2&&")
    restart = REPLIES[3]
    assert await store(dsn, [first, second, restart], mn) == ["ok", "ok", "ok"]
    with psycopg.connect(dsn) as conn:
        found = [
            r
            for r in records(
                conn,
                RECEIVED - timedelta(seconds=1),
                RECEIVED + timedelta(minutes=1),
                timedelta(days=7),
            )
            if r.mn == mn
        ]
    facts = [f for r in found for f in r.facts]
    assert [(f.kind, f.payload.get("previous_sn")) for f in facts] == [
        ("instrument-id", None),
        ("instrument-id", "010000A8900016F000169DC1"),
        ("restart", None),
    ]
    engine = Engine(Ruleset(), origin=RECEIVED - timedelta(hours=1))
    out = [o for r in found for o in engine.on_record(r)]
    opened = [o for o in out if isinstance(o, CaseEvent) and o.kind == "opened"]
    assert [o.detail["case_kind"] for o in opened] == ["instrument-replaced"]
    assert [o.kind for o in out if isinstance(o, CaseEvent)][-1] == "logger-restart"
