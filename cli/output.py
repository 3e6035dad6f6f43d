"""How the commands print: one time convention for people and one for machines.

A person reads Beijing time, labelled (:func:`rules.times.shown`, ``TIME_LABEL``); JSON
lines carry ISO 8601 with the +08:00 offset (:func:`rules.times.machine`).
"""

from __future__ import annotations

from datetime import datetime

from rules.times import machine


def json_default(value: object) -> str:
    """``json.dumps`` default: a time as ISO 8601 Beijing time, anything else as text."""
    return machine(value) if isinstance(value, datetime) else str(value)
