"""The simulator's Python work per real-time frame, without sockets or an event loop.

What every 2011 upload of a load run computes, for the fleet's model mix (stations
round-robin: outfall, CEMS, flow meter), each step timed separately; best of
``--repeats``:

* ``levels``: the station model (every factor at the instant);
* ``realtime_text``: the model plus the CP items rendered as text;
* ``due_and_frame``: the logger's schedule (``due``), the QN, the whole frame and CRC;
* ``recognise_9014``: the platform's answer read back (``client._plain_9014``).

    .venv/bin/python -m benchmarks.frame_work [--stations 300] [--steps 40] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime

from benchmarks.simulator import answer_9014
from protocol.codes import Cn
from simulators import records
from simulators.client import _plain_9014
from simulators.fleet import build_stations
from simulators.logger import DataLogger
from simulators.models import levels
from simulators.scenario import Scenario

START = int(datetime(2026, 3, 2, tzinfo=UTC).timestamp())
REALTIME = frozenset({Cn.REALTIME})


def best(fn: Callable[[], int], repeats: int) -> float:
    """Fastest µs per item over ``repeats`` runs of ``fn`` (which returns its items)."""
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        items = fn()
        times.append((time.perf_counter() - began) / items)
    return round(min(times) * 1e6, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stations", type=int, default=300)
    parser.add_argument("--steps", type=int, default=40, help="30-s instants per station")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    stations = build_stations(Scenario(), args.stations, 212, "5131")
    instants = [START + 30 * k for k in range(args.steps)]

    def model() -> int:
        for t in instants:
            for station in stations:
                levels(station, t)
        return len(instants) * len(stations)

    def text() -> int:
        for t in instants:
            for station in stations:
                records.realtime_text(station, t)
        return len(instants) * len(stations)

    def due_and_frame() -> int:
        loggers = [DataLogger(s, start=START, rtd_interval=30, uploads=REALTIME) for s in stations]
        n = 0
        for t in instants:
            for logger in loggers:
                for record in logger.due(t):
                    logger.frames(record, t)
                    n += 1
        return n

    sample = DataLogger(stations[0], start=START, rtd_interval=30, uploads=REALTIME)
    answer = answer_9014(sample.frames(sample.due(START)[0], START)[0])
    assert answer is not None

    def recognise() -> int:
        for _ in range(20_000):
            _plain_9014(answer)
        return 20_000

    report = {
        "levels_us": best(model, args.repeats),
        "realtime_text_us": best(text, args.repeats),
        "due_and_frame_us": best(due_and_frame, args.repeats),
        "recognise_9014_us": best(recognise, args.repeats),
        "loadavg_1min": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
