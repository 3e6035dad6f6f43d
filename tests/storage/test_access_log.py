"""Reads counted per interval (hj212.access_log) and the client in every audit entry."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from config.settings import StorageSettings
from storage import access_log, audit, maintenance

pytestmark = pytest.mark.db
HOUR = timedelta(hours=1)


def test_the_first_read_of_an_interval_is_chained_the_rest_counted(dsn: str) -> None:
    who = f"reader{uuid.uuid4().hex[:6]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        firsts = [
            access_log.record_read(conn, who, "console:/api/x", "MN1", "10.1.2.3", f"i={i}", HOUR)
            for i in range(20)
        ]
        other = access_log.record_read(conn, who, "console:/api/x", "MN2", "10.1.2.3", "", HOUR)
        chained = audit.entries(conn, action="read", limit=100)
        now = datetime.now(UTC)
        tally = access_log.tallies(conn, now - 2 * HOUR, now + HOUR, who)
        assert audit.verify(conn).ok
    assert firsts.count(True) in (1, 2)  # 2 only across an interval boundary
    assert firsts[0] is True
    assert other is True  # another station is another row
    mine = [e for e in chained if e.actor == who]
    assert {e.mn for e in mine} == {"MN1", "MN2"}
    assert all(e.detail["client"] == "10.1.2.3" for e in mine)
    assert sum(t.reads for t in tally if t.mn == "MN1") == 20
    assert "i=19" in {t.last_query for t in tally if t.mn == "MN1"}


def test_entries_without_a_client_get_the_connections_own(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        # as if no one named the client (a process that ran `hj212` may have: PGOPTIONS)
        audit.name_client(conn, "")
        plain = audit.append(conn, "someone", "config", "x", {})
        audit.name_client(conn, "local:tester@host")
        named = audit.append(conn, "someone", "config", "x", {})
        given = audit.append(conn, "someone", "config", "x", {"client": "192.0.2.1"})
        audit.name_actor(conn, "console-user")
        conn.execute("INSERT INTO hj212.audit_log (action, object) VALUES ('t', 'by-trigger')")
        rows: dict[int, str] = dict(
            conn.execute(
                "SELECT id, detail ->> 'client' FROM hj212.audit_log WHERE id = ANY(%s)",
                ([plain, named, given],),
            ).fetchall()
        )
        actor = conn.execute(
            "SELECT actor FROM hj212.audit_log WHERE object = 'by-trigger' ORDER BY seq DESC"
        ).fetchone()
        assert audit.verify(conn).ok  # the client is part of the hashed entry
    assert rows[plain] in ("db:127.0.0.1", "db:local")
    assert rows[named] == "local:tester@host"
    assert rows[given] == "192.0.2.1"
    assert actor == ("console-user",)


def test_naming_the_next_client_forgets_the_last_actor(dsn: str) -> None:
    """A pooled connection serves one request after another: the next request's entries
    must not name the user of the one before."""
    mark = f"next-{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        audit.name_client(conn, "192.0.2.7")
        audit.name_actor(conn, "first-user")
        audit.name_client(conn, "192.0.2.8")
        conn.execute("INSERT INTO hj212.audit_log (action, object) VALUES ('t', %s)", (mark,))
        row = conn.execute(
            "SELECT actor, detail ->> 'client', current_user FROM hj212.audit_log"
            " WHERE object = %s",
            (mark,),
        ).fetchone()
    assert row is not None
    actor, client, role = row
    assert (actor, client) == (role, "192.0.2.8")  # the database role, not "first-user"


def test_old_read_counts_go_with_their_own_retention(owner_dsn: str) -> None:
    old = datetime(2020, 1, 1, tzinfo=UTC)
    with psycopg.connect(owner_dsn, autocommit=True) as conn:  # drop_chunks: the owner
        conn.execute(
            "INSERT INTO hj212.access_log (bucket, actor, route) VALUES (%s, 'old', 'r')", (old,)
        )
        settings = replace(StorageSettings(), retention_days_access=30)
        dropped = maintenance.apply_retention(conn, settings, datetime.now(UTC))
        left = conn.execute("SELECT count(*) FROM hj212.access_log WHERE actor = 'old'").fetchone()
    assert any(d.table == "access_log" and d.chunks for d in dropped)
    assert left == (0,)
