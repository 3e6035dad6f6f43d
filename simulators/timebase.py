"""One simulated clock for a whole accelerated run.

A scenario at ``speed`` 720 packs a simulated day into two real minutes. When the
simulators, the gateway (receive times) and the rules engine (its ``now``) all read the
same :class:`SimulatedClock`, the platform sees exactly what it would see in real time:
a station silent for a simulated hour is silent for an hour, a day is judged at its
end. The clock is real monotonic time, shifted and scaled: simulated time ``start`` at
the monotonic instant ``origin`` (what ``asyncio``'s and uvloop's ``loop.time()``
count in), ``speed`` simulated seconds per real second.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class SimulatedClock:
    start: datetime  # aware
    speed: float = 1.0
    origin: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise ValueError("a simulated clock starts at an aware datetime")
        if self.speed <= 0:
            raise ValueError("speed must be positive")

    def __call__(self) -> datetime:
        """The simulated time now."""
        return self.at(time.monotonic())

    def at(self, monotonic: float) -> datetime:
        return self.start + timedelta(seconds=(monotonic - self.origin) * self.speed)

    def real_seconds(self, simulated: timedelta) -> float:
        """Real seconds that ``simulated`` takes."""
        return simulated.total_seconds() / self.speed
