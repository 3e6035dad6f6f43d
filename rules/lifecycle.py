"""The human side of an alarm: open -> acknowledged -> resolved -> closed.

An operator acknowledges an alarm (seen, someone is on it), resolves it (the cause is
dealt with) and closes it (filed). Acknowledging may be skipped, and an alarm may be
closed from any state but closed (a false alarm, say). Every step records who, when and
a note (``hj212.alarm_action``). This is separate from the condition clearing by itself
(``cleared_at``), which the engine decides.
"""

from __future__ import annotations

STATES = ("open", "acknowledged", "resolved", "closed")
ACTIONS = {"ack": "acknowledged", "acknowledge": "acknowledged", "resolve": "resolved"}
ACTIONS["close"] = "closed"
TRANSITIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"acknowledged", "resolved", "closed"}),
    "acknowledged": frozenset({"resolved", "closed"}),
    "resolved": frozenset({"closed"}),
    "closed": frozenset(),
}


class LifecycleError(ValueError):
    """A step the alarm's current state does not allow."""


def next_state(current: str, action: str) -> str:
    """The state after ``action`` (ack, resolve, close) from ``current``."""
    target = ACTIONS.get(action, action)
    if target not in TRANSITIONS.get(current, frozenset()):
        raise LifecycleError(f"an alarm that is {current} cannot be {target}")
    return target
