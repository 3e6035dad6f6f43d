"""Manual monitoring values (手工监测值录入, docs/regulations.md §1.3 and §6.5) in the
figures: which hours of a factor an accepted manual sample stands for.

A sample stands for the hours from the one it was taken in until the next sample of
the factor, at most ``manual_sampling_every_h`` (6 h: 环发〔2008〕6号 第十五条, at most
6 h apart) [E]. Where the automatic hour is missing or not valid, that hour counts
(rules/rates.py): in the completion (补全) rate as received and valid, since the value
was entered after its hour, never in the realtime (即时) rate; in the emissions from
the manual concentration and the hour's flow, counted as manual hours. Manual values
are never judged for exceedance: the rules engine never sees them as data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rules.times import HOUR, hour_floor

Manual = Mapping[tuple[str, int], float]  # (pollutant, hour start µs) -> manual value


@dataclass(frozen=True, slots=True)
class ManualValue:
    """An accepted manual sample."""

    pollutant: str
    taken: int  # µs
    value: float


def hourly(samples: Iterable[ManualValue], every: int) -> dict[tuple[str, int], float]:
    """The hours each sample stands for (µs ``every``: the longest interval allowed);
    where two samples reach one hour, the later one's value."""
    by_code: dict[str, list[ManualValue]] = {}
    for sample in samples:
        by_code.setdefault(sample.pollutant, []).append(sample)
    out: dict[tuple[str, int], float] = {}
    for code, found in by_code.items():
        found.sort(key=lambda s: s.taken)
        for i, sample in enumerate(found):
            end = sample.taken + every
            if i + 1 < len(found):
                end = min(end, found[i + 1].taken)
            hour = hour_floor(sample.taken)
            out[(code, hour)] = sample.value
            hour += HOUR
            while hour < end:
                out[(code, hour)] = sample.value
                hour += HOUR
    return out
