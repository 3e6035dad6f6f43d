"""Command results that take effect (issue 19, docs/forwarding.md §1), end to end: a
simulated data logger, the real gateway and database, and ``hj212 command send``.

After a confirmed 1072 the logger sends with its new password from the next frame on
(HJ 212-2017 C.9), and the gateway must accept it at once, not lock it out; after a
confirmed 1062 the registry's RtdInterval is the new one, and so is the outage
threshold the rules engine derives from it.
"""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from functools import partial
from pathlib import Path

import anyio
import psycopg
import pytest

from config.settings import GatewaySettings
from gateway.app import Gateway
from rules.config import RulesConfig
from rules.outage import threshold
from rules.times import US
from simulators.fleet import build_stations, run_fleet
from simulators.scenario import Scenario
from storage import rules_inputs
from tests.gateway.support import register, rows

pytestmark = [pytest.mark.db, pytest.mark.e2e, pytest.mark.anyio]


def _scenario() -> tuple[Scenario, str]:
    prefix = uuid.uuid4().hex[:8].upper()
    scenario = Scenario(stations=1, seed=7, mn_prefix=prefix, models=("water",))
    (station,) = build_stations(scenario, 1, 7, prefix)
    return scenario, station.mn


async def _send(dsn: str, mn: str, cn: str, param: str) -> dict[str, object]:
    """``hj212 command send ... --wait`` as an operator runs it."""
    argv = ["command", "send", "--mn", mn, "--cn", cn, "--param", param, "--wait"]
    result = await anyio.run_process(
        [sys.executable, "-m", "cli", *argv, "--timeout", "30", "--dsn", dsn], check=False
    )
    assert result.returncode == 0, result.stderr.decode()
    state: dict[str, object] = json.loads(result.stdout)
    return state


@pytest.fixture
async def station(dsn: str, tmp_path: Path) -> AsyncIterator[tuple[str, Gateway]]:
    """One registered logger sending real-time data every 0.2 s to a running gateway."""
    scenario, mn = _scenario()
    register(dsn, mn)
    settings = GatewaySettings(
        host="127.0.0.1", port=0, metrics_port=0, spool_dir=tmp_path / "spool"
    )
    gateway = Gateway(settings, dsn)
    async with anyio.create_task_group() as tg:
        port = await tg.start(gateway.run)
        fleet = partial(run_fleet, 1, "127.0.0.1", port, 120, interval=0.2, scenario=scenario)
        tg.start_soon(fleet)
        await _frames_after(dsn, mn, None, 2)
        yield mn, gateway
        tg.cancel_scope.cancel()


async def _frames_after(dsn: str, mn: str, since: object, count: int) -> None:
    """Until ``count`` data frames of ``mn`` received after ``since`` are stored ok."""
    sql = (
        "SELECT count(*) FROM hj212.frame WHERE mn = %s AND cn = '2011' AND status = 'ok'"
        " AND (%s::timestamptz IS NULL OR received_at > %s)"
    )
    with anyio.fail_after(30):
        while rows(dsn, sql, mn, since, since)[0][0] < count:  # noqa: ASYNC110 - polls the database
            await anyio.sleep(0.1)


async def test_after_a_1072_the_logger_keeps_sending_and_is_accepted(
    station: tuple[str, Gateway], dsn: str
) -> None:
    mn, gateway = station
    state = await _send(dsn, mn, "1072", "NewPW=ab12cd")
    assert (state["state"], state["exe_rtn"]) == ("done", "1"), state
    ((finished,),) = rows(dsn, "SELECT finished_at FROM hj212.command WHERE id = %s", state["id"])
    await _frames_after(dsn, mn, finished, 5)  # sent with the new PW, stored and answered
    assert gateway.sessions[mn].transport is not None  # the same station, still connected
    refused = rows(dsn, "SELECT count(*) FROM hj212.frame WHERE mn = %s AND status <> 'ok'", mn)
    assert refused == [(0,)]
    assert rows(dsn, "SELECT password, pending_password FROM hj212.station WHERE mn = %s", mn) == [
        ("ab12cd", None)
    ]
    audit = rows(
        dsn,
        "SELECT detail FROM hj212.audit_log WHERE action = 'command-effect' AND object = %s",
        f"command:{state['id']}",
    )
    assert [(d["cn"], d["changed"]) for (d,) in audit] == [("1072", ["password"])]
    assert not gateway.registry.held  # the database has it: nothing held in memory


async def test_after_a_1062_the_outage_threshold_follows_the_new_interval(
    station: tuple[str, Gateway], dsn: str
) -> None:
    mn, _ = station
    cfg = RulesConfig()
    with psycopg.connect(dsn) as conn:
        before = {s.mn: s for s in rules_inputs.stations(conn)}[mn]
    now = 10**15
    assert threshold({"2011": now}, before, now, cfg) == round(cfg.silence_min_s * US)
    state = await _send(dsn, mn, "1062", "RtdInterval=900")
    assert (state["state"], state["exe_rtn"]) == ("done", "1"), state
    with psycopg.connect(dsn) as conn:
        after = {s.mn: s for s in rules_inputs.stations(conn)}[mn]
    assert after.rt_interval_s == 900
    # 3 x 900 s: the real-time data now come every 15 min, silence means 45 min
    assert threshold({"2011": now}, after, now, cfg) == 3 * 900 * US
    assert timedelta(microseconds=threshold({"2011": now}, after, now, cfg)) == timedelta(
        minutes=45
    )
