"""Code tables of HJ 212 (HJ 212-2017 §6.6 Tables 5-7). The full tables come with the codec."""

from __future__ import annotations

from enum import IntFlag, StrEnum


class SystemCode(StrEnum):
    """ST: the system a frame belongs to (HJ 212-2017 Table 5, excerpt)."""

    SURFACE_WATER = "21"
    AIR_QUALITY = "22"
    NOISE = "23"
    AIR_EMISSION = "31"
    SURFACE_WATER_EMISSION = "32"
    REPLY = "91"


class CommandCode(StrEnum):
    """CN: what a frame asks or carries (HJ 212-2017 Table 7, excerpt)."""

    SET_TIME = "1012"
    TIME_CALIBRATION_REQUEST = "1013"
    REALTIME_DATA = "2011"
    STATUS_DATA = "2021"
    DAY_DATA = "2031"
    RUNTIME_DAY_DATA = "2041"
    MINUTE_DATA = "2051"
    HOUR_DATA = "2061"
    REQUEST_ANSWER = "9011"
    EXECUTION_RESULT = "9012"
    NOTIFICATION_ANSWER = "9013"
    DATA_ANSWER = "9014"
    HEARTBEAT = "9015"


class Flag(IntFlag):
    """Low bits of the header Flag (bit position, not letter: 2025 swapped the letters)."""

    ACK = 1
    SPLIT = 2


VERSION_BITS = {0: "2005", 1: "2017", 2: "2025"}
VERSION_FLAG = {version: bits << 2 for bits, version in VERSION_BITS.items()}
DATA_UPLOADS = frozenset(
    {
        CommandCode.REALTIME_DATA,
        CommandCode.STATUS_DATA,
        CommandCode.DAY_DATA,
        CommandCode.RUNTIME_DAY_DATA,
        CommandCode.MINUTE_DATA,
        CommandCode.HOUR_DATA,
    }
)
