"""What the gateway remembers about hostile sources: failed passwords and garbage.

Both are counted in a sliding window per key (an IP address, an MN), so that a source
cannot spread its attempts over many connections: a data logger's password is guessed
at most ``auth_failures_per_mn`` times per ``auth_window`` whatever the number of
connections or addresses, and one address gets ``auth_failures_per_ip`` tries at all
MNs. Garbage (bytes that are no frame, frames that fail their CRC or syntax) is counted
the same way per address: past ``max_garbage_per_ip`` in ``auth_window`` it is no
longer archived, only counted, and the connection sending it is closed.

Time is the caller's monotonic ``now`` (seconds).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass
class Window:
    """Amounts per key over the last ``seconds``; keys without recent amounts vanish."""

    seconds: float
    _events: dict[str, deque[tuple[float, int]]] = field(default_factory=dict)
    _totals: dict[str, int] = field(default_factory=dict)

    def add(self, key: str, now: float, amount: int = 1) -> int:
        """Count ``amount`` for ``key``; the key's total in the window afterwards."""
        events = self._events.setdefault(key, deque())
        events.append((now, amount))
        self._totals[key] = self._totals.get(key, 0) + amount
        return self.total(key, now)

    def total(self, key: str, now: float) -> int:
        events = self._events.get(key)
        if events is None:
            return 0
        horizon = now - self.seconds
        while events and events[0][0] <= horizon:
            self._totals[key] -= events.popleft()[1]
        if not events:
            del self._events[key], self._totals[key]
            return 0
        return self._totals[key]

    def prune(self, now: float) -> None:
        """Forget keys whose amounts all left the window (called now and then)."""
        for key in list(self._events):
            self.total(key, now)

    def __len__(self) -> int:
        return len(self._events)


@dataclass
class Guard:
    failures_per_mn: int
    failures_per_ip: int
    garbage_per_ip: int
    window: float
    failures_by_mn: Window = field(init=False)
    failures_by_ip: Window = field(init=False)
    garbage_by_ip: Window = field(init=False)

    def __post_init__(self) -> None:
        self.failures_by_mn = Window(self.window)
        self.failures_by_ip = Window(self.window)
        self.garbage_by_ip = Window(self.window)

    def throttled(self, ip: str, mn: str | None, now: float) -> str | None:
        """Why a password from ``ip`` for ``mn`` is not even checked now, if it is not."""
        if mn is not None and self.failures_by_mn.total(mn, now) >= self.failures_per_mn:
            return f"{self.failures_per_mn} wrong passwords for this MN within {self.window:g} s"
        if self.failures_by_ip.total(ip, now) >= self.failures_per_ip:
            return f"{self.failures_per_ip} wrong passwords from this address"
        return None

    def failed(self, ip: str, mn: str | None, now: float) -> None:
        self.failures_by_ip.add(ip, now)
        if mn is not None:
            self.failures_by_mn.add(mn, now)

    def garbage(self, ip: str, size: int, now: float) -> bool:
        """Count ``size`` bytes of garbage from ``ip``; False once it is over its budget
        (then the bytes are not archived)."""
        before = self.garbage_by_ip.total(ip, now)
        if before >= self.garbage_per_ip:
            return False
        self.garbage_by_ip.add(ip, now, size)
        return True

    def prune(self, now: float) -> None:
        for window in (self.failures_by_mn, self.failures_by_ip, self.garbage_by_ip):
            window.prune(now)
