"""services/upstream_frames.py: a stored frame as one upstream gets it."""

from __future__ import annotations

import pytest

from protocol import Connection, DataUpload, DecodeOptions, Role, encode
from services.upstream_frames import NotForwardable, outgoing

MN = "A1B2C3D4E5F6A7B8C9D0E1F2"
KEY = bytes.fromhex("30303030303030303030303030303030")


def _frame(flag: int = 5) -> bytes:
    return encode.frame(
        f"QN=20261123101500001;ST=32;CN=2011;PW=123456;MN={MN};Flag={flag};"
        "CP=&&DataTime=20261123101500;w01018-Rtd=31.25,w01018-Flag=N&&"
    )


def _read(wire: bytes, key: bytes | None = None) -> DataUpload:
    conn = Connection(Role.PLATFORM)
    if key is not None:
        conn.options = DecodeOptions(sm4_key=key)
    (event,) = conn.receive_data(wire, now=0.0)
    assert isinstance(event, DataUpload), event
    return event


def test_passthrough_keeps_the_bytes_that_ask_for_an_answer() -> None:
    raw = _frame()
    out = outgoing(raw, version="2017")
    assert (out.wire, out.qn) == (raw, "20261123101500001")


def test_a_frame_asking_no_answer_gets_the_ack_bit() -> None:
    event = _read(outgoing(_frame(flag=4), version="2017").wire)
    assert event.flag == 5
    assert event.values == _read(_frame()).values


def test_rewrite_changes_mn_and_password_only() -> None:
    event = _read(outgoing(_frame(), version="2017", mn="F" * 24, pw="x9").wire)
    assert (event.mn, event.pw, event.qn) == ("F" * 24, "x9", "20261123101500001")
    assert event.values == _read(_frame()).values


def test_backlog_to_a_2025_upstream_carries_rf_and_its_key() -> None:
    wire = outgoing(_frame(), version="2025", resent=True, upstream_key=KEY).wire
    assert b"w01018" not in wire  # the CP area travels encrypted
    event = _read(wire, KEY)
    assert event.version == "2025"
    assert "RF=1" in wire.decode("latin-1")
    assert event.values == _read(_frame()).values


def test_a_frame_without_qn_is_not_forwardable() -> None:
    raw = encode.frame(f"ST=32;CN=2011;PW=123456;MN={MN};CP=&&DataTime=20261123101500&&")
    with pytest.raises(NotForwardable):
        outgoing(raw, version="2017")
