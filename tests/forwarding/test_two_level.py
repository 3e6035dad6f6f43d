"""Two levels under faults (issue 19, "Done when"; docs/forwarding.md §5).

A city instance (``hj212 serve`` in a process of its own, its own database) takes 20
simulated stations and forwards to a provincial instance (the same gateway, in this
process, its own database). The province is stopped for 30 s, and while it is away the
city gateway is killed with SIGKILL and started again. At the end every frame stored
at the city is stored exactly once at the province (counted per station), and the
city's queue is empty. About 60 s; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import anyio
import pytest

from gateway.app import Gateway
from simulators.fleet import build_stations, run_fleet
from simulators.scenario import Scenario
from tests.faults.support import FAULT_COUNTS
from tests.forwarding.support import free_port, province_database, settings
from tests.gateway.support import eventually, register, rows

pytestmark = [pytest.mark.db, pytest.mark.e2e, pytest.mark.anyio]
ROOT = Path(__file__).resolve().parents[2]
STATIONS = 20
FLEET_SECONDS = 150.0  # at most: the stations stop once the city has stored 2,000 frames
FRAMES = 2000
PROVINCE_DOWN = 30.0


def _city(dsn: str, port: int, province: int, tmp: Path) -> subprocess.Popen[bytes]:
    config = tmp / "city.toml"
    config.write_text(
        f'[gateway]\nspool_dir = "{tmp / "city-spool"}"\nrun_rules = false\n'
        "anchor_interval = 0\nmetrics_port = 0\n[console]\nenabled = false\n"
        f'[[upstream]]\nname = "province"\nhost = "127.0.0.1"\nport = {province}\n'
        "overtime = 2.0\nrecount = 1\nlease = 10.0\n",
        "utf-8",
    )
    env = {**os.environ, "HJ212_DSN": dsn, "HJ212_GATEWAY_PORT": str(port)}
    with (tmp / "city.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "cli", "--config", str(config), "serve"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )


def _per_station(dsn: str) -> Counter[str]:
    """Real-time frames stored as data (not duplicates), per station."""
    found = rows(
        dsn,
        "SELECT mn, count(*) FROM hj212.frame WHERE cn = '2011' AND status = 'ok' GROUP BY mn",
    )
    return Counter({mn: int(n) for mn, n in found})


def _queued(dsn: str) -> int:
    return int(rows(dsn, "SELECT count(*) FROM hj212.upstream_queue")[0][0])


async def _province(dsn: str, gw: object, stop: anyio.Event) -> None:
    gateway = Gateway(gw, dsn)  # type: ignore[arg-type]
    async with anyio.create_task_group() as tg:
        await tg.start(gateway.run)
        await stop.wait()
        tg.cancel_scope.cancel()


# Sometimes a socket with a local address and no peer is collected unclosed in this
# process while the city is down; thought to be a refused connect of a simulated
# station (simulators/client.py under uvloop), not yet pinned down (issue 19 report).
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
async def test_a_city_forwards_everything_once_through_an_outage_and_a_sigkill(
    server_dsn: str, tmp_path: Path
) -> None:
    prefix = uuid.uuid4().hex[:8].upper()
    scenario = Scenario(stations=STATIONS, seed=19, mn_prefix=prefix, models=("water", "cems"))
    mns = [s.mn for s in build_stations(scenario, STATIONS, 19, prefix)]
    city_port, province_port = free_port(), free_port()
    province_gw = settings(tmp_path, "province", province_port)
    enough = asyncio.Event()  # the stations stop: the city has FRAMES frames
    fleet = partial(
        run_fleet,
        STATIONS,
        "127.0.0.1",
        city_port,
        FLEET_SECONDS,
        interval=0.2,
        speed=30.0,
        start=datetime.now(UTC) - timedelta(hours=3),  # DataTime stays in the past
        scenario=scenario,
        uploads=frozenset({"2011"}),
        stop=enough,
    )
    with province_database(server_dsn) as city, province_database(server_dsn) as province:
        for mn in mns:
            register(city, mn)
            register(province, mn)
        city_gw = _city(city, city_port, province_port, tmp_path)
        try:
            async with anyio.create_task_group() as tg:
                first = anyio.Event()
                tg.start_soon(_province, province, province_gw, first)
                await eventually(lambda: city_gw.poll() is None and _listening(city_port), 90)
                tg.start_soon(fleet)
                await anyio.sleep(5)
                first.set()  # the province stops ...
                await anyio.sleep(5)
                city_gw.send_signal(signal.SIGKILL)  # ... and the city dies meanwhile
                city_gw.wait()
                await anyio.sleep(1)
                city_gw = _city(city, city_port, province_port, tmp_path)
                await anyio.sleep(PROVINCE_DOWN - 6)
                assert _queued(city) > 0  # the backlog waits for the province
                second = anyio.Event()
                tg.start_soon(_province, province, province_gw, second)  # ... and returns
                await eventually(lambda: sum(_per_station(city).values()) >= FRAMES, 120)
                enough.set()
                await anyio.sleep(3)  # the last answers in flight
                await eventually(lambda: _queued(city) == 0, 90)
                second.set()
        finally:
            city_gw.send_signal(signal.SIGTERM)
            city_gw.wait(30)
        at_city, at_province = _per_station(city), _per_station(province)
        resent = rows(province, "SELECT count(*) FROM hj212.frame WHERE status = 'duplicate'")
        FAULT_COUNTS.append(
            f"two levels: {sum(at_city.values())} frames stored at the city from"
            f" {len(at_city)} stations, {sum(at_province.values())} at the province"
            f" (+{resent[0][0]} resent copies archived as duplicates)"
        )
        assert set(at_city) == set(mns)
        assert sum(at_city.values()) >= FRAMES
        assert at_province == at_city  # every one, once, per station
        twice = rows(
            province,
            "SELECT mn, data_time FROM hj212.measurement WHERE cn = '2011'"
            " GROUP BY mn, data_time, pollutant HAVING count(*) > 1",
        )
        assert twice == []
        assert _queued(city) == 0


def _listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0
