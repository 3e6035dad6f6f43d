"""Stream framing: whole, byte by byte, with garbage around, and damaged frames."""

from __future__ import annotations

from datetime import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol import BEIJING, Connection, DataUpload, Message, Rejected, Role, encode

APPENDIX_A = (
    b"##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;"
    b"Flag=5;CP=&&RtdInterval=30&&1C80\r\n"
)
REALTIME_SEGMENT = (
    "QN=20160801085857223;ST=32;CN=2011;PW=123456;MN=010000A8900016F000169DC0;Flag=5;"
    "CP=&&DataTime=20160801085857;w01001-Rtd=7.1,w01001-Flag=N;"
    "w01018-SampleTime=20160801070000,w01018-Rtd=2.2,w01018-Flag=N,w01018-EFlag=A01&&"
)
REALTIME = encode.frame(REALTIME_SEGMENT)


def feed(chunks: list[bytes], *, eof: bool = False) -> list[object]:
    conn = Connection(Role.PLATFORM)
    events: list[object] = []
    for chunk in chunks:
        events += conn.receive_data(chunk)
    if eof:
        events += conn.receive_data(b"")
    return events


def test_appendix_a_frame_whole() -> None:
    [event] = feed([APPENDIX_A])
    assert isinstance(event, Message)
    assert (event.qn, event.st, event.cn, event.pw, event.mn, event.flag) == (
        "20160801085857223",
        "32",
        "1062",
        "100000",
        "010000A8900016F000169DC0",
        5,
    )
    assert event.cp == {"RtdInterval": "30"}
    assert event.version == "2017"
    assert event.ack_requested


def test_byte_by_byte_gives_nothing_until_the_last_byte() -> None:
    conn = Connection(Role.PLATFORM)
    for i in range(len(APPENDIX_A) - 1):
        assert conn.receive_data(APPENDIX_A[i : i + 1]) == []
    [event] = conn.receive_data(APPENDIX_A[-1:])
    assert isinstance(event, Message)
    assert event.raw == APPENDIX_A


@given(st.lists(st.integers(min_value=1, max_value=len(REALTIME) * 2), max_size=20))
def test_any_chunking_gives_the_same_events(cuts: list[int]) -> None:
    stream = APPENDIX_A + b"garbage##xx" + REALTIME + APPENDIX_A
    chunks, at = [], 0
    for size in cuts:
        chunks.append(stream[at : at + size])
        at += size
    chunks.append(stream[at:])
    assert feed(chunks, eof=True) == feed([stream], eof=True)


def test_realtime_upload_values_are_typed_and_grouped() -> None:
    [event] = feed([REALTIME])
    assert isinstance(event, DataUpload)
    assert event.data_time == datetime(2016, 8, 1, 8, 58, 57, tzinfo=BEIJING)
    assert event.values == {
        "w01001": {"Rtd": 7.1, "Flag": "N"},
        "w01018": {
            "SampleTime": datetime(2016, 8, 1, 7, 0, tzinfo=BEIJING),
            "Rtd": 2.2,
            "Flag": "N",
            "EFlag": "A01",
        },
    }


def test_garbage_before_a_frame_is_reported_and_the_frame_still_decoded() -> None:
    events = feed([b"\x00\xffnoise" + APPENDIX_A])
    assert isinstance(events[0], Rejected)
    assert events[0].code == "framing"
    assert events[0].raw == b"\x00\xffnoise"
    assert isinstance(events[1], Message)


def test_bad_crc_is_rejected_with_its_station_and_the_stream_goes_on() -> None:
    damaged = APPENDIX_A.replace(b"1C80", b"1C81")
    events = feed([damaged, APPENDIX_A])
    assert isinstance(events[0], Rejected)
    assert events[0].code == "crc"
    assert events[0].mn == "010000A8900016F000169DC0"
    assert events[0].raw == damaged
    assert isinstance(events[1], Message)


def test_lower_case_crc_is_accepted() -> None:
    [event] = feed([APPENDIX_A.replace(b"1C80", b"1c80")])
    assert isinstance(event, Message)


def test_length_counting_characters_is_found_by_the_tail() -> None:
    # a device that counts characters, not UTF-8 bytes, in a Chinese log text
    segment = (
        "QN=20160801085857223;ST=32;CN=3020;PW=123456;MN=AB;Flag=4;CP=&&i11001-Info=//设备正常//&&"
    )
    data = segment.encode()
    wire = b"##%04d" % len(segment) + data + encode.frame(segment)[-6:]
    [event] = feed([wire])
    assert isinstance(event, Message)
    assert event.cp["i11001-Info"] == "//设备正常//"
    assert "length-mismatch" in event.deviations


def test_length_field_not_digits() -> None:
    events = feed([b"##00a1QN=1" + APPENDIX_A])
    assert [type(e) for e in events] == [Rejected, Rejected, Message]
    assert isinstance(events[0], Rejected)
    assert events[0].code == "length"


def test_oversized_segment_is_rejected() -> None:
    conn = Connection(Role.PLATFORM, max_segment=1024)
    big = encode.frame("QN=1;CN=2011;MN=AB;Flag=4;CP=&&" + "a=1;" * 300 + "&&")
    events = conn.receive_data(big + APPENDIX_A)
    assert isinstance(events[0], Rejected)
    assert events[0].code == "length"
    assert isinstance(events[-1], Message)


def test_oversized_segment_within_the_configured_maximum_is_accepted() -> None:
    big = encode.frame(
        "QN=1;ST=32;CN=2011;MN=AB;Flag=4;CP=&&DataTime=20240101000000;"
        + ";".join(f"w{i:05d}-Rtd=1.5" for i in range(120))
        + "&&"
    )
    assert len(big) > 1024 + 12
    [event] = feed([big])
    assert isinstance(event, DataUpload)
    assert len(event.values) == 120


def test_truncated_frame_at_end_of_stream() -> None:
    events = feed([APPENDIX_A[:50]], eof=True)
    assert len(events) == 1
    assert isinstance(events[0], Rejected)
    assert events[0].raw == APPENDIX_A[:50]


@pytest.mark.parametrize(
    ("segment", "code"),
    [
        ("QN=1;CN=2011;CP=&&DataTime=x&&", "syntax"),  # bad timestamp
        ("QN=1;CN=2011;MN=A;Flag=999;CP=&&&&", "syntax"),  # Flag out of range
        ("QN=1;CN=2011;MN=A;Flag=4&&", "syntax"),  # no CP
    ],
)
def test_syntax_errors_are_rejected(segment: str, code: str) -> None:
    [event] = feed([encode.frame(segment)])
    assert isinstance(event, Rejected)
    assert event.code == code


@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise_and_never_block_the_next_frame(noise: bytes) -> None:
    conn = Connection(Role.PLATFORM)
    conn.receive_data(noise)
    events = conn.receive_data(b"\r\n" + APPENDIX_A)
    assert isinstance(events[-1], Message)
    assert events[-1].raw == APPENDIX_A


def test_a_value_that_is_not_a_number_is_kept_and_noted() -> None:
    [event] = feed(
        [
            encode.frame(
                "QN=1;CN=2011;MN=A;Flag=4;CP=&&DataTime=20240101000000;w01018-Rtd=abc,w01018-Flag=N&&"
            )
        ]
    )
    assert isinstance(event, DataUpload)
    assert event.values["w01018"] == {"Rtd": None, "Flag": "N"}
    assert event.cp["w01018-Rtd"] == "abc"  # the original text is kept
    assert "bad-value:w01018-Rtd" in event.deviations
