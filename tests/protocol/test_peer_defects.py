"""Defects the peer frames found (issue 20): each test failed on the codec before it.

-Flag values outside C1 A-Z/0-9, the 2005-only CNs in 2005 frames, ``CTime`` in a
2005 frame (HJ/T 212-2005 Table 4 spells it so) and a CP area of blanks only."""

from __future__ import annotations

import pytest

from protocol import Connection, Message, Role
from protocol.codes import Cn, Deviation
from protocol.encode import frame

MN17 = "010000A8900016F000169DC0"
MN05 = "88888880000001"


def decode_frame(segment: str) -> Message:
    events = Connection(Role.PLATFORM, auto_answer=False).receive_data(frame(segment))
    assert len(events) == 1, events
    event = events[0]
    assert isinstance(event, Message), event
    return event


def upload_2017(items: str) -> Message:
    return decode_frame(
        f"QN=20160801085857223;ST=32;CN=2011;PW=123456;MN={MN17};Flag=5;"
        f"CP=&&DataTime=20160801085857;{items}&&"
    )


@pytest.mark.parametrize("flag", ["NX", "", "n", "正"])
def test_a_flag_that_is_not_one_letter_or_digit_is_noted(flag: str) -> None:
    message = upload_2017(f"w01018-Rtd=50.1,w01018-Flag={flag};w21003-Rtd=1.2,w21003-Flag=N")
    assert f"{Deviation.BAD_FLAG_}w01018-Flag" in message.deviations
    assert f"{Deviation.BAD_FLAG_}w21003-Flag" not in message.deviations


@pytest.mark.parametrize("flag", ["N", "T", "K", "3"])  # Table 8 may be extended: C1 A-Z/0-9
def test_a_one_character_flag_is_fine(flag: str) -> None:
    message = upload_2017(f"w01018-Rtd=50.1,w01018-Flag={flag}")
    assert not [d for d in message.deviations if d.startswith(Deviation.BAD_FLAG_)]


# HJ/T 212-2005 App. C examples 12-17 and 19 (requests; the uploads answer with the same CN)
ONLY_2005 = [
    (Cn.GET_ALARM_LIMITS, "PolId=101"),
    (Cn.SET_ALARM_LIMITS, "101-LowValue=1.1,101-UpValue=9.9"),
    (Cn.GET_PLATFORM_ADDRESS, ""),
    (Cn.SET_PLATFORM_ADDRESS, "AlarmTarget=3882566"),
    (Cn.GET_REPORT_TIME, ""),
    (Cn.SET_REPORT_TIME, "ReportTime=0101"),
    (Cn.ALARM_RECORDS, "BeginTime=20040506010001,EndTime=20040506020001"),
]


@pytest.mark.parametrize(("cn", "cp"), ONLY_2005)
def test_2005_only_commands_are_known_in_2005_frames(cn: str, cp: str) -> None:
    message = decode_frame(f"QN=20040516010101001;ST=32;CN={cn};PW=123456;MN={MN05};CP=&&{cp}&&")
    assert message.version == "2005"
    assert Deviation.UNKNOWN_CN not in message.deviations


@pytest.mark.parametrize(("cn", "cp"), ONLY_2005)
def test_2005_only_commands_stay_unknown_in_2017_frames(cn: str, cp: str) -> None:
    message = decode_frame(
        f"QN=20160801085857223;ST=32;CN={cn};PW=123456;MN={MN17};Flag=5;CP=&&{cp}&&"
    )
    assert Deviation.UNKNOWN_CN in message.deviations


def test_ctime_in_a_2005_frame_is_the_2005_spelling() -> None:
    """HJ/T 212-2005 example 23 (3014): ``PolId=101,CTime=04``: no key-case, read as Ctime."""
    message = decode_frame(
        f"QN=20040516010101001;ST=32;CN=3014;PW=123456;MN={MN05};CP=&&PolId=101,CTime=04&&"
    )
    assert Deviation.KEY_CASE not in message.deviations
    assert message.cp["Ctime"] == "04"


def test_ctime_in_a_2017_frame_is_still_a_key_case() -> None:
    message = decode_frame(
        f"QN=20160801085857223;ST=32;CN=3016;PW=123456;MN={MN17};Flag=5;"
        "CP=&&PolId=w01018;CstartTime=000000;CTime=2&&"
    )
    assert Deviation.KEY_CASE in message.deviations


@pytest.mark.parametrize("cp", [" ", "   ", "\t"])
def test_a_cp_of_blanks_only_is_noted(cp: str) -> None:
    message = decode_frame(
        f"QN=20160801085857223;ST=91;CN=9014;PW=123456;MN={MN17};Flag=4;CP=&&{cp}&&"
    )
    assert Deviation.BLANK_CP in message.deviations


def test_an_empty_cp_is_not_blank() -> None:
    message = decode_frame(f"QN=20160801085857223;ST=91;CN=9014;PW=123456;MN={MN17};Flag=4;CP=&&&&")
    assert Deviation.BLANK_CP not in message.deviations
