from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from protocol import crc16, crc16_hex


def standard_c_listing(data: bytes) -> int:
    """HJ 212-2017 Appendix A, transcribed literally from its C listing."""
    reg = 0xFFFF
    for byte in data:
        reg = (reg >> 8) ^ byte
        for _ in range(8):
            check = reg & 0x0001
            reg >>= 1
            if check == 0x0001:
                reg ^= 0xA001
    return reg


APPENDIX_A = (
    b"QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;"
    b"CP=&&RtdInterval=30&&"
)


def test_appendix_a_example() -> None:
    # the standard's prose misprints "1C08"; the frame itself carries 1C80
    assert crc16_hex(APPENDIX_A) == "1C80"


def test_check_values() -> None:
    assert crc16(b"") == 0xFFFF
    assert crc16(b"\x00") == 0x4040
    assert crc16_hex(b"123456789") == "2F80"


def test_2025_appendix_a1_example() -> None:
    segment = (
        b"QN=20240601085857223;ST=32;CN=1011;PW=123456;MN=010000A8900016F000169DC0;Flag=9;CP=&&&&"
    )
    assert crc16_hex(segment) == "2200"


@given(st.binary(max_size=1100))
def test_matches_the_standards_listing(data: bytes) -> None:
    assert crc16(data) == standard_c_listing(data)
