"""A quarter of direct reporting end to end (issue 18's "Done when"; docs/quarterly.md).

Three enterprises with stored hourly data for 2026Q3: A (gas, Wuhan 4201) submits on
time; B (water, Huangshi 4202) corrects one month's COD with a reason and a voucher,
Huangshi's reviewer returns it, B corrects again and resubmits, the city forwards, the
province approves A and B; C (gas, Wuhan) never submits: it was reminded before the
deadline and is on the overdue list after. The approved lines equal the emissions
report's figures, except the corrected one; both versions of B verify; a bad form
stores nothing; nobody sees outside their jurisdiction.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from config.calendar import Calendars, load
from config.rules import RulesSettings, Webhook
from protocol import BEIJING
from reports import emissions
from reports.periods import parse
from rules.config import Ruleset
from rules.model import Reading, Record
from rules.quarterly_calendar import Quarter, deadline, reminder_at
from services import quarterly as flow
from services import quarterly_deadlines as due
from services.quarterly import Actor, QuarterlyError
from storage import console_store, enterprises, quarterly
from storage.db import Conn
from tests import databases
from tests.rules.support import gas_station, water_station
from tests.rules_db import fresh_database, register, store

pytestmark = [pytest.mark.db, pytest.mark.e2e]

Q = Quarter(2026, 3)
H = timedelta(hours=1)
EVERY = 3  # one hourly record in three: a quarter of figures without a slow fill
GAS = {"a21026": 20.0, "a21002": 30.0, "a34013": 4.0, "a00000": 100.0}
WATER = {"w01018": 30.0, "w21003": 2.0, "w00000": 10.0}
CALENDARS: Calendars = load()
RULESET = Ruleset()
PDF = b"%PDF-1.4\n% lab report\n%%EOF\n"


def _records() -> list[Record]:
    out = []
    hours = int((Q.end - Q.start) / H)
    for h in range(0, hours, EVERY):
        at = Q.start + h * H
        for mn, values in (("GA1", GAS), ("WB1", WATER), ("GC1", GAS)):
            readings = {code: Reading(avg=v, min=v, max=v, flag="N") for code, v in values.items()}
            out.append(Record(mn, "2061", at + H + timedelta(seconds=5), at, readings))
    return out


@pytest.fixture
def quarter_dsn(server_dsn: str) -> Iterator[str]:
    with fresh_database(server_dsn) as dsn:
        register(
            dsn,
            [
                gas_station("GA1", name="A stack", enterprise="Firm A", region_code="420102"),
                water_station("WB1", name="B outfall", enterprise="Firm B", region_code="420202"),
                gas_station("GC1", name="C stack", enterprise="Firm C", region_code="420103"),
            ],
            Q.start - timedelta(days=5),
        )
        assert set(store(dsn, _records())) == {"ok"}
        with psycopg.connect(dsn) as conn:  # A's scrubber sends its daily run time (2041)
            for day in range(3):
                at = Q.start + timedelta(days=day)
                conn.execute(
                    "INSERT INTO hj212.device_status (data_time, mn, cn, device, item, value,"
                    " text_value, frame_id, received_at) VALUES (%s, 'GA1', '2041', 'SB1', 'RT',"
                    " 20.5, '20.5', -1, %s)",
                    (at, at + timedelta(days=1)),
                )
        with psycopg.connect(dsn) as conn:
            for name, role, prefix, firm in (
                ("ent_a", "enterprise", "", "Firm A"),
                ("ent_b", "enterprise", "", "Firm B"),
                ("city_wh", "operator", "4201", ""),
                ("city_hs", "operator", "4202", ""),
                ("prov_hb", "operator", "42", ""),
            ):
                console_store.add_user(conn, name, "x", role, prefix, firm, by="test")
        yield dsn


def _actor(conn: Conn, name: str) -> Actor:
    user = console_store.user(conn, name)
    assert user is not None
    return flow.actor_of(conn, user.name, user.role, user.region_prefix)


def _at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 10, day, hour, tzinfo=BEIJING)


Cell = str | int | float | None  # a report table's cell


@dataclass(frozen=True)
class Played:
    """What the quarter left for the checks: the two submissions, the figures the
    emissions report computed, B's corrected line and its value, and C."""

    sub_a: int
    sub_b: int
    computed: dict[tuple[Cell, Cell, Cell], Cell]
    cod: tuple[str, str, str]
    fixed: float
    late_id: int


def _play(conn: Conn) -> Played:
    """The quarter of the issue's "Done when", step by step (each step's own checks
    inline): A on time; B corrects, is returned, resubmits late, is forwarded; the
    province approves both; C is reminded, then overdue. Every test that needs the
    quarter plays it on a database of its own."""
    a, b, c = (enterprises.by_name(conn, f"Firm {x}") for x in "ABC")
    assert a
    assert b
    assert c
    ent_a, ent_b = _actor(conn, "ent_a"), _actor(conn, "ent_b")
    city_wh, city_hs, prov = (_actor(conn, n) for n in ("city_wh", "city_hs", "prov_hb"))
    hook = [Webhook("http://127.0.0.1:9/hook", min_severity="info")]

    # reminders go out some working days before the enterprise deadline
    cal = CALENDARS.for_region("420103")
    remind_at = reminder_at(Q, "enterprise", cal, CALENDARS.remind_working_days)
    assert due.remind(conn, Q, remind_at - H, CALENDARS, hook) == []
    reminded = due.remind(conn, Q, remind_at, CALENDARS, hook)
    assert {r.key for r in reminded} == {f"quarterly-reminder:{Q.label}:{e.id}" for e in (a, b, c)}
    assert due.remind(conn, Q, remind_at + H, CALENDARS, hook) == []  # once each
    queued = conn.execute(
        "SELECT count(*) FROM hj212.notification n JOIN hj212.alarm a ON a.id = n.alarm_id"
        " WHERE a.kind = 'quarterly-reminder'"
    ).fetchone()
    assert queued == (3,)

    now = _at(5)
    sub_a = flow.prefill(conn, ent_a, a.id, Q, now=now, ruleset=RULESET)
    report = emissions.build(conn, parse(Q.label), now=now)
    computed = {(r[3], r[5], r[6]): r[9] for r in report.tables[0].rows if r[0] == "month"}
    drafted = {(x["mn"], x["month"], x["item"]): x["amount"] for x in sub_a.draft}
    assert drafted.pop(("GA1", "2026-07", "run-time:SB1")) == 61.5  # 3 days x 20.5 h
    assert drafted == {k: v for k, v in computed.items() if k[0] == "GA1"}
    v_a = flow.submit(conn, ent_a, sub_a.id, now, CALENDARS)
    assert v_a.version == 1
    assert not v_a.late

    # B corrects August's COD with a reason and its lab report
    sub_b = flow.prefill(conn, ent_b, b.id, Q, now=now, ruleset=RULESET)
    cod = ("WB1", "2026-08", "w01018")
    before = next(x for x in sub_b.draft if (x["mn"], x["month"], x["item"]) == cod)
    bad = [
        {"mn": "WB1", "month": "2026-08", "item": "w01018", "amount": 1.0, "reason": "r"},
        {"mn": "WB1", "month": "2026-09", "item": "w01018", "amount": 2.0},
    ]
    with pytest.raises(QuarterlyError, match="needs a reason") as refused:
        flow.correct(conn, ent_b, sub_b.id, bad, now, (("lab.pdf", "application/pdf", PDF),))
    assert refused.value.status == 422
    assert flow.visible(conn, ent_b, sub_b.id).draft == sub_b.draft  # nothing half
    assert conn.execute("SELECT count(*) FROM hj212.quarterly_attachment").fetchone() == (0,)

    fixed = before["amount"] * 0.9
    change = {**dict(zip(("mn", "month", "item"), cod, strict=True)), "amount": fixed,
              "reason": "flow meter over-read, lab report", "attachment": "upload:1"}  # fmt: skip
    done = flow.correct(
        conn, ent_b, sub_b.id, [change], now, (("lab.pdf", "application/pdf", PDF),)
    )
    line = next(x for x in done.draft if (x["mn"], x["month"], x["item"]) == cod)
    assert line["corrected"]
    assert line["attachment"] is not None
    v1 = flow.submit(conn, ent_b, sub_b.id, _at(6), CALENDARS)

    # jurisdiction: Wuhan does not see B, the province nothing before forwarding
    for who, ident in (
        (city_wh, sub_b.id),
        (city_hs, sub_a.id),
        (prov, sub_a.id),
        (ent_a, sub_b.id),
    ):
        with pytest.raises(QuarterlyError) as hidden:
            flow.visible(conn, who, ident)
        assert hidden.value.status == 404
    with pytest.raises(QuarterlyError) as early:
        flow.review(conn, prov, sub_b.id, "approved", "", _at(8))
    assert early.value.status == 404

    flow.review(conn, city_hs, sub_b.id, "returned", "say which meter and when", _at(9))
    refix = {**change, "amount": fixed * 1.01, "reason": "meter M2, 3-20 Aug, lab report",
             "attachment": line["attachment"]}  # fmt: skip
    flow.correct(conn, ent_b, sub_b.id, [refix], _at(9, 15))
    v2 = flow.submit(conn, ent_b, sub_b.id, _at(10), CALENDARS)
    assert (v1.version, v2.version) == (1, 2)
    assert v2.late
    flow.review(conn, city_hs, sub_b.id, "forwarded", "meter checked", _at(11))
    flow.review(conn, city_wh, sub_a.id, "forwarded", "", _at(11))
    for ident in (sub_a.id, sub_b.id):
        assert flow.review(conn, prov, ident, "approved", "", _at(14)).state == "approved"

    # C: overdue after its deadline, and only C
    late = due.overdue(conn, Q, "42", _at(14), CALENDARS)
    assert [(d.enterprise, d.late) for d in late] == [("Firm C", ("enterprise",))]
    assert _at(14) >= deadline(Q, "enterprise", cal)
    raised = due.remind(conn, Q, _at(14), CALENDARS, hook)
    assert [r.key for r in raised] == [f"quarterly-overdue:{Q.label}:enterprise:{c.id}"]

    return Played(sub_a.id, sub_b.id, computed, cod, fixed, c.id)


def test_a_quarter_of_two_cities_and_a_late_third(quarter_dsn: str) -> None:
    with psycopg.connect(quarter_dsn, autocommit=True) as conn:
        played = _play(conn)
        prov = _actor(conn, "prov_hb")
        sub_b, computed, cod, fixed = played.sub_b, played.computed, played.cod, played.fixed
        # the approved figures: the report's, except the corrected line
        approved = flow.version_lines(conn, prov, sub_b, 2)
        for line in approved:
            k = (line["mn"], line["month"], line["item"])
            expected = fixed * 1.01 if k == cod else computed[k]
            assert line["amount"] == pytest.approx(expected)
            assert line["computed"] == computed[k]
        assert flow.version_lines(conn, prov, sub_b, 1) != approved
        assert flow.verify(conn, prov, sub_b) == [(1, True), (2, True)]
        changes = flow.diff(conn, prov, sub_b, 1, 2)
        assert [(d["item"], d["field"], d["old"], d["new"]) for d in changes] == [
            ("w01018", "amount", fixed, fixed * 1.01)
        ]
        actions = conn.execute(
            "SELECT action, count(*) FROM hj212.audit_log WHERE action LIKE 'quarterly-%'"
            " GROUP BY 1 ORDER BY 1"
        ).fetchall()
        assert actions == [
            ("quarterly-correct", 2), ("quarterly-prefill", 2),
            ("quarterly-review", 5), ("quarterly-submit", 3),
        ]  # fmt: skip


def test_a_tampered_version_fails_verification(quarter_dsn: str) -> None:
    """The application may not change a version; a change made around that (the owner
    lifting the trigger) is caught by the hash, and the version refused on read."""
    with psycopg.connect(quarter_dsn, autocommit=True) as conn:
        ent_b = _actor(conn, "ent_b")
        b = enterprises.by_name(conn, "Firm B")
        assert b is not None
        at = datetime(2026, 4, 2, 9, tzinfo=BEIJING)  # a quarter of its own: 2026Q1
        ident = flow.prefill(conn, ent_b, b.id, Quarter(2026, 1), now=at, ruleset=RULESET).id
        flow.submit(conn, ent_b, ident, at, CALENDARS)
        assert '"amount":' in quarterly.versions(conn, ident)[0].canonical
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("UPDATE hj212.quarterly_version SET note = 'x'")
        assert all(ok for _, ok in flow.verify(conn, ent_b, ident))
    with psycopg.connect(databases.owner_of(quarter_dsn)) as owner:
        owner.execute("ALTER TABLE hj212.quarterly_version DISABLE TRIGGER USER")
        owner.execute(
            "UPDATE hj212.quarterly_version SET canonical = replace(canonical, '\"amount\":', '\"amount\":1')"
            " WHERE submission_id = %s AND version = 1",
            (ident,),
        )
        owner.execute("ALTER TABLE hj212.quarterly_version ENABLE TRIGGER USER")
    with psycopg.connect(quarter_dsn, autocommit=True) as conn:
        assert flow.verify(conn, ent_b, ident)[0] == (1, False)
        with pytest.raises(QuarterlyError, match="does not match its SHA-256"):
            flow.version_lines(conn, ent_b, ident, 1)


def test_renaming_an_enterprise_keeps_its_reports_whole(quarter_dsn: str) -> None:
    """After a rename the enterprise's stations, users and submissions stay its own, the
    report groups its outlets under one row with the current name, and an import that
    still uses the old name lands on the same enterprise (seed 004 四(二)2.5)."""
    with psycopg.connect(quarter_dsn, autocommit=True) as conn:
        played = _play(conn)
        a = enterprises.by_name(conn, "Firm A")
        assert a is not None
        with conn.transaction():
            enterprises.rename(conn, a.id, "Firm A Holdings", "test", "licence renewed", _at(20))
        register(quarter_dsn, [gas_station("GA2", name="A boiler", enterprise="Firm A",
                 region_code="420102")], Q.start - timedelta(days=5))  # fmt: skip
        hours = [Q.start + h * H for h in range(0, 48, 3)]
        readings = {code: Reading(avg=v, min=v, max=v, flag="N") for code, v in GAS.items()}
        assert set(
            store(quarter_dsn, [Record("GA2", "2061", at + H, at, readings) for at in hours])
        ) == {"ok"}
        assert [s[0] for s in enterprises.stations_of(conn, a.id)] == ["GA1", "GA2"]
        assert [n.name for n in enterprises.names(conn, a.id)] == ["Firm A", "Firm A Holdings"]
        assert enterprises.name_at(conn, a.id, _at(19)) == "Firm A"
        assert enterprises.name_at(conn, a.id, _at(21)) == "Firm A Holdings"
        user = console_store.user(conn, "ent_a")
        assert user is not None
        assert user.enterprise == "Firm A Holdings"
        assert flow.visible(conn, _actor(conn, "ent_a"), played.sub_a).enterprise_id == a.id
        report = emissions.build(conn, parse(Q.label), now=_at(21))
        rows = [r for r in report.tables[0].rows if r[0] == "enterprise"]
        names = {r[2] for r in rows}
        assert "Firm A" not in names
        assert "Firm A Holdings" in names
        so2 = [r for r in rows if r[2] == "Firm A Holdings" and r[6] == "a21026"]
        assert len(so2) == 1
        stations_so2 = {
            str(r[3]): float(r[9] or 0)
            for r in report.tables[0].rows
            if r[0] == "station" and r[6] == "a21026"
        }
        assert stations_so2["GA2"] > 0  # the outlet imported under the old name counts
        assert so2[0][9] == pytest.approx(stations_so2["GA1"] + stations_so2["GA2"], abs=0.01)
        with pytest.raises(enterprises.EnterpriseError, match="is \\(or was\\)"):
            enterprises.add(conn, "Firm A", None, None, "test", _at(22))


def _cli(dsn: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HJ212_DSN": dsn, "USER": "cli-test"}
    return subprocess.run(
        [sys.executable, "-m", "cli", *args], capture_output=True, text=True, check=False, env=env
    )


def test_the_commands(quarter_dsn: str, tmp_path: Path) -> None:
    """`hj212 enterprises` refuses a wrong credit code saying why and stores nothing;
    `hj212 quarterly` verifies, compares and exports what the workflow stored."""
    wrong = _cli(quarter_dsn, "enterprises", "add", "Firm D", "--credit-code", "91350100M000100Y44")
    assert wrong.returncode == 1
    assert "GB 32100-2015 gives '3'" in wrong.stderr
    assert "Firm D" not in _cli(quarter_dsn, "enterprises", "list").stdout
    made = _cli(quarter_dsn, "enterprises", "add", "Firm D", "--credit-code", "91350100m000100y43",
                "--region", "420300")  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["credit_code"] == "91350100M000100Y43"
    renamed = _cli(
        quarter_dsn, "enterprises", "rename", "Firm D", "Firm D Group", "--reason", "merger"
    )
    assert renamed.returncode == 0, renamed.stderr
    shown = json.loads(_cli(quarter_dsn, "enterprises", "show", "Firm D").stdout)
    assert shown["name"] == "Firm D Group"  # found by its old name
    assert [n["name"] for n in shown["names"]] == ["Firm D", "Firm D Group"]
    with psycopg.connect(quarter_dsn, autocommit=True) as conn:
        ident = _play(conn).sub_b
    verified = _cli(quarter_dsn, "quarterly", "verify", str(ident), "--by", "prov_hb")
    assert verified.returncode == 0, verified.stderr
    assert [json.loads(x)["ok"] for x in verified.stdout.splitlines()] == [True, True]
    hidden = _cli(quarter_dsn, "quarterly", "show", str(ident), "--by", "city_wh")
    assert hidden.returncode == 1
    assert f"no submission {ident}" in hidden.stderr
    changed = _cli(quarter_dsn, "quarterly", "diff", str(ident), "1", "2", "--by", "city_hs")
    assert [json.loads(x)["item"] for x in changed.stdout.splitlines()] == ["w01018"]
    for fmt in ("csv", "xlsx", "pdf"):
        out = tmp_path / f"b.{fmt}"
        done = _cli(quarter_dsn, "quarterly", "export", str(ident), "--format", fmt, "-o", str(out),
                    "--by", "ent_b")  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert out.stat().st_size > 0
    text = (tmp_path / "b.csv").read_text("utf-8-sig")
    assert text.count("\nB outfall,WB1,2026-0") == 3  # one row per month of the outlet
    assert "meter M2, 3-20 Aug, lab report" in text
    assert (tmp_path / "b.pdf").read_bytes().startswith(b"%PDF")
    late = _cli(
        quarter_dsn, "quarterly", "overdue", "--quarter", "2026Q3", "--at", "2026-10-14T10:00"
    )
    assert [json.loads(x)["enterprise"] for x in late.stdout.splitlines()] == ["Firm C"]
    again = _cli(quarter_dsn, "quarterly", "remind", "--quarter", "2026Q3")
    assert again.returncode == 0, again.stderr
    assert again.stdout == ""  # C's overdue alarm was raised already: never twice


def test_a_province_return_goes_back_through_the_enterprise_and_the_city(quarter_dsn: str) -> None:
    """2026Q2 of Firm A: forwarded, returned by the province, corrected, submitted again:
    the city has it first, then the province approves version 2."""
    q2 = Quarter(2026, 2)
    with psycopg.connect(quarter_dsn, autocommit=True) as conn:
        a = enterprises.by_name(conn, "Firm A")
        assert a is not None
        ent_a, city, prov = (_actor(conn, n) for n in ("ent_a", "city_wh", "prov_hb"))
        at = datetime(2026, 7, 2, 9, tzinfo=BEIJING)
        sub = flow.prefill(conn, ent_a, a.id, q2, now=at, ruleset=RULESET)
        flow.submit(conn, ent_a, sub.id, at, CALENDARS)
        flow.review(conn, city, sub.id, "forwarded", "", at + H)
        back = flow.review(conn, prov, sub.id, "returned", "July data missing: explain", at + 2 * H)
        assert back.state == "province-returned"
        line = sub.draft[0]
        change = {"mn": line["mn"], "month": line["month"], "item": line["item"],
                  "amount": 5.0, "reason": "estimated from fuel use"}  # fmt: skip
        flow.correct(conn, ent_a, sub.id, [change], at + 3 * H)
        flow.submit(conn, ent_a, sub.id, at + 4 * H, CALENDARS)
        with pytest.raises(QuarterlyError) as hidden:  # with the city again, not yet forwarded
            flow.visible(conn, prov, sub.id)
        assert hidden.value.status == 404
        flow.review(conn, city, sub.id, "forwarded", "explanation attached", at + 5 * H)
        done = flow.review(conn, prov, sub.id, "approved", "", at + 6 * H)
        assert (done.state, done.version) == ("approved", 2)
        assert [r.outcome for r in quarterly.reviews(conn, sub.id)] == [
            "forwarded", "returned", "forwarded", "approved"
        ]  # fmt: skip


def test_the_reminder_a_holiday_brings_into_the_quarter_is_sent(quarter_dsn: str) -> None:
    """2026Q3's enterprise deadline moves past National Day, so its reminder falls on a
    September day, inside the quarter: `remind_now` (what `hj212 quarterly remind`
    runs) looks at the clock's own quarter too, not only the one before it; and these
    reminders stay out of `rules replay`'s comparison (they are not the engine's)."""
    from services.rules_replay import replay

    cal = CALENDARS.for_region("420103")
    at = reminder_at(Q, "enterprise", cal, CALENDARS.remind_working_days) + H
    assert at < Q.end  # the point: a reminder before the quarter is over
    with psycopg.connect(quarter_dsn, autocommit=True) as conn:
        raised = due.remind_now(conn, at, CALENDARS)
        ids = [e.id for e in (enterprises.by_name(conn, f"Firm {x}") for x in "ABC") if e]
        reminders = {a.key for a in raised if a.kind == "quarterly-reminder"}
        assert reminders == {f"quarterly-reminder:{Q.label}:{i}" for i in ids}
        # the outlets were monitored from 26 June: 2026Q2 was theirs too, and is overdue
        late = {a.key for a in raised if a.kind == "quarterly-overdue"}
        assert late == {f"quarterly-overdue:2026Q2:enterprise:{i}" for i in ids}
        assert due.remind_now(conn, at + H, CALENDARS) == []  # once
        # no rules ran here: the only alarms stored are these, and replay compares none
        window = replay(conn, at - 24 * H, at + 2 * H, RulesSettings())
        assert (window.stored, window.missing) == (0, [])


def test_an_outlet_registered_after_the_quarter_owes_nothing_for_it(quarter_dsn: str) -> None:
    """Firm E's stack is monitored from the day after the quarter ended: E is not on the
    quarter's lists (no reminder, not overdue), and is on the next quarter's."""
    register(quarter_dsn, [gas_station("GE1", name="E stack", enterprise="Firm E",
             region_code="420103")], Q.end + timedelta(days=1))  # fmt: skip
    with psycopg.connect(quarter_dsn, autocommit=True) as conn:
        late = due.overdue(conn, Q, "42", _at(20), CALENDARS)
        assert {d.enterprise for d in late} == {"Firm A", "Firm B", "Firm C"}
        following = due.status(conn, Quarter(2026, 4), "42", _at(20), CALENDARS)
        assert "Firm E" in {d.enterprise for d in following}
