"""The simulated data logger answers platform commands as HJ 212-2017 Appendix C shows
(tests/data/appendix_c_2017.tsv): the same sequence of CNs, QNs reused or new as in the
tables, every frame valid for the platform's codec."""

from __future__ import annotations

import csv
from datetime import datetime
from itertools import groupby
from pathlib import Path

import pytest

from protocol import Connection, DataUpload, Message, Reply, Role, encode
from simulators.logger import DataLogger
from simulators.models import CEMS, WATER, make_station
from simulators.scenario import Fault

DATA = Path(__file__).resolve().parent.parent / "data" / "appendix_c_2017.tsv"
MN = "010000A8900016F000169DC0"
NOW = int(datetime.fromisoformat("2016-08-02T12:00:00+08:00").timestamp())


def _tables() -> dict[str, list[dict[str, str]]]:
    with DATA.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    tables: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        tables.setdefault(row["table"], []).append(row)
    return {t: steps for t, steps in tables.items() if steps[0]["sender"] == "platform"}


REQUESTS = _tables()


def _logger(model: object = WATER) -> DataLogger:
    station = make_station(0, MN, WATER if model is WATER else CEMS, 212)
    return DataLogger(station, start=NOW - 86400)


def _answer(logger: DataLogger, segment: str) -> tuple[Message, list[Message]]:
    """Feed one platform frame to the station; decode what it sends back."""
    station = Connection(Role.STATION)
    [request] = station.receive_data(encode.frame(segment))
    assert isinstance(request, Message)
    wire = b"".join(logger.handle(request, NOW)) + station.data_to_send()
    platform = Connection(Role.PLATFORM)
    events = platform.receive_data(wire)
    assert all(isinstance(e, Message) for e in events), events
    return request, [e for e in events if isinstance(e, Message)]


@pytest.mark.parametrize("table", sorted(REQUESTS, key=lambda t: int(str(t)[2:])))
def test_the_station_answers_like_appendix_c(table: str) -> None:
    steps = REQUESTS[table]
    logger = _logger()
    request, replies = _answer(logger, steps[0]["segment"])
    expected = [s["cn"] for s in steps[1:] if s["sender"] == "station"]
    got = [m.cn for m in replies]
    # split packets (C.49/C.50) and several log records (C.41) collapse to one CN
    assert [k for k, _ in groupby(got)] == [k for k, _ in groupby(expected)]
    for reply in replies:
        assert reply.mn == MN
        if isinstance(reply, Reply):
            assert reply.answers_qn == request.qn  # 9011/9012/9013 echo the request's QN
            assert reply.st == "91"
    if table in ("C.20", "C.21", "C.22", "C.23", "C.41", "C.47", "C.48", "C.49", "C.50"):
        data = [m for m in replies if not isinstance(m, Reply)]
        assert data
        assert all(m.qn != request.qn for m in data)  # history records: new QNs
    elif any(not isinstance(m, Reply) for m in replies):
        data = [m for m in replies if not isinstance(m, Reply)]
        assert all(m.qn == request.qn for m in data)  # a get: the request's QN
    qn_rtn = [m.qn_rtn for m in replies if isinstance(m, Reply) and m.cn == "9011"]
    exe_rtn = [m.exe_rtn for m in replies if isinstance(m, Reply) and m.cn == "9012"]
    assert qn_rtn in ([], [1])
    assert exe_rtn in ([], [1])


def test_history_records_are_the_model_periods_asked_for() -> None:
    logger = _logger()
    segment = (
        f"QN=20160801085857223;ST=32;CN=2051;PW=123456;MN={MN};Flag=5;"
        "CP=&&BeginTime=20160801084000;EndTime=20160801090000&&"
    )
    _, replies = _answer(logger, segment)
    data = [m for m in replies if isinstance(m, DataUpload)]
    starts = [m.data_time.strftime("%H%M") for m in data]
    assert starts == ["0840", "0850", "0900"]
    assert all(set(m.values["w00000"]) == {"Cou", "Min", "Avg", "Max", "Flag"} for m in data)


def test_requests_with_a_wrong_password_or_mn_are_refused() -> None:
    logger = _logger()
    bad_pw = f"QN=20160801085857223;ST=32;CN=1061;PW=999999;MN={MN};Flag=5;CP=&&&&"
    _, replies = _answer(logger, bad_pw)
    assert [(m.cn, getattr(m, "qn_rtn", None)) for m in replies] == [("9011", 3)]
    bad_mn = (
        "QN=20160801085857223;ST=32;CN=1061;PW=123456;MN=AAAAAAAAAAAAAAAAAAAAAAAA;Flag=5;CP=&&&&"
    )
    _, replies = _answer(logger, bad_mn)
    assert [(m.cn, getattr(m, "qn_rtn", None)) for m in replies] == [("9011", 4)]


def test_settings_take_effect() -> None:
    logger = _logger()
    head = f"QN=20160801085857223;ST=32;PW=123456;MN={MN};Flag=5;"
    _answer(logger, head.replace("ST=32;", "ST=32;CN=1062;") + "CP=&&RtdInterval=60&&")
    assert logger.rtd_interval == 60
    _answer(logger, head.replace("ST=32;", "ST=32;CN=1064;") + "CP=&&MinInterval=5&&")
    assert logger.min_interval == 5
    _, replies = _answer(logger, head.replace("ST=32;", "ST=32;CN=1064;") + "CP=&&MinInterval=7&&")
    assert [getattr(m, "exe_rtn", None) for m in replies if m.cn == "9012"] == [3]
    _answer(logger, head.replace("ST=32;", "ST=32;CN=1012;") + "CP=&&SystemTime=20200101000000&&")
    assert (
        abs(logger.clock(NOW) - datetime.fromisoformat("2020-01-01T00:00:00+08:00").timestamp()) < 1
    )
    _answer(logger, head.replace("ST=32;", "ST=32;CN=1072;") + "CP=&&NewPW=654321&&")
    assert logger.password == "654321"
    _answer(
        logger,
        head.replace("PW=123456", "PW=654321").replace("ST=32;", "ST=32;CN=2012;") + "CP=&&&&",
    )
    assert not logger.realtime_on


def test_a_calibration_command_shows_in_later_readings() -> None:
    logger = _logger(CEMS)
    segment = f"QN=20160801085857223;ST=31;CN=3011;PW=123456;MN={MN};Flag=5;CP=&&PolId=a21026&&"
    _, replies = _answer(logger, segment)
    assert [m.cn for m in replies] == ["9011", "9012"]
    [record] = [r for r in logger.due(NOW + 60) if r.cn == "2011"][-1:]
    values = logger.fill(record)
    assert values["a21026"]["Flag"] == "C"
    assert values["a21002"]["Flag"] == "N"


def test_no_hourly_drops_only_the_hour_records_due_while_it_lasts() -> None:
    """The ``no_hourly`` fault (A2 for the rules): hour records due from 3 h to 6 h are
    never made, minute and real-time uploads go on; the hours after it come again."""
    station = make_station(0, MN, CEMS, 212)
    start = NOW - NOW % 3600
    fault = Fault("no_hourly", 3 * 3600, 3 * 3600).bind(start)
    logger = DataLogger(station, start=start, link_faults=(fault,))
    due = logger.due(start + 8 * 3600)
    hours = [(r.t - start) // 3600 for r in due if r.cn == "2061"]
    assert hours == [0, 1, 5, 6, 7]  # hours 2-4 (made at 3, 4 and 5 h) are never made
    minutes = [r.t for r in due if r.cn == "2051"]
    assert len(minutes) == 8 * 6
    assert sum(r.cn == "2011" for r in due) == 8 * 3600 // logger.rtd_interval + 1
