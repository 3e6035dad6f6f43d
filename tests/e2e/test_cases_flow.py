"""The case workflow end to end (issue 17's "Done when"; docs/regulations.md §6.5).

``tests/data/scenarios/cases.toml``: three CEMS whose SO2 analyser flags D for 31
simulated hours. The simulators, the gateway, the rules loop and the console all read
one simulated clock (1,800x, as in ``test_scenario_day.py``, with the same receive-time
settings), so each facility case opens once the D run reaches 60 min and its facility
is back about 30 h later. Through the real console (HTTP, signed in as the enterprise
and as the regulator) the test files, at the case's own elapsed times:

* station 0: a manual sample every 5 h, the written report at 20 h, acknowledged at
  21 h: the case closes with the 12-h restoration overdue on record and no report or
  manual-sampling alarm;
* station 1: the same samples, no report: the 24-h report overdue is raised;
* station 2: the samples, the report at 20 h returned at 21 h and never corrected: the
  report shows as returned (``case-report-returned`` stands after the case closed).

The evidence bundle of station 0's case holds the report, the samples and their
attachments and verifies; one altered attachment byte fails it. The replay behind
``hj212 rules replay`` recomputes every alarm raised live.
"""

from __future__ import annotations

import base64
import contextlib
import zipfile
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import httpx
import psycopg
import pytest

from config.rules import RulesSettings
from config.settings import GatewaySettings
from console.auth import hash_password
from evidence import bundle
from evidence.export import export_bundle
from evidence.verify import verify_bundle
from gateway.app import Gateway
from rules.config import RulesConfig, Ruleset
from services.rules_runner import run_rules
from simulators.fleet import run_fleet
from simulators.timebase import SimulatedClock
from storage import console_store
from tests.e2e.scenario_support import cems, check_replay, console, timed_scenario
from tests.gateway.support import rows
from tests.rules_db import register, rules_dsn

__all__ = ["rules_dsn"]
pytestmark = [pytest.mark.db, pytest.mark.e2e, pytest.mark.anyio]

SCENARIO = Path(__file__).resolve().parents[1] / "data" / "scenarios" / "cases.toml"
SIMULATED = timedelta(hours=34)
H = timedelta(hours=1)
ENTERPRISE, PASSWORD = "e2e-firm", "e2e enterprise password"
SETTINGS = RulesSettings(
    ruleset=Ruleset(
        base=RulesConfig(
            silence_min_s=3600.0,
            hour_grace_min=30.0,
            realtime_grace_min=30.0,
            drift_behind_s=3600.0,
        )
    ),
    interval_s=0.05,
    settle_s=1800.0,
)
LAB = b"%PDF-1.4\n% SO2 manual sample, HJ 57-2017\n%%EOF\n"


def _attachment(name: str) -> dict[str, str]:
    content = base64.b64encode(LAB).decode()
    return {"name": name, "content_type": "application/pdf", "content_base64": content}


async def _at(clock: SimulatedClock, moment: datetime) -> None:
    """Wait until the simulated clock reaches ``moment``."""
    await anyio.sleep(max(0.0, (moment - clock()).total_seconds() / clock.speed))


async def _case(dsn: str, mn: str, within: float) -> tuple[int, datetime]:
    sql = "SELECT id, opened_at FROM hj212.case WHERE mn = %s AND kind = 'facility'"
    with anyio.fail_after(within):
        while not (found := await anyio.to_thread.run_sync(partial(rows, dsn, sql, mn))):  # noqa: ASYNC110 - polls the database, no event to wait on
            await anyio.sleep(0.1)
    return found[0][0], found[0][1]


def _post(client: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = client.post(path, json=body)
    assert answer.status_code == 200, (path, answer.text)
    result: dict[str, Any] = answer.json()
    return result


async def _file(
    enterprise: httpx.Client,
    regulator: httpx.Client,
    clock: SimulatedClock,
    cases: list[tuple[int, datetime]],
) -> None:
    """Everything filed on the three cases, in the order of their elapsed times."""
    plan: list[tuple[datetime, Callable[[], object]]] = []
    for index, (case_id, opened) in enumerate(cases):
        # a sample every 5 h until the facility is back (about 30 h)
        plan += [
            (opened + k * 5 * H, partial(_sample, enterprise, clock, case_id, k))
            for k in range(1, 6)
        ]
        if index in (0, 2):
            plan.append((opened + 20 * H, partial(_report, enterprise, clock, case_id, opened)))
            decision = "acknowledge" if index == 0 else "return"
            plan.append((opened + 21 * H, partial(_review, regulator, case_id, decision)))
    for moment, step in sorted(plan, key=lambda p: p[0]):
        await _at(clock, moment)
        await anyio.to_thread.run_sync(step)


def _sample(client: httpx.Client, clock: SimulatedClock, case_id: int, k: int) -> None:
    body = {
        "pollutant": "a21026",
        "sampled_at": (clock() - timedelta(minutes=10)).isoformat(),
        "value": 21.0 + k,
        "unit": "mg/m3",
        "method": "HJ 57-2017 定电位电解法",
        "laboratory": "武汉市环境监测中心站",
        "attachments": [_attachment(f"lab-{case_id}-{k}.pdf")],
    }
    _post(client, f"/api/cases/{case_id}/samples", body)


def _report(client: httpx.Client, clock: SimulatedClock, case_id: int, opened: datetime) -> None:
    body = {
        "cause": "SO2 分析仪采样泵故障",
        "started_at": (opened - H).isoformat(),
        "expected_restore": (opened + 30 * H).isoformat(),
        "measures": "更换采样泵；每 5 小时人工采样",
        "attachments": [_attachment(f"report-{case_id}.pdf")],
    }
    _post(client, f"/api/cases/{case_id}/reports", body)


def _review(client: httpx.Client, case_id: int, decision: str) -> None:
    (report,) = client.get(f"/api/cases/{case_id}/filings").json()["reports"]
    note = "" if decision == "acknowledge" else "请补充故障原因与维修记录"
    _post(client, f"/api/reports/{report['id']}/review", {"decision": decision, "note": note})


@contextlib.contextmanager
def _enterprise(client: httpx.Client, dsn: str) -> Iterator[httpx.Client]:
    """A client of the same console signed in as the stations' enterprise."""
    with psycopg.connect(dsn) as conn:
        console_store.add_user(
            conn, ENTERPRISE, hash_password(PASSWORD), "enterprise", "", "E2E 电厂"
        )
    with httpx.Client(base_url=client.base_url, timeout=30) as firm:
        signed = firm.post("/api/login", json={"name": ENTERPRISE, "password": PASSWORD})
        assert signed.status_code == 200, signed.text
        yield firm


async def test_reports_samples_and_reviews_decide_the_case_steps(
    rules_dsn: str, tmp_path: Path
) -> None:
    scenario, mn, clock = timed_scenario(SCENARIO, lead=0.5)
    assert scenario.start is not None
    stations = [
        cems(m, f"cases {i}", ranges=(100.0, 100.0, 20.0), rt_interval_s=300, enterprise="E2E 电厂")
        for i, m in enumerate(mn)
    ]
    register(rules_dsn, stations, scenario.start - timedelta(days=1))
    gateway = Gateway(
        GatewaySettings(host="127.0.0.1", port=0, metrics_port=0, spool_dir=tmp_path / "spool"),
        rules_dsn,
        now=clock,
    )
    real = clock.real_seconds(SIMULATED)
    with console(rules_dsn, clock) as regulator, _enterprise(regulator, rules_dsn) as firm:
        async with anyio.create_task_group() as tg:
            port = await tg.start(gateway.run)
            tg.start_soon(
                partial(run_fleet, len(mn), "127.0.0.1", port, real, scenario=scenario, clock=clock)
            )
            begin = scenario.start + timedelta(seconds=SETTINGS.settle_s)
            await _at(clock, begin)
            tg.start_soon(partial(run_rules, rules_dsn, SETTINGS, clock=clock))
            cases = [await _case(rules_dsn, m, 30) for m in mn]
            await _file(firm, regulator, clock, cases)
            # the facility is back at 32 h; the loop judges up to its clock less 30 min
            await _at(clock, scenario.start + 33 * H + 45 * timedelta(minutes=1))
            tg.cancel_scope.cancel()
    steps = {m: _steps(rules_dsn, m) for m in mn}
    for m, (case_id, _) in zip(mn, cases, strict=True):
        (state,) = rows(rules_dsn, "SELECT state FROM hj212.case WHERE id = %s", case_id)[0]
        assert state == "closed", m
        assert {"restore-overdue", "restore-reminder-2h"} <= steps[m], m
        assert not {s for s in steps[m] if s.startswith("manual-sampling")}, (m, steps[m])
    assert not {"report-overdue", "report-reminder-2h"} & steps[mn[0]]
    assert {"report-overdue", "report-reminder-2h"} <= steps[mn[1]]
    assert not {"report-overdue", "report-reminder-2h"} & steps[mn[2]]
    returned = rows(
        rules_dsn,
        "SELECT mn, cleared_at FROM hj212.alarm WHERE kind = 'case-report-returned'",
    )
    assert returned == [(mn[2], None)]
    _check_bundle(rules_dsn, mn[0], cases[0], clock(), tmp_path)
    raised: dict[tuple[str, str], set[str | None]] = {}
    for m, kind, pollutant in rows(rules_dsn, "SELECT mn, kind, pollutant FROM hj212.alarm"):
        raised.setdefault((m, kind), set()).add(pollutant)
    check_replay(rules_dsn, raised, SETTINGS)


def _steps(dsn: str, mn: str) -> set[str]:
    """The case steps raised as alarms for ``mn``'s case (reminders, overdue, sampling)."""
    found = rows(
        dsn,
        "SELECT detail->>'step' FROM hj212.alarm WHERE mn = %s AND detail ? 'step'",
        mn,
    )
    return {r[0] for r in found}


def _check_bundle(
    dsn: str, mn: str, case: tuple[int, datetime], now: datetime, tmp_path: Path
) -> None:
    """The case's window as evidence: its report, samples and attachments; it verifies,
    and one altered attachment byte does not."""
    case_id, opened = case
    out = export_bundle(
        dsn, mn, opened - 2 * H, opened + 31 * H, tmp_path / "case.zip", who="e2e",
        key_dir=tmp_path / "keys", now=now, ruleset=SETTINGS.ruleset,
    )  # fmt: skip
    assert verify_bundle(out) == []
    with zipfile.ZipFile(out) as z:
        reports = bundle.read_jsonl(z.read(bundle.CASE_REPORTS))
        samples = bundle.read_jsonl(z.read(bundle.CASE_SAMPLES))
        files = bundle.read_jsonl(z.read(bundle.CASE_ATTACHMENTS))
        names = z.namelist()
        first = bundle.case_attachment_name(files[0]["id"], files[0]["name"])
        content = z.read(first)
    assert [(r["case_id"], r["state"]) for r in reports] == [(case_id, "acknowledged")]
    assert len(samples) == 5
    assert len(files) == 6  # the report's and the five lab reports
    assert all(bundle.case_attachment_name(f["id"], f["name"]) in names for f in files)
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(out) as zin, zipfile.ZipFile(tampered, "w") as zout:
        for name in zin.namelist():
            data = zin.read(name)
            if name == first:
                data = content[:10] + bytes([content[10] ^ 0x20]) + content[11:]
            zout.writestr(name, data)
    problems = verify_bundle(tampered)
    assert problems
    assert problems[0].startswith(first)
