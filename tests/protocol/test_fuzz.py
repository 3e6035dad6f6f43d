"""A bounded fuzz run: mutated and random input never raises out of the codec and never
leaves a connection unable to read the next valid frame."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol import TEST_KEY, Connection, DecodeOptions, Message, Role, encode, parse_time

SEEDS = [
    encode.frame(
        "QN=20160801085857223;ST=32;CN=2011;PW=123456;MN=010000A8900016F000169DC0;"
        "Flag=5;CP=&&DataTime=20160801085857;w01018-Rtd=2.2,w01018-Flag=N&&"
    ),
    encode.frame("ST=91;CN=9014;CP=&&QN=20040516010101001;CN=2051;PNO=1;PNUM=2&&"),
    encode.frame("QN=1617957600465;ST=21;CN=9012;PW=1;MN=DXCBZ000000005;Flag=5;CP=&&ExeRtn=1&&"),
    *encode.upload(
        "2051",
        data_time=parse_time("20260101000000"),
        values={"a21026": {"Avg": 1.25, "Flag": "N"}, "a21002": {"Avg": 3.0}},
        qn="20260101000000000",
        st="31",
        pw="1",
        mn="A" * 24,
        version="2025",
        sm4_key=TEST_KEY,
    ),
]
CLEAN = SEEDS[0]


@st.composite
def mutations(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 8))):
        kind = draw(st.integers(0, 3))
        at = draw(st.integers(0, len(data)))
        if kind == 0 and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif kind == 1:
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif kind == 2:
            del data[at : at + draw(st.integers(1, 16))]
        else:
            data[at:at] = draw(st.sampled_from([b"##", b"&&", b"\r\n", b";", b",", b"=", b"CP=&&"]))
    return bytes(data)


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    noise=st.one_of(mutations(), st.binary(max_size=2048)),
    role=st.sampled_from([Role.PLATFORM, Role.STATION]),
)
def test_fuzz_never_raises_and_recovers(noise: bytes, role: Role) -> None:
    conn = Connection(
        role, options=DecodeOptions(sm4_key=TEST_KEY, accept_crc=frozenset({"modbus"}))
    )
    conn.receive_data(noise, now=0.0)
    conn.tick(1000.0)
    # a terminator closes whatever was cut; the next valid frame must come through intact
    events = conn.receive_data(b"\r\n" + CLEAN, now=1001.0)
    assert isinstance(events[-1], Message)
    assert events[-1].raw == CLEAN
