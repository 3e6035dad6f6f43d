"""The audit log's hash chain: every writer is linked, a tampered entry is named."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from cli.main import main
from storage import audit
from tests.databases import owner_of
from tests.rules_db import fresh_database

pytestmark = pytest.mark.db


@pytest.fixture
def own_dsn(server_dsn: str) -> Iterator[str]:
    """A database of its own: these tests break its chain on purpose."""
    with fresh_database(server_dsn) as dsn:
        yield dsn


def _tamper(dsn: str, sql: str, *params: object) -> None:
    """What a superuser could do: bypass the append-only triggers."""
    with psycopg.connect(owner_of(dsn), autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute(sql.encode(), params)


def test_appends_from_every_writer_chain_and_verify(
    own_dsn: str, capsys: pytest.CaptureFixture[str]
) -> None:
    first = audit.append(own_dsn, "alice", "login", "console", {"ip": "10.0.0.1"})
    with psycopg.connect(own_dsn) as conn:
        audit.append(conn, "alice", "read", "station:S1", {"view": "series"}, mn="S1")
        conn.execute(  # a trigger-written entry (the registry) joins the same chain
            "INSERT INTO hj212.station (mn, name, medium, region_code)"
            " VALUES ('S1', 'outlet', 'gas', '420100')"
        )
        conn.commit()
        report = audit.verify(conn)
        rows = conn.execute("SELECT seq, action FROM hj212.audit_log ORDER BY seq").fetchall()
    assert report.ok, report.first_bad
    assert [a for _, a in rows] == ["login", "read", "insert"]
    assert [s for s, _ in rows] == [1, 2, 3]
    assert report.entries == 3
    assert report.anchored_at_genesis
    assert main(["audit", "verify", "--dsn", own_dsn]) == 0
    assert "OK: 3 entries" in capsys.readouterr().out
    assert first > 0


def test_a_rolled_back_action_leaves_no_entry_and_no_gap(own_dsn: str) -> None:
    with psycopg.connect(own_dsn) as conn:
        audit.append(conn, "bob", "config", "station:S2", {})
        conn.rollback()
        audit.append(conn, "bob", "config", "station:S3", {})
        conn.commit()
        assert audit.verify(conn).ok


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ('UPDATE hj212.audit_log SET detail = \'{"ip": "10.9.9.9"}\' WHERE id = {id}', "altered"),
        ("UPDATE hj212.audit_log SET actor = 'mallory' WHERE id = {id}", "altered"),
        ("DELETE FROM hj212.audit_log WHERE id = {id}", "removed"),
    ],
)
def test_a_tampered_entry_is_named(
    own_dsn: str, sql: str, reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = [audit.append(own_dsn, "alice", "read", f"station:S{i}", {"i": i}) for i in range(4)]
    assert main(["audit", "verify", "--dsn", own_dsn]) == 0
    _tamper(own_dsn, sql.replace("{id}", str(ids[1])))
    capsys.readouterr()
    assert main(["audit", "verify", "--dsn", own_dsn]) == 1
    out = capsys.readouterr().out
    named = ids[1] if reason == "altered" else ids[2]  # a removal breaks the next link
    assert f"BROKEN audit entry id {named} " in out
    assert reason in out


def test_a_removed_tail_and_an_entry_around_the_chain_are_caught(own_dsn: str) -> None:
    ids = [audit.append(own_dsn, "alice", "read", "x", {}) for _ in range(3)]
    _tamper(own_dsn, "DELETE FROM hj212.audit_log WHERE id = %s", ids[-1])
    with psycopg.connect(own_dsn) as conn:
        report = audit.verify(conn)
    assert report.first_bad is not None
    assert "removed from the end" in report.first_bad
    _tamper(
        own_dsn,
        "INSERT INTO hj212.audit_log (id, actor, action, object) OVERRIDING SYSTEM VALUE"
        " VALUES (999999, 'mallory', 'read', 'x')",
    )
    with psycopg.connect(own_dsn) as conn:
        report = audit.verify(conn)
    assert report.first_bad is not None
    assert "audit entry id 999999" in report.first_bad


def test_a_registry_import_is_audited_with_who_did_it(
    own_dsn: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USER", "registry-admin")
    listing = tmp_path / "stations.csv"
    listing.write_text(
        "mn,name,medium,region_code,password\nS9,outlet 9,gas,420100,S9pw01\n", "utf-8"
    )
    assert main(["stations", "import", str(listing), "--dsn", own_dsn]) == 0
    with psycopg.connect(own_dsn) as conn:
        (entry,) = audit.entries(conn, action="config")
        assert audit.verify(conn).ok
    assert (entry.actor, entry.target) == ("registry-admin", "stations")
    assert entry.detail["stations"] == 1
