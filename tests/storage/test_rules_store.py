"""The rules engine on a real database: live steps with restarts, replay == live,
cases kept across a restart, alarm lifecycle and dedupe, webhook delivery."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import psycopg
import pytest

from config.rules import RulesSettings, Webhook, load_settings, settings_from
from protocol import BEIJING
from rules.lifecycle import LifecycleError
from rules.model import Alarm, Record
from services.notify import deliver_due
from services.rules_replay import replay
from services.rules_runner import RulesRunner
from storage import alarms as alarm_store
from storage.rules_store import load_cursor
from tests.rules.support import H, gas_station, hourly, record, varied, water_station
from tests.rules_db import register, rules_dsn, store

__all__ = ["rules_dsn"]  # the fixture, imported for this module
pytestmark = [pytest.mark.db]

T0 = datetime(2026, 10, 30, 0, 0, tzinfo=BEIJING)


def _history() -> list[Record]:
    """Three days over a month end, two stations: an outage, an exceedance, faults."""
    gas = gas_station("RG1")
    records = []
    for h in range(3 * 24):
        if not 20 <= h < 30:
            over = {"a21026": 70.0} if h in (40, 41) else {}
            records += hourly(gas, [h], start=T0, **over)
        values = dict(
            varied(
                {"w01018": 30.0, "w21003": 2.0, "w21011": 0.3, "w21001": 10.0, "w00000": 10.0}, h
            )
        )
        if 50 <= h < 53:
            values["w21003"] = 2.0  # constant for hours: nothing yet (4 needed)
        flag = "D" if 60 <= h < 63 else "N"
        records.append(record("RW1", T0 + h * H, {**values, "w01018": (values["w01018"], flag)}))
    return records


def _conn(dsn: str) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(dsn, autocommit=True)


def test_live_steps_with_restarts_match_a_replay(rules_dsn: str) -> None:
    register(rules_dsn, [gas_station("RG1"), water_station("RW1")], T0 - timedelta(days=1))
    assert set(store(rules_dsn, _history())) == {"ok"}
    with _conn(rules_dsn) as conn:
        runner = RulesRunner(conn)
        runner.start(T0)
        # live: steps of uneven length, the runner restarted (state from the database)
        for hours in (5, 13, 1, 22, 7, 30):
            until = runner.cursor.watermark + timedelta(hours=hours)  # type: ignore[union-attr]
            runner.step(until)
            runner = RulesRunner(conn)
            runner.start(T0 + timedelta(days=30))  # ignored: the cursor says where it is
        end = runner.cursor.watermark  # type: ignore[union-attr]
        assert end == T0 + timedelta(hours=78)
        kinds = {r[0] for r in conn.execute("SELECT kind FROM hj212.alarm").fetchall()}
        assert {"outage", "exceedance", "facility", "manual-sampling-due"} <= kinds
        snapshots = conn.execute("SELECT DISTINCT at FROM hj212.rules_snapshot ORDER BY 1")
        assert [r[0] for r in snapshots] == [T0 + timedelta(days=d) for d in range(4)]
        # replay from the start, and from the middle of a day (a snapshot before it)
        for start in (T0, T0 + timedelta(hours=37, minutes=30)):
            result = replay(conn, start, end + timedelta(days=5))
            assert result.end == end  # never beyond where the live engine is
            assert result.stored > 5
            assert result.matches, (result.missing, result.extra)
        assert replay(conn, T0 + timedelta(hours=37, minutes=30), end).snapshot == T0 + timedelta(
            days=1
        )


def test_replay_notices_alarms_the_live_run_did_not_raise(rules_dsn: str) -> None:
    register(rules_dsn, [gas_station("RG1")], T0 - timedelta(days=1))
    store(rules_dsn, hourly(gas_station("RG1"), range(30), start=T0, a21026=70.0))
    with _conn(rules_dsn) as conn:
        runner = RulesRunner(conn)
        runner.start(T0)
        runner.step(T0 + timedelta(hours=30))
        conn.execute("DELETE FROM hj212.notification")
        conn.execute("UPDATE hj212.alarm SET key = key || ':tampered' WHERE kind = 'exceedance'")
        result = replay(conn, T0, T0 + timedelta(hours=30))
        assert not result.matches
        assert [k[3] for k in result.extra if k[0] == "alarm"] == ["exceedance"]


def test_a_restart_loses_no_open_case_or_running_deadline(rules_dsn: str) -> None:
    station = gas_station("RG2")
    register(rules_dsn, [station], T0 - timedelta(days=1))
    store(rules_dsn, hourly(station, range(10), start=T0))  # then silence from 11:00:05
    with _conn(rules_dsn) as conn:
        runner = RulesRunner(conn)
        runner.start(T0)
        runner.step(T0 + timedelta(hours=15))  # outage opened 3 h after 10:00:05
        cases = conn.execute("SELECT key, state, report_due, restore_due FROM hj212.case")
        ((key, state, report_due, restore_due),) = cases.fetchall()
        assert state == "open"
        assert restore_due == T0 + timedelta(hours=25, seconds=5)  # 12 h, past midnight
        assert report_due == T0 + timedelta(hours=37, seconds=5)
        del runner  # "crash": a new process starts from the database
        again = RulesRunner(conn)
        again.start(T0 + timedelta(days=9))
        assert again.engine is not None
        assert key in again.engine.states["RG2"].cases
        again.step(T0 + timedelta(hours=40))
        store(rules_dsn, hourly(station, range(40, 44), start=T0))
        again.step(T0 + timedelta(hours=45))
        timeline = conn.execute(
            "SELECT e.kind, e.at, e.alarm_id IS NOT NULL FROM hj212.case_event e"
            " JOIN hj212.case c ON c.id = e.case_id WHERE c.key = %s ORDER BY e.at, e.kind",
            (key,),
        ).fetchall()
        kinds = [k for k, _, _ in timeline]
        assert kinds == [
            "opened",
            "manual-sampling-1",
            "restore-reminder-2h",
            "manual-sampling-missed-2",  # none entered: escalated
            "restore-overdue",
            "manual-sampling-missed-3",
            "report-reminder-2h",
            "manual-sampling-missed-4",
            "report-overdue",
            "closed",
        ]
        assert all(linked for kind, _, linked in timeline if kind != "closed")
        state, closed_at = conn.execute(
            "SELECT state, closed_at FROM hj212.case WHERE key = %s", (key,)
        ).fetchone()  # type: ignore[misc]
        assert state == "closed"
        assert closed_at == T0 + timedelta(hours=41, seconds=5)


def _alarm(key: str = "RG3:test:1", severity: str = "critical") -> Alarm:
    return Alarm(key, "RG3", "exceedance", severity, T0, "a21026", T0, 40.0, 35.0, {"x": 1})


def test_alarm_lifecycle_each_step_with_who_when_and_a_note(rules_dsn: str) -> None:
    with _conn(rules_dsn) as conn:
        with conn.transaction():
            first = alarm_store.write_outputs(conn, [_alarm(), _alarm()])
        with conn.transaction():
            again = alarm_store.write_outputs(conn, [_alarm()])
        assert (first.alarms, again.alarms) == (1, 0)  # one condition, one alarm
        (alarm,) = alarm_store.list_alarms(conn, state="open")
        acked = alarm_store.act(conn, alarm.id, "ack", "operator.li", "looking at the CEMS")
        assert acked.state == "acknowledged"
        with pytest.raises(LifecycleError):
            alarm_store.act(conn, alarm.id, "ack", "operator.li")
        alarm_store.act(conn, alarm.id, "resolve", "operator.li", "probe cleaned")
        closed = alarm_store.act(conn, alarm.id, "close", "supervisor.wang", "filed")
        assert closed.state == "closed"
        steps = alarm_store.history(conn, alarm.id)
        assert [(s.action, s.actor, s.note) for s in steps] == [
            ("acknowledged", "operator.li", "looking at the CEMS"),
            ("resolved", "operator.li", "probe cleaned"),
            ("closed", "supervisor.wang", "filed"),
        ]
        assert all(s.at is not None for s in steps)
        audited = conn.execute(
            "SELECT action, actor FROM hj212.audit_log WHERE object = %s ORDER BY seq",
            (f"alarm:{alarm.id}",),
        ).fetchall()
        assert audited == [
            ("acknowledged", "operator.li"),
            ("resolved", "operator.li"),
            ("closed", "supervisor.wang"),
        ]
        with pytest.raises(LookupError):
            alarm_store.act(conn, 999_999, "ack", "x")


class _Hook(BaseHTTPRequestHandler):
    failures: ClassVar[int] = 2
    bodies: ClassVar[list[bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).bodies.append(body)
        status = 500 if len(type(self).bodies) <= type(self).failures else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def hook_server() -> Iterator[tuple[str, type[_Hook]]]:
    handler = type("Hook", (_Hook,), {"bodies": [], "failures": 2})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/alarms?token=t", handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_webhook_delivery_retries_until_the_server_accepts(
    rules_dsn: str, hook_server: tuple[str, type[_Hook]]
) -> None:
    url, handler = hook_server
    hooks = [Webhook(url, "warning"), Webhook(url + "&only=info", "critical", kinds=("outage",))]
    station = gas_station("RG3")
    with _conn(rules_dsn) as conn:
        with conn.transaction():
            written = alarm_store.write_outputs(
                conn, [_alarm(), _alarm("RG3:low", "info")], {"RG3": station}, hooks
            )
        assert written.notifications == 1  # the info alarm and the kind filter send nothing
        now = datetime.now(UTC)  # notifications are due from when they were queued
        first = deliver_due(conn, now, base_backoff=10.0)
        assert (first.delivered, first.retrying) == (0, 1)
        assert deliver_due(conn, now + timedelta(seconds=5), base_backoff=10.0).retrying == 0
        second = deliver_due(conn, now + timedelta(seconds=10), base_backoff=10.0)
        assert second.retrying == 1  # next attempt after 2 x 10 s
        third = deliver_due(conn, now + timedelta(seconds=30), base_backoff=10.0)
        assert third.delivered == 1
        state, attempts, error = conn.execute(
            "SELECT state, attempts, last_error FROM hj212.notification"
        ).fetchone()  # type: ignore[misc]
        assert (state, attempts, error) == ("delivered", 3, None)
    assert len(handler.bodies) == 3
    assert len(set(handler.bodies)) == 1  # the same body every time
    body = json.loads(handler.bodies[0])
    assert body["key"] == "RG3:test:1"
    assert body["kind"] == "exceedance"
    assert body["station"]["region_code"] == "420100"


def test_webhook_gives_up_after_max_attempts(rules_dsn: str) -> None:
    with _conn(rules_dsn) as conn:
        hooks = [Webhook("http://127.0.0.1:9/unreachable")]  # discard port: refused
        with conn.transaction():
            alarm_store.write_outputs(conn, [_alarm()], {}, hooks)
        now = datetime.now(UTC)
        result = deliver_due(conn, now, max_attempts=3, base_backoff=0.0, timeout=2.0)
        assert (result.delivered, result.failed) == (0, 1)
        state, attempts, error = conn.execute(
            "SELECT state, attempts, last_error FROM hj212.notification"
        ).fetchone()  # type: ignore[misc]
        assert (state, attempts) == ("failed", 3)
        assert "Connection" in str(error)


def test_live_steps_queue_webhooks_for_new_alarms_only(rules_dsn: str) -> None:
    register(rules_dsn, [gas_station("RG4")], T0 - timedelta(days=1))
    store(rules_dsn, hourly(gas_station("RG4"), range(6), start=T0, a21026=70.0))
    settings = replace(RulesSettings(), webhooks=(Webhook("http://127.0.0.1:9/x", "critical"),))
    with _conn(rules_dsn) as conn:
        runner = RulesRunner(conn, settings)
        runner.start(T0)
        runner.step(T0 + timedelta(hours=8))
        kinds = conn.execute(
            "SELECT a.kind FROM hj212.notification n JOIN hj212.alarm a ON a.id = n.alarm_id"
        ).fetchall()
        assert sorted(str(k) for (k,) in kinds) == ["exceedance"]
        assert load_cursor(conn) is not None


def test_settings_file(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "rules.toml"
    path.write_text(
        "interval_s = 2\n[rules]\netr_threshold = 0.9\netr_strict = false\n"
        "[rules.region.42]\nrestore_due_gas_h = 8\netr_strict = true\n"
        '[[webhook]]\nurl = "http://127.0.0.1:8080/a"\nmin_severity = "critical"\n'
    )
    settings = load_settings(path, env={})
    assert settings.interval_s == 2
    assert settings.ruleset.base.etr_threshold == 0.9
    assert settings.ruleset.base.etr_strict is False
    assert settings.ruleset.for_region("420100").etr_strict is True
    assert settings.ruleset.for_region("420100").restore_due_gas_h == 8
    assert settings.ruleset.for_region("500100").restore_due_gas_h == 12
    assert settings.webhooks[0].min_severity == "critical"
    from rules.config import RulesConfigError

    for bad in (
        {"nope": 1},
        {"rules": {"etr_threshold": "x"}},
        {"rules": {"etr_threshold": True}},
        {"rules": {"etr_strict": 1}},
        {"webhook": [{"url": "ftp://x"}]},
    ):
        with pytest.raises(RulesConfigError):
            settings_from(bad)


def test_the_example_rules_file_loads_and_states_the_defaults() -> None:
    from pathlib import Path

    from rules.config import RulesConfig

    example = load_settings(Path(__file__).parents[2] / "config" / "rules.example.toml", env={})
    assert example.ruleset.base == RulesConfig()
    defaults = RulesSettings()
    for name in ("interval_s", "settle_s", "backfill_days", "late_window_h", "snapshot_days"):
        assert getattr(example, name) == getattr(defaults, name)
