"""What the scenario tests share: stations as the registry knows them, plain queries,
the replay check behind ``hj212 rules replay``, and a real console on the same clock."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import httpx
import psycopg
import uvicorn

from config.rules import RulesSettings
from console.app import create_app
from console.auth import hash_password
from rules.model import PollutantConfig, StationInfo
from services.rules_replay import replay
from simulators.fleet import build_stations
from simulators.scenario import Scenario, load
from simulators.timebase import SimulatedClock
from storage import console_store
from storage.rules_store import load_cursor


def cems(
    mn: str,
    name: str,
    *,
    ranges: tuple[float, float, float],
    rt_interval_s: int,
    enterprise: str = "",
) -> StationInfo:
    """A simulated boiler's CEMS: the ultra-low limits it meets with margin (SO2 35,
    NOx 50, dust 10 mg/m3 at 6 % O2) and its SO2, NOx and dust analysers' ranges."""
    so2, nox, dust = ranges
    return StationInfo(
        mn,
        medium="gas",
        region_code="420100",
        enterprise=enterprise,
        name=name,
        o2_ref=6.0,
        rt_interval_s=rt_interval_s,
        minute_interval_min=10,
        pollutants={
            "a21026": PollutantConfig("a21026", True, 35.0, "hour", 0.0, so2),
            "a21002": PollutantConfig("a21002", True, 50.0, "hour", 0.0, nox),
            "a34013": PollutantConfig("a34013", True, 10.0, "hour", 0.0, dust),
            "a19001": PollutantConfig("a19001", False, None, None, 0.0, 25.0),
            "a00000": PollutantConfig("a00000", False, None, None, 0.0, 300.0),
        },
    )


def water(mn: str, name: str, *, rt_interval_s: int, enterprise: str = "") -> StationInfo:
    """A simulated waste-water outfall: COD, NH3-N, TP and TN assessed against the
    simulator's discharge limits (50, 5, 0.5, 15 mg/L) and its analysers' ranges."""
    assessed = {"w01018": (50.0, 500.0), "w21003": (5.0, 50.0), "w21011": (0.5, 10.0)}
    assessed["w21001"] = (15.0, 100.0)
    pollutants = {
        code: PollutantConfig(code, True, limit, "day", 0.0, high)
        for code, (limit, high) in assessed.items()
    }
    pollutants["w01001"] = PollutantConfig("w01001", False, None, None, 0.0, 14.0)
    pollutants["w00000"] = PollutantConfig("w00000", False, None, None, 0.0, 200.0)
    return StationInfo(
        mn,
        medium="water",
        region_code="420100",
        enterprise=enterprise,
        name=name,
        rt_interval_s=rt_interval_s,
        minute_interval_min=10,
        pollutants=pollutants,
    )


def check_replay(
    dsn: str, raised: dict[tuple[str, str], set[str | None]], settings: RulesSettings
) -> None:
    """The replay from the runner's first snapshot to its watermark (what ``hj212 rules
    replay --from ORIGIN --to WATERMARK`` computes and compares) matches and raises
    exactly ``raised``: (MN, kind) -> the pollutants named."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        cursor = load_cursor(conn)
        assert cursor is not None
        result = replay(conn, cursor.origin, cursor.watermark, settings)
    assert result.missing == []
    assert result.extra == []
    assert result.matches
    recomputed: dict[tuple[str, str], set[str | None]] = {}
    for alarm in result.alarms:
        recomputed.setdefault((alarm.mn, alarm.kind), set()).add(alarm.pollutant)
    assert recomputed == raised


def timed_scenario(path: Path, lead: float) -> tuple[Scenario, list[str], SimulatedClock]:
    """A scenario with its own start and speed, its stations' MNs, and the simulated
    clock the fleet, the gateway and the rules share, starting ``lead`` real seconds
    from now."""
    scenario = load(path)
    assert scenario.stations is not None
    assert scenario.seed is not None
    assert scenario.start is not None
    assert scenario.speed is not None
    stations = build_stations(scenario, scenario.stations, scenario.seed, scenario.mn_prefix or "")
    clock = SimulatedClock(scenario.start, scenario.speed, time.monotonic() + lead)
    return scenario, [s.mn for s in stations], clock


class _Quiet(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # pragma: no cover - not in main thread
        pass


@contextlib.contextmanager
def console(dsn: str, clock: Callable[[], datetime] | None = None) -> Iterator[httpx.Client]:
    """A real console (uvicorn on a loopback port, in a thread) on ``dsn`` and ``clock``,
    and an HTTP client signed in as an administrator."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    name, password = "e2e-admin", "e2e console password"
    with psycopg.connect(dsn) as conn:
        console_store.add_user(conn, name, hash_password(password), "administrator", "", "")
    server = _Quiet(
        uvicorn.Config(
            create_app(dsn, clock=clock), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            deadline = time.monotonic() + 30
            while not server.started and time.monotonic() < deadline:
                time.sleep(0.05)
            signed_in = client.post("/api/login", json={"name": name, "password": password})
            assert signed_in.status_code == 200, signed_in.text
            yield client
    finally:
        server.should_exit = True
        thread.join(30)
