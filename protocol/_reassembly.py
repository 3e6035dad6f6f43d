"""Split packets (HJ 212-2017 Table 3, Tables C.47-C.50): collect, merge, time out.

The standard gives no reassembly key. Each packet has its own QN and repeats DataTime,
with the factors spread over the packets, so packets are grouped by
(MN, CN, DataTime, PNUM) and may arrive in any order. Every packet is also reported on
its own, so that nothing depends on the set completing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from protocol.events import DataUpload, SplitComplete, SplitIncomplete, Values

Key = tuple[str | None, str | None, datetime, int]


@dataclass
class _Set:
    started: float
    packets: dict[int, DataUpload] = field(default_factory=dict)


class Reassembler:
    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._sets: dict[Key, _Set] = {}

    def add(self, packet: DataUpload, now: float) -> SplitComplete | None:
        pnum, pno = packet.pnum, packet.pno
        if pnum is None or pno is None or pnum < 2:
            return None
        key = (packet.mn, packet.cn, packet.data_time, pnum)
        entry = self._sets.setdefault(key, _Set(now))
        entry.packets[pno] = packet
        if len(entry.packets) < pnum or set(entry.packets) != set(range(1, pnum + 1)):
            return None
        del self._sets[key]
        ordered = tuple(entry.packets[i] for i in range(1, pnum + 1))
        return SplitComplete(upload=_merge(ordered), packets=ordered)

    @property
    def waiting(self) -> bool:
        """Whether some split set is still incomplete (``expire`` has something to time)."""
        return bool(self._sets)

    def expire(self, now: float) -> list[SplitIncomplete]:
        expired = [k for k, s in self._sets.items() if now - s.started >= self.timeout]
        out = []
        for key in expired:
            entry = self._sets.pop(key)
            mn, cn, data_time, pnum = key
            out.append(
                SplitIncomplete(
                    mn=mn,
                    cn=cn,
                    data_time=data_time,
                    pnum=pnum,
                    received=tuple(sorted(entry.packets)),
                )
            )
        return out


def _merge(packets: tuple[DataUpload, ...]) -> DataUpload:
    values: Values = {}
    cp: dict[str, str] = {}
    for packet in packets:
        for code, fields in packet.values.items():
            values.setdefault(code, {}).update(fields)
        cp.update(packet.cp)
    header = {k: v for k, v in packets[0].header.items() if k not in ("PNUM", "PNO")}
    return replace(
        packets[0],
        raw=b"".join(p.raw for p in packets),
        segment=b"",
        header=header,
        cp=cp,
        values=values,
    )
