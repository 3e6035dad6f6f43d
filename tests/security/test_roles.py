"""The database as an attacker would use it (issue 14, F-05): the gateway's own role
cannot change the evidence, and what a superuser re-hashes is caught by the signed
anchor."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import anyio
import psycopg
import pytest

from storage import audit
from storage.chain import link_hash
from tests import databases
from tests.security.support import ROOT, GoodStation, rows, serve

pytestmark = [pytest.mark.db, pytest.mark.anyio]

REFUSED = [
    "UPDATE hj212.frame SET peer = 'forged'",
    "DELETE FROM hj212.frame",
    "TRUNCATE hj212.frame",
    "UPDATE hj212.measurement SET rtd = 0",
    "DELETE FROM hj212.audit_log",
    "UPDATE hj212.audit_head SET last_seq = 0",
    "ALTER TABLE hj212.frame DISABLE TRIGGER frame_append_only",
    "ALTER TABLE hj212.audit_log DISABLE TRIGGER USER",
    "SET session_replication_role = replica",
    "COPY (SELECT 1) TO PROGRAM 'cat > /dev/null'",
    "DROP TABLE hj212.frame",
]


@pytest.fixture
def own_database(server_dsn: str) -> Iterator[str]:
    with databases.migrated(server_dsn, "hj212_roles") as dsn:
        yield dsn


async def test_f05_the_gateways_role_cannot_change_the_evidence(dsn: str, tmp_path: Path) -> None:
    good = GoodStation(dsn)
    with serve(dsn, tmp_path) as gw:  # the DSN hj212 serve runs with
        await good.connect(gw.port)
        await good.send(2)
        chunks = rows(
            dsn,
            "SELECT chunk_schema || '.' || chunk_name FROM timescaledb_information.chunks"
            " WHERE hypertable_name = 'frame' LIMIT 1",
        )
        attempts = [*REFUSED, *(f"UPDATE {c} SET peer = 'forged'" for (c,) in chunks)]
        with psycopg.connect(dsn) as conn:
            for sql in attempts:  # each in a transaction rolled back, whatever happens
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    with conn.transaction():
                        conn.execute(sql.encode())
            conn.execute("INSERT INTO hj212.audit_log (action, object) VALUES ('t', 'x')")
        await good.send(2)
        good.check()
        await good.close()
    assert not rows(dsn, "SELECT 1 FROM hj212.frame WHERE peer = 'forged'")


def _rehash_frames(owner: str, mn: str) -> None:
    """A superuser's edit: one byte of a frame, then every hash after it and the head."""
    with psycopg.connect(owner) as conn:
        conn.execute("SET session_replication_role = replica")
        frames = conn.execute(
            "SELECT id, received_at, transport, peer, raw, prev_hash FROM hj212.frame"
            " WHERE mn = %s ORDER BY id",
            (mn,),
        ).fetchall()
        prev = bytes(frames[0][5])
        for n, (ident, at, transport, peer, raw, _) in enumerate(frames):
            if n == 1:
                raw = bytes(raw).replace(b"w01018-Rtd=2", b"w01018-Rtd=9")
            digest = link_hash(prev, at, transport, peer, bytes(raw))
            conn.execute(
                "UPDATE hj212.frame SET raw = %s, hash = %s, prev_hash = %s WHERE id = %s",
                (raw, digest, prev, ident),
            )
            prev = digest
        conn.execute("UPDATE hj212.chain_head SET last_hash = %s WHERE chain = %s", (prev, mn))


def _rehash_audit(owner: str) -> None:
    """The same for the audit log: alter an early entry, re-link it and all after it."""
    with psycopg.connect(owner) as conn:
        conn.execute("SET session_replication_role = replica")
        entries = conn.execute(
            "SELECT seq, id, at, actor, action, object, mn, detail::text, prev_hash"
            " FROM hj212.audit_log WHERE seq IS NOT NULL ORDER BY seq"
        ).fetchall()
        prev = bytes(entries[0][8])
        for n, (seq, ident, at, actor, action, target, mn, detail, _) in enumerate(entries):
            if n == 0:
                actor = "nobody"
                conn.execute("UPDATE hj212.audit_log SET actor = %s WHERE id = %s", (actor, ident))
            digest = audit.link_hash(prev, seq, ident, at, actor, action, target, mn, detail)
            conn.execute(
                "UPDATE hj212.audit_log SET hash = %s, prev_hash = %s WHERE id = %s",
                (digest, prev, ident),
            )
            prev = digest
        conn.execute("UPDATE hj212.audit_head SET last_hash = %s", (prev,))


async def _hj212(tmp: Path, anchors: Path, *args: str) -> tuple[int, str]:
    env = {**os.environ, "HJ212_ANCHOR_DIR": str(anchors), "HJ212_KEY_DIR": str(tmp / "keys")}
    done = await anyio.run_process(
        [sys.executable, "-m", "cli", *args], cwd=ROOT, env=env, check=False
    )
    return done.returncode, done.stdout.decode() + done.stderr.decode()


async def test_f05_a_superusers_rehashed_edit_is_caught_by_the_signed_anchor(
    own_database: str, tmp_path: Path
) -> None:
    dsn, anchors = own_database, tmp_path / "anchors"
    good = GoodStation(dsn)
    with serve(dsn, tmp_path) as gw:
        await good.connect(gw.port)
        await good.send(4)
        for n in range(3):  # a few more entries in the audit chain
            audit.append(dsn, "operator", "read", f"station:{good.mn}", {"n": n})
        code, out = await _hj212(tmp_path, anchors, "db", "anchor", "--dsn", dsn)
        assert code == 0, out
        await good.send(1)  # frames after the anchor are fine
        good.check()
        await good.close()
    owner = databases.owner_of(dsn)
    _rehash_frames(owner, good.mn)
    _rehash_audit(owner)
    # every link verifies: without the anchor, nothing shows
    code, out = await _hj212(tmp_path, tmp_path / "none", "db", "verify-chain", "--dsn", dsn)
    assert code == 0, out
    code, out = await _hj212(tmp_path, tmp_path / "none", "audit", "verify", "--dsn", dsn)
    assert code == 0, out
    # against the signed anchor it does
    code, out = await _hj212(tmp_path, anchors, "db", "verify-chain", "--dsn", dsn)
    assert code == 1, out
    assert f"chain '{good.mn}'" in out
    assert "differs from the signed anchor: edited and re-hashed" in out
    code, out = await _hj212(tmp_path, anchors, "audit", "verify", "--dsn", dsn)
    assert code == 1, out
    assert "differs from the signed anchor" in out
    # the oldest audit entries deleted do not pass as retention either
    with psycopg.connect(owner, autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute(
            "DELETE FROM hj212.audit_log WHERE seq = (SELECT min(seq) FROM hj212.audit_log)"
        )
    code, out = await _hj212(tmp_path, anchors, "audit", "verify", "--dsn", dsn)
    assert code == 1, out
    assert "younger than the retention period" in out
