"""``verify-chain`` on a live system: 200 simulated stations write through the real
gateway while the archive is verified 20 times over.

Each chain is read with its head in one snapshot (storage/chain.py), so a chain whose
frames commit between the two reads is not reported as "frames removed from the end";
the run must find exactly the one frame a superuser altered behind the triggers, every
time, and nothing else.
"""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

import anyio
import psycopg
import pytest

from config.settings import GatewaySettings
from gateway.app import Gateway
from simulators.fleet import run_fleet
from storage.chain import Report, verify
from tests.databases import owner_of
from tests.gateway.support import rows
from tests.rules_db import rules_dsn

__all__ = ["rules_dsn"]
pytestmark = [pytest.mark.db, pytest.mark.anyio]
ROOT = Path(__file__).resolve().parents[2]
STATIONS = 200
RUNS = 20


def _verify_all(dsn: str) -> Report:
    with psycopg.connect(dsn) as conn:
        return verify(conn)


async def _frames_from_every_station(dsn: str, at_least: int) -> None:
    sql = "SELECT count(DISTINCT mn), count(*) FROM hj212.frame"
    with anyio.fail_after(120):
        while True:
            ((stations, frames),) = await anyio.to_thread.run_sync(partial(rows, dsn, sql))
            if stations >= STATIONS and frames >= at_least:
                return
            await anyio.sleep(0.2)  # polls the database: there is no event to wait on


def _alter_one_frame(dsn: str) -> tuple[str, int]:
    """A frame in the middle of one chain, changed the way only a superuser can."""
    ((mn, frame_id),) = rows(
        dsn,
        "SELECT mn, id FROM hj212.frame WHERE mn = (SELECT min(mn) FROM hj212.frame)"
        " ORDER BY id OFFSET 2 LIMIT 1",
    )
    with psycopg.connect(owner_of(dsn)) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute(
            "UPDATE hj212.frame SET raw = overlay(raw placing '\\x58'::bytea from 5 for 1)"
            " WHERE id = %s",
            (frame_id,),
        )
    return str(mn), int(frame_id)


async def test_verify_chain_reports_no_false_break_while_200_stations_write(
    rules_dsn: str, tmp_path: Path
) -> None:
    gateway = Gateway(
        GatewaySettings(host="127.0.0.1", port=0, metrics_port=0, spool_dir=tmp_path / "spool"),
        rules_dsn,
    )
    async with anyio.create_task_group() as tg:
        port = await tg.start(gateway.run)
        tg.start_soon(partial(run_fleet, STATIONS, "127.0.0.1", port, 600.0, interval=0.5))
        await _frames_from_every_station(rules_dsn, 4 * STATIONS)
        altered = _alter_one_frame(rules_dsn)
        checked: list[int] = []
        for _ in range(RUNS):
            report = await anyio.to_thread.run_sync(_verify_all, rules_dsn)
            assert [(b.chain, b.frame_id) for b in report.breaks] == [altered], report.breaks
            assert report.chains >= STATIONS
            checked.append(report.frames)
        # the archive grew while it was verified: the runs really raced the writer
        assert checked[-1] > checked[0]
        cli = await anyio.run_process(
            [sys.executable, "-m", "cli", "db", "verify-chain", "--dsn", rules_dsn],
            cwd=ROOT,
            check=False,
        )
        tg.cancel_scope.cancel()
    out = cli.stdout.decode()
    assert cli.returncode == 1, out + cli.stderr.decode()
    assert out.count("BROKEN") == 1
    assert f"chain '{altered[0]}' at frame {altered[1]}" in out
