"""Who a frame is from, and what the gateway does with it: one decision per valid frame.

A connection belongs to the station whose frame first *authenticates* on it: the right
PW (HJ 212-2017 §6.3.2, Table 3: 访问密码) and, for a station with an SM4 key, a CP area
that decrypts with it (HJ 212-2025 §6.4). Only then is it bound to the MN (platform
commands go to it, a second authenticated connection replaces it). Answers (9011-9014)
never bind anything; on a bound connection they must carry the station's PW. A frame
for another MN on a bound connection is refused: a connection is one station's.

Unknown MNs follow ``unknown_station``; deactivated stations are refused; wrong
passwords are counted (gateway/guard.py) and stop the connection from being evaluated.
A data upload whose DataTime is more than ``max_future`` ahead of its receive time is
archived as rejected: the first write of a record wins (storage/frame_batch.py), so a
record from the future would make the real one a duplicate when its time comes.

Every reason starts with a code and ':' (what the station page shows, migration 0040):
``wrong-password``, ``unknown-station``, ``deactivated``, ``throttled``, ``plaintext``,
``other-mn``, ``answer-unbound``, ``future``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from protocol import DataUpload, Message
from protocol.codes import REPLY_CODES

if TYPE_CHECKING:
    from config.settings import GatewaySettings
    from gateway.registry import SessionStation


@dataclass(frozen=True)
class Verdict:
    """``status`` None stores the frame as data and answers it; otherwise it is archived
    with that status and ``reason`` (error column), and answered only if ``answer``."""

    status: str | None = None
    reason: str | None = None
    bind: bool = False  # the frame authenticates this connection for its MN
    failure: bool = False  # a failed authentication: counted, and the connection stops
    close: bool = False
    answer: bool = False


OK = Verdict()


def judge(
    message: Message,
    station: SessionStation | None,
    *,
    bound: str | None,
    throttled: str | None,
    received_at: datetime,
    settings: GatewaySettings,
) -> Verdict:
    """What to do with ``message`` on a connection bound to ``bound`` (None: not yet)."""
    mn = message.mn
    if bound is not None and mn != bound:
        return _refused(
            f"other-mn: MN {mn} on a connection of station {bound}", settings, fail=True
        )
    if message.cn in REPLY_CODES:
        return _answer(message, station, bound)
    if station is None:
        return _unknown(settings)
    if not station.active:
        return _refused("deactivated: station deactivated in the registry", settings, fail=False)
    if message.pw != station.password:  # refused either way: telling it leaks nothing
        return _refused("wrong-password", settings, fail=True)
    if bound is None and throttled is not None:  # even the right one: not accepted now
        return _refused(f"throttled: not accepted now, {throttled}", settings, fail=False)
    if station.encrypted and "encrypted" not in message.deviations:
        return _refused("plaintext: from a station with an SM4 key", settings, fail=True)
    future = _future(message, received_at, settings)
    if future is not None:
        return Verdict(status="rejected", reason=future, bind=bound is None)
    return Verdict(bind=bound is None)


def _answer(message: Message, station: SessionStation | None, bound: str | None) -> Verdict:
    if bound is None:
        return Verdict(
            status="unauthorized", reason="answer-unbound: on a connection of no station"
        )
    if station is not None and message.pw != station.password:
        return Verdict(status="unauthorized", reason="wrong-password: an answer", failure=True)
    return OK


def _unknown(settings: GatewaySettings) -> Verdict:
    policy = settings.unknown_station
    if policy == "quarantine":
        return Verdict(status="quarantined", reason="unknown-station", answer=True)
    if policy == "accept":
        return Verdict(bind=True)
    return Verdict(status="unauthorized", reason="unknown-station", close=policy == "close")


def _refused(why: str, settings: GatewaySettings, *, fail: bool) -> Verdict:
    return Verdict(
        status="unauthorized", reason=why, failure=fail, close=settings.bad_password == "close"
    )


def _future(message: Message, received_at: datetime, settings: GatewaySettings) -> str | None:
    if not isinstance(message, DataUpload):
        return None
    ahead = message.data_time - received_at
    if ahead <= timedelta(seconds=settings.max_future):
        return None
    return f"future: DataTime {message.data_time.isoformat()} is {ahead} ahead of receipt"
