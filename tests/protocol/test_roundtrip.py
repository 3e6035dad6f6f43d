"""decode(encode(x)) == x for every message type (property tests)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import (
    BEIJING,
    TEST_KEY,
    Connection,
    DataUpload,
    DecodeOptions,
    Message,
    Reply,
    Role,
    SplitComplete,
    encode,
)
from protocol.encode import PLATFORM_PARAMS

codes = st.from_regex(r"[wa][0-9]{5}", fullmatch=True)
numbers = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).map(lambda x: round(x, 4))
flags = st.sampled_from("NFMSDCTB")
moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)).map(
    lambda d: d.replace(microsecond=0, tzinfo=BEIJING)
)
pollutant_fields = st.fixed_dictionaries(
    {"Rtd": numbers, "Flag": flags},
    optional={
        "Min": numbers,
        "Avg": numbers,
        "Max": numbers,
        "Cou": numbers,
        "ZsRtd": numbers,
        "EFlag": st.sampled_from(["A01", "B2"]),
    },
)
value_maps = st.dictionaries(codes, pollutant_fields, min_size=1, max_size=40)
mns = st.from_regex(r"[0-9A-F]{24}", fullmatch=True)
passwords = st.from_regex(r"[0-9a-zA-Z]{6}", fullmatch=True)


def qn_of(moment: datetime) -> str:
    return encode.new_qn(moment)


@given(
    cn=st.sampled_from(["2011", "2051", "2061", "2031"]),
    values=value_maps,
    data_time=moments,
    mn=mns,
    pw=passwords,
    version=st.sampled_from(["2017", "2025"]),
    ack=st.booleans(),
    resent=st.booleans(),
)
def test_uploads_round_trip(
    cn: str,
    values: dict[str, dict[str, object]],
    data_time: datetime,
    mn: str,
    pw: str,
    version: str,
    ack: bool,
    resent: bool,
) -> None:
    frames = encode.upload(
        cn,
        data_time=data_time,
        values=values,
        qn=qn_of(data_time),
        st="32",
        pw=pw,
        mn=mn,
        version=version,
        ack=ack,
        resent=resent,
        limit=9999,
    )
    [event] = Connection(Role.PLATFORM, auto_answer=False).receive_data(frames[0])
    assert isinstance(event, DataUpload)
    assert (event.cn, event.mn, event.pw, event.version, event.ack_requested, event.resent) == (
        cn,
        mn,
        pw,
        version,
        ack,
        resent,
    )
    assert event.data_time == data_time
    assert event.values == values


@settings(max_examples=60)
@given(values=value_maps, data_time=moments, seed=st.integers(0, 2**32 - 1))
def test_split_uploads_reassemble_in_any_order(
    values: dict[str, dict[str, object]], data_time: datetime, seed: int
) -> None:
    frames = encode.upload(
        "2051",
        data_time=data_time,
        values=values,
        qn=qn_of(data_time),
        st="31",
        pw="123456",
        mn="0" * 24,
        limit=300,
    )
    random.Random(seed).shuffle(frames)
    conn = Connection(Role.PLATFORM, auto_answer=False)
    events = conn.receive_data(b"".join(frames))
    packets = [e for e in events if isinstance(e, DataUpload)]
    assert len(packets) == len(frames)
    assert all(len(p.segment) <= 300 for p in packets)
    if len(frames) == 1:
        assert packets[0].values == values
        return
    [complete] = [e for e in events if isinstance(e, SplitComplete)]
    assert complete.upload.values == values
    assert {p.pno for p in packets} == set(range(1, len(frames) + 1))
    assert len({p.qn for p in packets}) == len(frames)  # each packet has its own QN


params_for = {
    "OverTime": st.integers(1, 99),
    "ReCount": st.integers(1, 99),
    "PolId": codes,
    "SystemTime": moments,
    "RtdInterval": st.integers(30, 3600),
    "MinInterval": st.sampled_from([1, 2, 5, 10, 30]),
    "NewPW": passwords,
    "BeginTime": moments,
    "EndTime": moments,
    "InfoId": st.sampled_from(["i12001", "i13004"]),
    "CstartTime": st.from_regex(r"([01][0-9]|2[0-3])[0-5][0-9]00", fullmatch=True),
    "Ctime": st.integers(1, 24),
    "i23005-Info": mns,
    "SKCreateTime": moments,
    "NewSK": st.from_regex(r"[0-9A-F]{32}", fullmatch=True),
    "CalibrationType": st.integers(1, 3),
}


@st.composite
def platform_commands(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    cn = draw(st.sampled_from(sorted(PLATFORM_PARAMS)))
    required, optional = PLATFORM_PARAMS[cn]
    keys = list(required) + [k for k in optional if draw(st.booleans())]
    params = {k: draw(params_for[k]) for k in keys}
    if cn == "3021":
        params[f"{params['InfoId']}-Info"] = draw(numbers)
    return cn, params


@given(command=platform_commands(), mn=mns, moment=moments)
def test_platform_commands_round_trip(
    command: tuple[str, dict[str, object]], mn: str, moment: datetime
) -> None:
    cn, params = command
    wire = encode.command(cn, params, qn=qn_of(moment), st="32", pw="123456", mn=mn)
    [event] = Connection(Role.STATION, auto_answer=False).receive_data(wire)
    assert isinstance(event, Message)
    assert (event.cn, event.mn, event.qn) == (cn, mn, qn_of(moment))
    assert event.cp == {k: encode.text(v) for k, v in params.items()}


@given(
    cn=st.sampled_from(["9011", "9012", "9013", "9014"]),
    rtn=st.integers(1, 100),
    version=st.sampled_from(["2005", "2017", "2025"]),
    moment=moments,
)
def test_answers_round_trip(cn: str, rtn: int, version: str, moment: datetime) -> None:
    qn = qn_of(moment)
    wire = encode.answer(
        cn,
        qn=qn,
        pw="123456",
        mn="88888880000001",
        version=version,
        request_cn="2051",
        qn_rtn=rtn if cn == "9011" else None,
        exe_rtn=rtn if cn == "9012" else None,
    )
    [event] = Connection(Role.PLATFORM).receive_data(wire)
    assert isinstance(event, Reply)
    assert event.cn == cn
    assert event.answers_qn == qn
    assert event.qn_rtn == (rtn if cn == "9011" else None)
    assert event.exe_rtn == (rtn if cn == "9012" else None)


@settings(max_examples=50)
@given(values=value_maps, data_time=moments)
def test_encrypted_uploads_round_trip(
    values: dict[str, dict[str, object]], data_time: datetime
) -> None:
    frames = encode.upload(
        "2051",
        data_time=data_time,
        values=values,
        qn=qn_of(data_time),
        st="31",
        pw="123456",
        mn="0" * 24,
        version="2025",
        sm4_key=TEST_KEY,
    )
    conn = Connection(Role.PLATFORM, options=DecodeOptions(sm4_key=TEST_KEY))
    events = conn.receive_data(b"".join(frames))
    uploads = [e for e in events if isinstance(e, DataUpload)]
    assert len(uploads) == len(frames)
    assert all("encrypted" in u.deviations for u in uploads if len(u.segment) > 130)
    merged: dict[str, object] = {}
    for upload in uploads:
        merged.update(upload.values)
    assert merged == values


def test_split_set_missing_a_packet_is_reported_after_the_timeout() -> None:
    values = {f"a{i:05d}": {"Avg": 1.5, "Flag": "N"} for i in range(100)}
    moment = datetime(2026, 11, 1, 8, tzinfo=BEIJING)
    frames = encode.upload(
        "2051", data_time=moment, values=values, qn=qn_of(moment), st="31", pw="123456", mn="0" * 24
    )
    assert len(frames) >= 3
    conn = Connection(Role.PLATFORM, split_timeout=30)
    conn.receive_data(b"".join(frames[1:]), now=100.0)
    assert conn.tick(129.0) == []
    [incomplete] = conn.tick(131.0)
    assert incomplete.received == tuple(range(2, len(frames) + 1))  # type: ignore[union-attr]
    assert incomplete.pnum == len(frames)  # type: ignore[union-attr]
    assert (moment + timedelta(0)) == incomplete.data_time  # type: ignore[union-attr]


@given(
    cn=st.sampled_from(sorted(encode.STATION_MESSAGES)),
    params=st.dictionaries(
        st.sampled_from(
            ["PolId", "SystemTime", "RtdInterval", "VaseNo", "i13004-Info", "RestartTime"]
        ),
        st.one_of(codes, moments, st.integers(1, 3600)),
        max_size=4,
    ),
    ack=st.booleans(),
    moment=moments,
    version=st.sampled_from(["2017", "2025"]),
)
def test_station_messages_round_trip(
    cn: str, params: dict[str, object], ack: bool, moment: datetime, version: str
) -> None:
    wire = encode.station(
        cn, params, qn=qn_of(moment), st="32", pw="1", mn="A" * 24, version=version, ack=ack
    )
    conn = Connection(Role.PLATFORM, auto_answer=False)
    [event, *_] = conn.receive_data(wire)
    assert isinstance(event, Message)
    assert (event.cn, event.ack_requested, event.version) == (cn, ack, version)
    assert event.cp == {k: encode.text(v) for k, v in params.items()}
    expected = "9013" if cn in ("1013", "1014", "9015") else ("9014" if ack else None)
    assert conn.answer_required(event) == expected
