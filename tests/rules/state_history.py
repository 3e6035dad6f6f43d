"""A day and a half of two stations' inputs, with faults, that fill every part of the
engine's per-station state: open hours being accumulated (hourly and minute records),
the hourly series, runs of values and of flags, marks, open cases, refused frames,
duplicates, out-of-order data, clock drift, rate tallies, missing hours and a daily
record waiting for its day.

``tests/data/rules_state_v1.json`` holds the states the engine of main at 26e0ee5 (the
positional-list state of ``rules/state.py`` before issue 16) dumped for these inputs at
the moments of :data:`MOMENTS`; ``tests/rules/test_state.py`` checks that they still
load, and that today's engine makes exactly the same states from the same inputs.

Regenerate (only on purpose, with the reason in the commit)::

    .venv/bin/python -m tests.rules.state_history > tests/data/rules_state_v1.json
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta

from rules.engine import Engine
from rules.model import Mark, Reading, Record
from tests.rules.support import (
    GOOD_GAS,
    GOOD_WATER,
    START,
    engine,
    gas_station,
    mark,
    record,
    varied,
    water_station,
)

MINUTE = timedelta(minutes=1)
H = timedelta(hours=1)
GAS, WATER, REFUSED = "STATEGAS0001", "STATEWAT0001", "STATEGAS0002"
# dump points: a duplicate waiting for its hour's judgement, a flag run and an hour
# record held (xx:05), mid-hour (accumulators full), a daily record waiting for its
# day, after a midnight, at the end
MOMENTS = (
    START + 4 * H + 5 * MINUTE,
    START + 6 * H + 5 * MINUTE,
    START + 13 * H + 25 * MINUTE,
    START + 24 * H + 5 * MINUTE,
    START + 24 * H + 40 * MINUTE,
    START + 36 * H,
)


def _gas(t: datetime, h: int) -> dict[str, float | tuple[float, str]]:
    values: dict[str, float | tuple[float, str]] = dict(varied(GOOD_GAS, h))
    if 5 <= h < 8:  # a fault of the SO2 analyser for three hours: a facility case
        values["a21026"] = (values["a21026"], "D")  # type: ignore[assignment]
    if 20 <= h < 23:  # SO2 stuck at one value
        values["a21026"] = 17.5
    if h == 30:  # over the limit
        values["a21026"] = 80.0
    return values


def _inputs() -> Iterator[Record | Mark]:
    items: list[Record | Mark] = []
    for step in range(36 * 6):  # every 10 minutes
        t = START + step * 10 * MINUTE
        h = step // 6
        items.append(record(GAS, t, _gas(t, h), cn="2051"))
        if step % 2 == 0:
            rt = {c: Reading(rtd=v, flag="N") for c, v in varied(GOOD_GAS, step).items()}
            drift = timedelta(seconds=90) if 15 <= h < 17 else timedelta()
            items.append(Record(GAS, "2011", t + timedelta(seconds=2), t + drift, rt))
        if step % 6 == 0:
            hour = t
            items.append(record(GAS, hour, _gas(hour, h)))
            if not 10 <= h < 12:  # the water station silent for two hours: an outage
                water = dict(varied(GOOD_WATER, h))
                items.append(record(WATER, hour, water))
                if h % 7 == 3:  # sent twice
                    items.append(record(WATER, hour, water, duplicate=True))
            if h == 14:  # an hour sent out of order, long after
                items.append(
                    record(WATER, START + 2 * H, dict(GOOD_WATER), received=t + 5 * MINUTE)
                )
            items.append(
                Record(REFUSED, "2011", t + timedelta(seconds=7), None, {}, refused="legacy-crc")
            )
    day = START
    daily = {c: Reading(avg=v, flag="N") for c, v in GOOD_GAS.items()}
    items.append(Record(GAS, "2031", day + timedelta(days=1, minutes=2), day, daily))
    items.append(
        mark(GAS, START + 25 * H, START + 27 * H, "maintenance", ident=1, marked_at=START + 24 * H)
    )
    items.append(
        mark(WATER, START + 28 * H, START + 40 * H, "shutdown", ident=2, marked_at=START + 26 * H)
    )
    yield from sorted(
        items,
        key=lambda i: (i.marked_at, 0) if isinstance(i, Mark) else (i.received_at, 1),
    )


def new_engine() -> Engine:
    return engine(
        gas_station(GAS, minute_interval_min=10, rt_interval_s=1200),
        water_station(WATER),
        gas_station(REFUSED),
        start=START - 2 * H,
    )


def states() -> dict[str, dict[str, str]]:
    """Every station's state JSON at each of :data:`MOMENTS` (ISO time -> MN -> JSON)."""
    eng = new_engine()
    pending = list(_inputs())
    out: dict[str, dict[str, str]] = {}
    for moment in MOMENTS:
        while pending and _at(pending[0]) <= moment:
            item = pending.pop(0)
            if isinstance(item, Mark):
                eng.on_mark(item)
            else:
                eng.on_record(item)
        eng.tick(moment)
        out[moment.isoformat()] = dict(eng.dump())
    return out


def _at(item: Record | Mark) -> datetime:
    return item.marked_at if isinstance(item, Mark) else item.received_at


if __name__ == "__main__":
    sys.stdout.write(json.dumps(states(), indent=1, sort_keys=True, ensure_ascii=False) + "\n")
