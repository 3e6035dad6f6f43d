"""What a fleet of simulated loggers did: counts, and a sample of ack latencies.

Its own module so that :mod:`simulators.client` can count without importing the
fleet that runs it.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, fields

LATENCY_SAMPLE = 50_000  # ack latencies kept for the percentiles


@dataclass
class Counts:
    """What the fleet did. ``acks`` counts every 9014 received; ``uploads_acked`` the
    uploads whose every packet was answered; ``values_acked`` the pollutant values in
    acknowledged measurement uploads (2011/2051/2061/2031)."""

    stations: int = 0
    connections: int = 0
    open_connections: int = 0
    connect_errors: int = 0
    records: int = 0
    frames_sent: int = 0
    acks: int = 0
    uploads_acked: int = 0
    values_acked: int = 0
    resent_acked: int = 0
    unacked_sent: int = 0
    retries: int = 0
    timeouts: int = 0
    dropped: int = 0
    backlog_max: int = 0
    heartbeats: int = 0
    time_requests: int = 0
    answers_9013: int = 0
    commands: int = 0
    rejected_in: int = 0
    duplicates_sent: int = 0
    bad_crc_sent: int = 0
    garbage_sent: int = 0
    errors: int = 0
    elapsed: float = 0.0
    _latencies: list[float] = field(default_factory=list, repr=False)
    _seen: int = field(default=0, repr=False)
    _rng: random.Random = field(default_factory=lambda: random.Random(0), repr=False)

    def latency(self, seconds: float) -> None:
        """Keep a uniform sample of 50,000 ack latencies (reservoir sampling)."""
        self._seen += 1
        if len(self._latencies) < LATENCY_SAMPLE:
            self._latencies.append(seconds)
        elif (k := self._rng.randrange(self._seen)) < LATENCY_SAMPLE:
            self._latencies[k] = seconds

    @classmethod
    def merge(cls, parts: Sequence[Counts]) -> Counts:
        """The counts of a fleet split over processes: sums, except the largest backlog
        and the longest elapsed time; ack latencies sampled from each part in proportion
        to the answers it saw, so that the percentiles stay those of the whole fleet."""
        total = cls()
        for f in fields(cls):
            if not f.name.startswith("_"):
                values = [getattr(p, f.name) for p in parts]
                largest = f.name in ("backlog_max", "elapsed")
                setattr(total, f.name, max(values, default=0) if largest else sum(values))
        total._seen = sum(p._seen for p in parts)
        if sum(len(p._latencies) for p in parts) <= LATENCY_SAMPLE:
            total._latencies = [x for p in parts for x in p._latencies]
            return total
        for p in parts:
            share = round(LATENCY_SAMPLE * p._seen / total._seen)
            total._latencies += total._rng.sample(p._latencies, min(share, len(p._latencies)))
        return total

    def summary(self) -> dict[str, object]:
        data = {k: v for k, v in asdict(self).items() if not k.startswith("_")}
        data["elapsed"] = round(self.elapsed, 3)
        if self.elapsed > 0:
            data["frames_per_s"] = round(self.frames_sent / self.elapsed, 1)
            data["acks_per_s"] = round(self.acks / self.elapsed, 1)
        latencies = sorted(self._latencies)
        if latencies:
            data["ack_p50_ms"] = round(latencies[len(latencies) // 2] * 1000, 2)
            data["ack_p99_ms"] = round(latencies[int((len(latencies) - 1) * 0.99)] * 1000, 2)
        return data
