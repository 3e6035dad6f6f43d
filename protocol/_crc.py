"""The HJ 212 CRC (HJ 212-2017 Appendix A; unchanged since HJ/T 212-2005), and the legacy
variants real devices send.

The standard's loop XORs each byte into the *high* byte of the register
(``crc = (crc >> 8) ^ byte``) and then shifts eight times with 0xA001. That is not
CRC-16/MODBUS. One step is a lookup in the MODBUS table, ``r = T[(r >> 8) ^ b]``, and
only the high byte ``h`` of the register survives a step: ``h' = M(h ^ b)`` with ``M``
the GF(2)-linear map ``x -> T[x] >> 8``, whose eighth power is the identity.

So, for a segment ``b_1 .. b_n`` (n >= 1), with ``X_j`` the XOR of the bytes whose
distance from the end is ``j`` modulo 8::

    crc = T[ M^((n-1) mod 8)(0xFF)  ^  XOR_j M^j(X_j) ]

The eight ``X_j`` are exactly the bytes of ``data(x) mod (x^64 + 1)``: a CRC-64 with
polynomial x^64+1, init 0, no reflection, which a C library computes at memory speed
(anycrc: 0.49 µs for 294 bytes here; crcmod-plus: 1.09 µs, so anycrc). ``T`` is linear,
so the rest folds into four 65,536-entry tables and one 8-entry table: four lookups.

The HJ 212 CRC takes only 256 distinct values on non-empty input: it is a weak check,
and the framer validates structure as well.

Check values: ``b"123456789"`` -> 0x2F80; the standard's example segment ending in
``RtdInterval=30&&`` -> 0x1C80 (its prose misprints "1C08").
"""

from __future__ import annotations

from array import array

import anycrc


def _modbus_step(value: int) -> int:
    for _ in range(8):
        value = (value >> 1) ^ 0xA001 if value & 1 else value >> 1
    return value


_T = tuple(_modbus_step(i) for i in range(256))  # MODBUS table: 8 steps of 0xA001


def _m_power(power: int, x: int) -> int:
    for _ in range(power):
        x = _T[x] >> 8
    return x


def _lane_table(lane_pair: int) -> array[int]:
    """``v`` (two fold bytes, lanes 2q and 2q+1) -> its 16-bit share of the CRC."""
    low = [_T[_m_power(2 * lane_pair, x)] for x in range(256)]
    high = [_T[_m_power(2 * lane_pair + 1, x)] for x in range(256)]
    return array("H", [low[v & 0xFF] ^ high[v >> 8] for v in range(65536)])


_H0, _H1, _H2, _H3 = (_lane_table(q) for q in range(4))
_INIT = tuple(_T[_m_power(k, 0xFF)] for k in range(8))  # by (n - 1) mod 8
_fold = anycrc.CRC(width=64, poly=0x1, init=0, refin=False, refout=False, xorout=0).calc
_modbus = anycrc.CRC(width=16, poly=0x8005, init=0xFFFF, refin=True, refout=True, xorout=0).calc


def crc16(data: bytes) -> int:
    """The HJ 212 CRC of a data segment (the bytes between the length and the CRC)."""
    n = len(data)
    if not n:
        return 0xFFFF
    f: int = _fold(data)
    return (
        _H0[f & 0xFFFF]
        ^ _H1[(f >> 16) & 0xFFFF]
        ^ _H2[(f >> 32) & 0xFFFF]
        ^ _H3[f >> 48]
        ^ _INIT[(n - 1) & 7]
    )


def crc16_hex(data: bytes) -> str:
    """:func:`crc16` as the 4 upper-case hex digits written on the wire."""
    return f"{crc16(data):04X}"


def crc16_reference(data: bytes) -> int:
    """The standard's algorithm, one table step per byte: the oracle for tests."""
    reg = 0xFFFF
    for byte in data:
        reg = _T[(reg >> 8) ^ byte]
    return reg


def modbus(data: bytes) -> int:
    """CRC-16/MODBUS (``crc ^= b``, then 0xA001 shifts), a legacy variant seen in the field."""
    return int(_modbus(data))


def match_variant(data: bytes, declared: int) -> str | None:
    """Which CRC ``declared`` is, if any: ``hj212``, ``modbus`` or ``modbus-swapped``."""
    if crc16(data) == declared:
        return "hj212"
    value = modbus(data)
    if value == declared:
        return "modbus"
    if ((value & 0xFF) << 8 | value >> 8) == declared:
        return "modbus-swapped"
    return None
