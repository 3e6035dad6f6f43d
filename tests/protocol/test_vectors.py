"""Real frames from public sources (``shared/vectors/public-frames.tsv``), the 2025 SM4
examples and the legacy CRC variants seen in the field."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from protocol import (
    TEST_KEY,
    Connection,
    DataUpload,
    DecodeOptions,
    Message,
    Rejected,
    Role,
    decrypt_segment,
    encode,
    encrypt_segment,
    match_variant,
)
from protocol._crc import modbus

# a copy of the team's shared/vectors/public-frames.tsv: each frame with its source and notes
VECTORS = Path(__file__).resolve().parents[1] / "data" / "public-frames.tsv"


def vectors() -> list[tuple[int, bytes, str, str]]:
    with VECTORS.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [
        (i + 2, r["frame"].encode() + b"\r\n", r["check"], r["notes"]) for i, r in enumerate(rows)
    ]


VECTOR_ROWS = vectors()
KNOWN_BAD = {9, 12, 15, 16, 19, 56, 58}  # published CRC (or length) wrong: see their notes
LEGACY = {52, 53, 54}  # CRC-16/MODBUS, low byte first
ENCRYPTED = {5, 7}


def decode_one(wire: bytes, options: DecodeOptions | None = None) -> Message | Rejected:
    conn = Connection(Role.PLATFORM, auto_answer=False, options=options or DecodeOptions())
    events = conn.receive_data(wire)
    assert len(events) == 1, events
    event = events[0]
    assert isinstance(event, Message | Rejected)
    return event


def test_the_vector_file_is_there() -> None:
    assert len(VECTOR_ROWS) >= 50


@pytest.mark.parametrize(
    ("line", "wire", "check", "notes"), VECTOR_ROWS, ids=[f"line{r[0]}" for r in VECTOR_ROWS]
)
def test_public_frames(line: int, wire: bytes, check: str, notes: str) -> None:
    event = decode_one(wire)
    if line in KNOWN_BAD:
        assert isinstance(event, Rejected)
        assert event.code == "crc"
    elif line in LEGACY:
        assert isinstance(event, Rejected)
        assert event.code == "legacy-crc"
        assert event.crc_variant == "modbus-swapped"
        assert event.mn is not None  # still filed under its station
    elif line in ENCRYPTED:
        assert isinstance(event, Rejected)
        assert event.code == "decrypt"
    else:
        assert isinstance(event, Message), (line, notes)
        assert "crc_ok=yes" in check


@pytest.mark.parametrize("line", sorted(LEGACY))
def test_legacy_crc_accepted_when_the_station_policy_allows(line: int) -> None:
    wire = next(r[1] for r in VECTOR_ROWS if r[0] == line)
    event = decode_one(wire, DecodeOptions(accept_crc=frozenset({"modbus-swapped"})))
    assert isinstance(event, DataUpload)
    assert event.crc_variant == "modbus-swapped"
    assert "legacy-crc:modbus-swapped" in event.deviations


def test_oversized_real_frame_is_noted() -> None:
    wire = next(r[1] for r in VECTOR_ROWS if r[0] == 52)  # ##1623...
    event = decode_one(wire, DecodeOptions(accept_crc=frozenset({"modbus-swapped"})))
    assert isinstance(event, Message)
    assert "oversized" in event.deviations


def test_plain_modbus_variant_is_recognised() -> None:
    segment = b"QN=20260101000000000;ST=32;CN=2011;PW=1;MN=A;Flag=4;CP=&&DataTime=20260101000000&&"
    wire = b"##%04d%b%04X\r\n" % (len(segment), segment, modbus(segment))
    event = decode_one(wire)
    assert isinstance(event, Rejected)
    assert (event.code, event.crc_variant) == ("legacy-crc", "modbus")
    assert match_variant(segment, modbus(segment)) == "modbus"


@pytest.mark.parametrize(("plain_line", "encrypted_line"), [(4, 5), (6, 7)])
def test_2025_appendix_a2_encryption(plain_line: int, encrypted_line: int) -> None:
    plain = next(r[1] for r in VECTOR_ROWS if r[0] == plain_line)
    encrypted = next(r[1] for r in VECTOR_ROWS if r[0] == encrypted_line)
    plain_segment, encrypted_segment = plain[6:-6], encrypted[6:-6]
    assert decrypt_segment(encrypted_segment, TEST_KEY) == plain_segment
    assert encrypt_segment(plain_segment, TEST_KEY) == encrypted_segment
    event = decode_one(encrypted, DecodeOptions(sm4_key=TEST_KEY))
    assert isinstance(event, DataUpload)
    assert event.version == "2025"
    assert event.values["a01011"]["Avg"] == 1.35
    assert event.raw == encrypted  # the archive keeps what was received
    assert event.segment == plain_segment  # the CRC was checked over the plaintext


def test_wrong_sm4_key_fails_the_crc_and_says_so() -> None:
    encrypted = next(r[1] for r in VECTOR_ROWS if r[0] == 5)
    event = decode_one(encrypted, DecodeOptions(sm4_key=b"1" * 16))
    assert isinstance(event, Rejected)
    assert event.code == "decrypt"  # a wrong key, not a missing one nor a line error
    assert "does not decrypt with the station's SM4 key" in event.detail


def test_2025_heartbeat_is_answered_with_9013() -> None:
    conn = Connection(Role.PLATFORM)
    [event] = conn.receive_data(
        encode.frame(
            "QN=20260101000000000;ST=31;CN=9015;PW=123456;MN=010000A8900016F000169DC0;Flag=9;"
            "CP=&&&&"
        )
    )
    assert isinstance(event, Message)
    assert event.version == "2025"
    assert conn.data_to_send() == encode.frame(
        "QN=20260101000000000;ST=91;CN=9013;PW=123456;MN=010000A8900016F000169DC0;Flag=8;CP=&&&&"
    )


def test_2025_resent_flag() -> None:
    [event] = Connection(Role.PLATFORM).receive_data(
        encode.frame(
            "QN=20260101000000000;ST=31;CN=2061;PW=1;MN=010000A8900016F000169DC0;Flag=9;RF=1;"
            "CP=&&DataTime=20260101000000;a21026-Avg=12.5,a21026-Flag=N&&"
        )
    )
    assert isinstance(event, DataUpload)
    assert event.resent


def test_keys_in_any_case_and_order() -> None:
    [event] = Connection(Role.PLATFORM).receive_data(
        encode.frame(
            "cn=2011;MN=X1;qn=20260101000000000;flag=4;ST=32;PW=1;"
            "CP=&&datatime=20260101000000;w01018-rtd=3.5,w01018-flag=N&&"
        )
    )
    assert isinstance(event, DataUpload)
    assert (event.cn, event.qn, event.flag) == ("2011", "20260101000000000", 4)
    assert event.values == {"w01018": {"Rtd": 3.5, "Flag": "N"}}
    assert "key-case" in event.deviations


def test_malformed_ciphertext_is_a_decrypt_error() -> None:
    # found by the fuzz run: two hex bytes run together ("0x520xFE")
    segment = b"QN=20260101000000000;ST=31;CN=2051;PW=1;MN=A;Flag=9;CP=&&{0x7D,0x520xFE}&&"
    wire = b"##%04d%b0000\r\n" % (len(segment), segment)
    event = decode_one(wire, DecodeOptions(sm4_key=TEST_KEY))
    assert isinstance(event, Rejected)
    assert event.code == "decrypt"
