"""Protocol dialects of the simulated loggers, read back by the platform's codec."""

from __future__ import annotations

from datetime import datetime

import pytest

from protocol import TEST_KEY, Connection, DataUpload, DecodeOptions, Rejected, Role, encode
from protocol._crc import modbus
from simulators import records
from simulators.logger import DataLogger
from simulators.models import CEMS, WATER, Model, make_station
from simulators.records import Record
from simulators.wire import bad_crc, encode_record

T0 = int(datetime.fromisoformat("2026-03-03T09:00:00+08:00").timestamp())


def _record(model: Model, version: str, **kw: object) -> tuple[DataLogger, Record]:
    mn = "88888880000001" if version == "2005" else "A" * 24
    station = make_station(0, mn, model, 212, version=version, **kw)  # type: ignore[arg-type]
    logger = DataLogger(station, start=T0)
    record = next(r for r in logger.due(T0 + 30) if r.cn == "2011")
    logger.fill(record)
    return logger, record


def _decode(frames: list[bytes], options: DecodeOptions | None = None) -> list[object]:
    conn = Connection(Role.PLATFORM, options=options or DecodeOptions())
    return [e for f in frames for e in conn.receive_data(f)]


@pytest.mark.parametrize("model", [CEMS, WATER])
@pytest.mark.parametrize("version", ["2017", "2025"])
@pytest.mark.parametrize("resent", [False, True])
def test_the_fast_2011_frame_is_byte_for_byte_protocol_encode(
    model: Model, version: str, resent: bool
) -> None:
    logger, record = _record(model, version)
    record.resent = resent
    fast = encode_record(logger.station, "123456", record, "20260303090030001")
    slow = encode.upload(
        "2011",
        data_time=datetime.fromtimestamp(record.stamp).astimezone(),
        values=record.values or {},
        qn="20260303090030001",
        st=model.st,
        pw="123456",
        mn=logger.station.mn,
        version=version,
        resent=resent and version == "2025",
    )
    assert fast == slow


def test_2005_frames_have_old_codes_a_14_character_mn_and_no_qn_or_flag() -> None:
    logger, record = _record(CEMS, "2005")
    [frame] = logger.frames(record, T0)
    header = frame.split(b"CP=")[0]
    assert b"QN=" not in header
    assert b"Flag=" not in header
    assert b"02-Rtd=" in frame  # SO2 as HJ/T 212-2005 wrote it
    [event] = _decode([frame])
    assert isinstance(event, DataUpload)
    assert event.version == "2005"
    assert event.mn == "88888880000001"
    assert set(event.values) == set(CEMS.codes)  # mapped back to the 2017 codes


def test_2025_frames_carry_the_version_bits_and_rf_on_a_backlog() -> None:
    logger, record = _record(WATER, "2025")
    record.resent = True
    [event] = _decode(logger.frames(record, T0))
    assert isinstance(event, DataUpload)
    assert (event.version, event.flag, event.resent) == ("2025", 9, True)


def test_2025_encrypted_frames_need_the_key() -> None:
    logger, record = _record(WATER, "2025", sm4_key=TEST_KEY)
    frames = logger.frames(record, T0)
    assert b"w01018-Rtd" not in frames[0]
    [refused] = _decode(frames)
    assert isinstance(refused, Rejected)
    assert refused.code == "decrypt"
    [event] = _decode(frames, DecodeOptions(sm4_key=TEST_KEY))
    assert isinstance(event, DataUpload)
    assert event.values["w01018"]["Flag"] == "N"


@pytest.mark.parametrize(("variant", "swap"), [("modbus", False), ("modbus-swapped", True)])
def test_legacy_crc_variants(variant: str, swap: bool) -> None:
    logger, record = _record(WATER, "2017", crc=variant)
    [frame] = logger.frames(record, T0)
    value = modbus(frame[6:-6])
    if swap:
        value = (value & 0xFF) << 8 | value >> 8
    assert frame[-6:-2] == b"%04X" % value
    [refused] = _decode([frame])
    assert isinstance(refused, Rejected)
    assert (refused.code, refused.crc_variant) == ("legacy-crc", variant)
    [event] = _decode([frame], DecodeOptions(accept_crc=frozenset({variant})))
    assert isinstance(event, DataUpload)


def test_a_bad_crc_matches_no_variant() -> None:
    logger, record = _record(CEMS, "2017")
    [frame] = logger.frames(record, T0)
    [event] = _decode([bad_crc(frame)])
    assert isinstance(event, Rejected)
    assert event.code == "crc"


def test_split_packets_reassemble_to_the_whole_record() -> None:
    logger, record = _record(CEMS, "2017")
    frames = logger.frames(record, T0, limit=300)
    assert len(frames) > 2
    events = _decode(frames)
    packets = [e for e in events if isinstance(e, DataUpload)]
    assert [p.pno for p in packets] == list(range(1, len(frames) + 1))
    merged = {code for p in packets for code in p.values}
    assert merged == set(CEMS.codes)


@pytest.mark.parametrize("model", [CEMS, WATER])
def test_the_one_pass_realtime_text_is_what_the_dictionaries_render(model: Model) -> None:
    station = make_station(5, "A" * 24, model, 212)
    for t in range(T0, T0 + 3000, 30):
        values = records.realtime(station, t)
        rendered = ";".join(
            ",".join(f"{code}-{k}={encode.text(v)}" for k, v in fields.items())
            for code, fields in values.items()
        )
        assert records.realtime_text(station, t) == rendered
