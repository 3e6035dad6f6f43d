"""Issuing the HJ/T 212-2005 commands (protocol/encode.py): the 2005-only ones and the
2005 forms of 1072 and 3014, in the shape of its App. C examples, and refused in 2017."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from protocol import Connection, LocalProtocolError, Message, Role, encode
from protocol.codes import Cn, Deviation


def command(cn: str, params: Mapping[str, object], version: str) -> bytes:
    return encode.command(
        cn,
        params,
        qn="20040516010101001",
        st="32",
        pw="123456",
        mn="88888880000001",
        version=version,
    )


CASES: list[tuple[str, dict[str, object], str]] = [
    (Cn.GET_ALARM_LIMITS, {"PolId": "101,102"}, "PolId=101;PolId=102"),
    (
        Cn.SET_ALARM_LIMITS,
        {"101-LowValue": 1.1, "101-UpValue": 9.9},
        "101-LowValue=1.1;101-UpValue=9.9",
    ),
    (Cn.GET_PLATFORM_ADDRESS, {}, ""),
    (Cn.SET_PLATFORM_ADDRESS, {"AlarmTarget": "3882566"}, "AlarmTarget=3882566"),
    (Cn.GET_REPORT_TIME, {}, ""),
    (Cn.SET_REPORT_TIME, {"ReportTime": "0101"}, "ReportTime=0101"),
    (
        Cn.ALARM_RECORDS,
        {"BeginTime": "20040506010001", "EndTime": "20040506020001"},
        "BeginTime=20040506010001;EndTime=20040506020001",
    ),
    (Cn.SET_PASSWORD, {"NewPW": "654321"}, "PW=654321"),  # 2005 example 1
    (
        Cn.COMPARISON_SAMPLE,
        {"PolId": "101", "CTime": "04,10,14,16"},
        "PolId=101;CTime=04;CTime=10;CTime=14;CTime=16",
    ),  # 2005 example 23
]


def _decoded(wire: bytes) -> Message:
    (event,) = Connection(Role.STATION, auto_answer=False).receive_data(wire)
    assert isinstance(event, Message)
    return event


@pytest.mark.parametrize(("cn", "params", "cp"), CASES)
def test_a_2005_command_is_encoded_as_the_2005_text_prints_it(
    cn: str, params: dict[str, object], cp: str
) -> None:
    wire = command(cn, params, "2005")
    assert f";CN={cn};".encode() in wire
    assert f"CP=&&{cp}&&".encode() in wire
    message = _decoded(wire)
    assert message.version == "2005"
    assert Deviation.UNKNOWN_CN not in message.deviations
    encode.check_command(cn, params)  # what a queue accepts


@pytest.mark.parametrize("cn", [c for c, _, _ in CASES[:7]])
def test_a_2005_only_command_is_refused_for_a_2017_station(cn: str) -> None:
    params: dict[str, object] = next(p for c, p, _ in CASES if c == cn)
    with pytest.raises(LocalProtocolError, match="2005"):
        command(cn, params, "2017")


@pytest.mark.parametrize(
    ("cn", "params"),
    [
        (Cn.SET_REPORT_TIME, {"ReportTime": "2561"}),
        (Cn.SET_ALARM_LIMITS, {"101-LowValue": "low"}),
        (Cn.SET_ALARM_LIMITS, {}),
        (Cn.SET_ALARM_LIMITS, {"101-Avg": "1"}),
        (Cn.COMPARISON_SAMPLE, {"PolId": "101", "CTime": "04,25"}),
        (Cn.SET_PLATFORM_ADDRESS, {}),
    ],
)
def test_bad_2005_parameters_are_refused(cn: str, params: dict[str, object]) -> None:
    with pytest.raises(LocalProtocolError):
        command(cn, params, "2005")
    with pytest.raises(LocalProtocolError):
        encode.check_command(cn, params)


def test_the_2017_forms_stay_for_2017_stations() -> None:
    wire = command(Cn.SET_PASSWORD, {"NewPW": "654321"}, "2017")
    assert b"CP=&&NewPW=654321&&" in wire
    wire = command(Cn.COMPARISON_SAMPLE, {"PolId": "w01018"}, "2017")
    assert b"CP=&&PolId=w01018&&" in wire
