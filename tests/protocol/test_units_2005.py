"""HJ/T 212-2005 values brought to HJ 212-2017 units at decode (protocol/units.py).

The list of codes is derived from the two code tables, so a code whose printed units
differ cannot be left out; the factors are the test's own, per pair of units."""

from __future__ import annotations

import pytest

from protocol import Connection, DataUpload, Message, Rejected, Role
from protocol.codes import Deviation
from protocol.encode import frame
from protocol.pollutants import CODE_2005_TO_2017, FACTORS, TABLE_2005
from protocol.units import AMOUNT_2005, CONCENTRATION_2005, NOT_CONVERTED, to_2005_value

# 1 unit of the first = this many of the second
PAIRS = {("mg/L", "μg/L"): 1e3, ("mg/L", "ng/L"): 1e6, ("MPa", "kPa"): 1e3}
AMOUNT_PAIRS = {("kg", "g"): 1e3, ("kg", "mg"): 1e6}
# printed differently without being another unit: "" (none printed) and a misprint each
SAME = {("", "L/s"), ("", "m³/s")}


def differing() -> list[tuple[str, str, str, str]]:
    """Every 2005 code mapped to 2017 whose printed concentration units differ."""
    rows = []
    for old, new in sorted(CODE_2005_TO_2017.items()):
        printed = TABLE_2005.get(old)
        if printed is not None and printed[1] != FACTORS[new].unit:
            rows.append((old, new, printed[1], FACTORS[new].unit))
    return rows


def test_every_differing_code_is_converted_or_named() -> None:
    rows = differing()
    assert len(rows) >= 14  # 9 metals, thallium and alkyl mercury, S04, S08, S02, NH3, flows
    for old, _new, unit_2005, unit_2017 in rows:
        if old in NOT_CONVERTED or (unit_2005, unit_2017) in SAME:
            assert old not in CONCENTRATION_2005
        else:
            assert CONCENTRATION_2005[old].factor == PAIRS[(unit_2005, unit_2017)], old


def decode_frame(wire: bytes) -> Message | Rejected:
    events = Connection(Role.PLATFORM, auto_answer=False).receive_data(wire)
    assert len(events) == 1, events
    event = events[0]
    assert isinstance(event, Message | Rejected)
    return event


def _frame(segment: str) -> bytes:
    return frame(segment)


def _upload_2005(cp: str) -> DataUpload:
    event = decode_frame(_frame(f"ST=32;CN=2061;PW=123456;MN=88888880000001;CP=&&{cp}&&"))
    assert isinstance(event, DataUpload), event
    return event


@pytest.mark.parametrize(("old", "new", "unit_2005", "unit_2017"), differing())
def test_round_trip(old: str, new: str, unit_2005: str, unit_2017: str) -> None:
    """A 2017 value sent by a 2005 device in its own unit decodes to the 2017 value."""
    value, amount = 12.5, 3.25  # in the 2017 units
    sent = to_2005_value(old, "Avg", value)
    sent_cou = to_2005_value(old, "Cou", amount)
    upload = _upload_2005(f"DataTime=20040516020000;{old}-Avg={sent!r},{old}-Cou={sent_cou!r}")
    assert upload.values[new]["Avg"] == pytest.approx(value)
    assert upload.values[new]["Cou"] == pytest.approx(amount)
    converted = [d for d in upload.deviations if d.startswith(Deviation.UNIT_CONVERTED_)]
    if old in CONCENTRATION_2005:
        assert sent == pytest.approx(value / PAIRS[(unit_2005, unit_2017)])
        assert any(f"{old}->{new}:{unit_2005}->{unit_2017}" in d for d in converted)
    else:
        assert sent == value
    if old in AMOUNT_2005:
        cou = AMOUNT_2005[old]
        assert cou.factor == AMOUNT_PAIRS[(cou.unit_2005, cou.unit_2017)]
        assert sent_cou == pytest.approx(amount / cou.factor)
    if old not in CONCENTRATION_2005 and old not in AMOUNT_2005:
        assert converted == []


def test_pressure_and_metal_in_one_frame() -> None:
    """S04 0.101 MPa is 101 kPa under a01017; total mercury 0.002 mg/L is 2 µg/L."""
    upload = _upload_2005("DataTime=20040516020000;S04-Avg=0.101;020-Avg=0.002,020-Cou=0.001")
    assert upload.values["a01017"]["Avg"] == pytest.approx(101.0)
    assert upload.values["w20111"]["Avg"] == pytest.approx(2.0)
    assert upload.values["w20111"]["Cou"] == pytest.approx(1.0)  # kg -> g
    assert f"{Deviation.UNIT_CONVERTED_}S04->a01017:MPa->kPax1000" in upload.deviations
    assert f"{Deviation.UNIT_CONVERTED_}020->w20111:mg/L->μg/Lx1000" in upload.deviations
    assert f"{Deviation.UNIT_CONVERTED_}020->w20111:kg->gx1000" in upload.deviations


def test_same_units_are_left_alone() -> None:
    """COD (011 -> w01018) is mg/L in both: value unchanged, no unit deviation."""
    upload = _upload_2005("DataTime=20040516020000;011-Avg=35.5,011-Cou=1.2")
    assert upload.values["w01018"] == {"Avg": 35.5, "Cou": 1.2}
    assert not [d for d in upload.deviations if d.startswith(Deviation.UNIT_CONVERTED_)]


def test_a_2017_frame_is_never_converted() -> None:
    segment = (
        "QN=20160801085857223;ST=32;CN=2061;PW=123456;MN=010000A8900016F000169DC0;Flag=5;"
        "CP=&&DataTime=20160801080000;w20111-Avg=0.002&&"
    )
    upload = decode_frame(_frame(segment))
    assert isinstance(upload, DataUpload)
    assert upload.values["w20111"]["Avg"] == 0.002
