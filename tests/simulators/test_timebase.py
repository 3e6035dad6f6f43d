from datetime import UTC, datetime, timedelta

import pytest

from simulators.timebase import SimulatedClock


def test_the_clock_is_monotonic_time_shifted_and_scaled() -> None:
    clock = SimulatedClock(datetime(2026, 3, 9, 14, tzinfo=UTC), 1800.0, 100.0)
    assert clock.at(100.0) == datetime(2026, 3, 9, 14, tzinfo=UTC)
    assert clock.at(102.0) == datetime(2026, 3, 9, 15, tzinfo=UTC)
    assert clock.real_seconds(timedelta(hours=27, minutes=10)) == pytest.approx(54.333, abs=1e-3)
    before = clock()
    assert clock() >= before


def test_the_clock_refuses_naive_starts_and_stopped_time() -> None:
    with pytest.raises(ValueError, match="aware"):
        SimulatedClock(datetime(2026, 3, 9, 14), 60.0)
    with pytest.raises(ValueError, match="positive"):
        SimulatedClock(datetime(2026, 3, 9, 14, tzinfo=UTC), 0.0)
