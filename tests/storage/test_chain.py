"""The tamper-evident archive: a changed byte, a removed frame, windows, the CLI."""

from __future__ import annotations

import sys
from datetime import timedelta

import anyio
import psycopg
import pytest

from services.writer import Writer
from storage.chain import GENESIS, link_hash, verify
from storage.records import FrameRecord
from tests.databases import owner_of
from tests.storage.support import AT, new_mn, rows, running, upload

pytestmark = pytest.mark.db
ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


async def _archive(dsn: str, records: list[FrameRecord]) -> None:
    async with running(Writer(dsn, max_batch=3)) as writer:
        for record in records:
            await writer.submit(record)


def _frames(mn: str, n: int) -> list[FrameRecord]:
    return [upload(mn, AT + timedelta(minutes=i)) for i in range(n)]


def _bypassing_triggers(dsn: str, sql: str, *params: object) -> None:
    """What an intruder with superuser rights can do: the append-only trigger is off."""
    with psycopg.connect(owner_of(dsn)) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute(sql.encode(), params)


class _Result:
    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


async def _hj212(*args: str) -> _Result:
    """The real command, in a process of its own."""
    done = await anyio.run_process([sys.executable, "-m", "cli", *args], cwd=ROOT, check=False)
    return _Result(done.returncode, done.stdout.decode(), done.stderr.decode())


def _ids(dsn: str, mn: str) -> list[int]:
    return [r[0] for r in rows(dsn, "SELECT id FROM hj212.frame WHERE mn = %s ORDER BY id", mn)]


def test_the_hash_encoding_is_length_prefixed_and_covers_every_part() -> None:
    base = link_hash(GENESIS, AT, "tcp", "1.2.3.4:5", b"##raw")
    assert len(base) == 32
    assert link_hash(GENESIS, AT, "tcp", "1.2.3.4:5", b"##raw") == base
    others = [
        link_hash(b"\x01" * 32, AT, "tcp", "1.2.3.4:5", b"##raw"),
        link_hash(GENESIS, AT + timedelta(microseconds=1), "tcp", "1.2.3.4:5", b"##raw"),
        link_hash(GENESIS, AT, "tcp", "1.2.3.4:", b"5##raw"),  # moving bytes between fields
        link_hash(GENESIS, AT, "serial", "1.2.3.4:5", b"##raw"),
    ]
    assert base not in others


@pytest.mark.anyio
async def test_an_intact_chain_verifies_from_genesis(dsn: str) -> None:
    mn = new_mn()
    await _archive(dsn, _frames(mn, 5))
    first = rows(dsn, "SELECT prev_hash FROM hj212.frame WHERE mn = %s ORDER BY id LIMIT 1", mn)
    assert first == [(GENESIS,)]
    with psycopg.connect(dsn) as conn:
        report = verify(conn, mn)
    assert report.ok
    assert report.frames == 5
    assert report.unanchored == []


def test_the_raw_archive_refuses_update_and_delete_even_to_its_owner(dsn: str) -> None:
    with psycopg.connect(owner_of(dsn)) as conn:
        for sql in ("UPDATE hj212.frame SET peer = 'x'", "DELETE FROM hj212.frame"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                conn.execute(sql)
            conn.rollback()


@pytest.mark.anyio
async def test_an_altered_byte_is_caught_by_verify_chain_and_the_cli_exits_1(dsn: str) -> None:
    mn = new_mn()
    await _archive(dsn, _frames(mn, 6))
    target = _ids(dsn, mn)[3]
    _bypassing_triggers(
        dsn,
        "UPDATE hj212.frame SET raw = overlay(raw placing '\\x58'::bytea from 3 for 1)"
        " WHERE id = %s",
        target,
    )
    with psycopg.connect(dsn) as conn:
        report = verify(conn, mn)
    assert [(b.frame_id, b.reason.split(":")[0]) for b in report.breaks] == [
        (target, "hash does not match the frame's content")
    ]
    cli = await _hj212("db", "verify-chain", "--dsn", dsn, "--mn", mn)
    assert cli.returncode == 1, cli.stdout + cli.stderr
    assert f"frame {target}" in cli.stdout
    assert "FAILED" in cli.stdout


@pytest.mark.anyio
async def test_a_removed_frame_and_a_removed_tail_are_caught(dsn: str) -> None:
    middle, tail = new_mn(), new_mn()
    await _archive(dsn, _frames(middle, 5) + _frames(tail, 5))
    ids = _ids(dsn, middle)
    _bypassing_triggers(dsn, "DELETE FROM hj212.frame WHERE id = %s", ids[2])
    _bypassing_triggers(dsn, "DELETE FROM hj212.frame WHERE id = %s", _ids(dsn, tail)[-1])
    with psycopg.connect(dsn) as conn:
        removed = verify(conn, middle).breaks
        truncated = verify(conn, tail).breaks
    assert [(b.frame_id, "prev_hash does not match" in b.reason) for b in removed] == [
        (ids[3], True)
    ]
    assert len(truncated) == 1
    assert "removed from the end" in truncated[0].reason


@pytest.mark.anyio
async def test_a_window_verifies_its_own_links_anchored_on_the_first_prev_hash(
    dsn: str,
) -> None:
    mn = new_mn()
    await _archive(dsn, _frames(mn, 8))
    ids = _ids(dsn, mn)
    _bypassing_triggers(dsn, "UPDATE hj212.frame SET peer = 'forged' WHERE id = %s", ids[6])
    start, end = AT + timedelta(minutes=1), AT + timedelta(minutes=5)  # frames 1..4
    with psycopg.connect(dsn) as conn:
        inside = verify(conn, mn, start, end)
        whole = verify(conn, mn)
    assert inside.ok
    assert inside.frames == 4
    assert inside.unanchored == [mn]
    assert [b.frame_id for b in whole.breaks] == [ids[6]]
    cli = await _hj212(
        "db",
        "verify-chain",
        "--dsn",
        dsn,
        "--mn",
        mn,
        "--from",
        start.isoformat(),
        "--to",
        end.isoformat(),
    )
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert cli.stdout.startswith("OK: 4 frames")


@pytest.mark.anyio
async def test_frames_without_mn_chain_under_the_empty_key(dsn: str) -> None:
    garbage = upload("X", raw=b"\x00\x01 line noise")
    garbage.mn, garbage.status, garbage.measurements = None, "garbage", []
    await _archive(dsn, [garbage])
    head = rows(dsn, "SELECT last_hash FROM hj212.chain_head WHERE chain = ''")
    last = rows(dsn, "SELECT hash FROM hj212.frame WHERE mn IS NULL ORDER BY id DESC LIMIT 1")
    assert head == last
    with psycopg.connect(dsn) as conn:
        assert verify(conn, "").ok
