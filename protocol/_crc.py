"""The HJ 212 CRC (HJ 212-2017 Appendix A; unchanged since HJ/T 212-2005).

The standard's loop XORs each byte into the *high* byte of the register
(``crc = (crc >> 8) ^ byte``) and then shifts eight times with 0xA001. That is not
CRC-16/MODBUS: because only the high byte survives each step, one step is a lookup
in the MODBUS table, ``crc = T[(crc >> 8) ^ byte]``.

Check values: ``b"123456789"`` -> 0x2F80; the standard's example segment ending in
``RtdInterval=30&&`` -> 0x1C80 (its prose misprints "1C08").
"""

from __future__ import annotations


def _modbus_step(value: int) -> int:
    for _ in range(8):
        value = (value >> 1) ^ 0xA001 if value & 1 else value >> 1
    return value


_TABLE = tuple(_modbus_step(i) for i in range(256))


def crc16(data: bytes) -> int:
    """The HJ 212 CRC of a data segment (the bytes between the length and the CRC)."""
    crc = 0xFFFF
    table = _TABLE
    for byte in data:
        crc = table[(crc >> 8) ^ byte]
    return crc


def crc16_hex(data: bytes) -> str:
    """:func:`crc16` as the 4 upper-case hex digits written on the wire."""
    return f"{crc16(data):04X}"
