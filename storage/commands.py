"""SQL for platform commands (``hj212.command``, ``hj212.command_reply``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg

from rules.times import machine


@dataclass(frozen=True)
class Command:
    id: int
    mn: str
    qn: str
    cn: str
    params: dict[str, object]


def parse_cp(cp: str) -> dict[str, object]:
    params: dict[str, object] = {}
    for item in cp.split(";"):
        key, sep, value = item.partition("=")
        if sep:
            params[key] = value
    return params


async def claim_queued(dsn: str, mns: list[str]) -> list[Command]:
    """Queued commands for these stations, marked 'sent' in the same transaction."""
    async with await psycopg.AsyncConnection.connect(dsn, connect_timeout=5) as conn:
        rows = await (
            await conn.execute(
                "SELECT id, mn, qn, cn, cp FROM hj212.command"
                " WHERE state = 'queued' AND mn = ANY(%s) ORDER BY id"
                " FOR UPDATE SKIP LOCKED LIMIT 100",
                (mns,),
            )
        ).fetchall()
        if rows:
            await conn.execute(
                "UPDATE hj212.command SET state = 'sent', sent_at = now() WHERE id = ANY(%s)",
                ([r[0] for r in rows],),
            )
        await conn.commit()
    return [Command(r[0], r[1], r[2], r[3], parse_cp(r[4])) for r in rows]


async def mark_sent(dsn: str, command_id: int, wire: bytes) -> None:
    async with await psycopg.AsyncConnection.connect(dsn, connect_timeout=5) as conn:
        await conn.execute("UPDATE hj212.command SET raw = %s WHERE id = %s", (wire, command_id))


async def log_sent(
    dsn: str, mn: str, qn: str, cn: str, params: dict[str, object], wire: bytes, who: str
) -> int | None:
    cp = ";".join(f"{k}={v}" for k, v in params.items())
    try:
        async with await psycopg.AsyncConnection.connect(dsn, connect_timeout=5) as conn:
            row = await (
                await conn.execute(
                    "INSERT INTO hj212.command (mn, qn, st, cn, cp, raw, requested_by, state,"
                    " sent_at) VALUES (%s, %s, '', %s, %s, %s, %s, 'sent', now())"
                    " ON CONFLICT (mn, qn) DO NOTHING RETURNING id",
                    (mn, qn, cn, cp, wire, who),
                )
            ).fetchone()
    except psycopg.Error:
        return None
    return int(row[0]) if row else None


async def finish(
    dsn: str, command_id: int, state: str, qn_rtn: int | None, exe_rtn: int | None, qns: list[str]
) -> None:
    """Record the outcome, and link every archived frame of the exchange to the command."""
    async with await psycopg.AsyncConnection.connect(dsn, connect_timeout=5) as conn:
        row = await (
            await conn.execute(
                "UPDATE hj212.command SET state = %s, qn_rtn = %s, exe_rtn = %s,"
                " finished_at = now() WHERE id = %s RETURNING mn, coalesce(sent_at, created_at)",
                (
                    state,
                    None if qn_rtn is None else str(qn_rtn),
                    None if exe_rtn is None else str(exe_rtn),
                    command_id,
                ),
            )
        ).fetchone()
        if row is not None and qns:
            mn, since = row
            await conn.execute(
                "INSERT INTO hj212.command_reply (command_id, received_at, frame_id, cn, qn)"
                " SELECT %s, f.received_at, f.id, f.cn, f.qn FROM hj212.frame f"
                " WHERE f.mn = %s AND f.qn = ANY(%s) AND f.received_at >= %s"
                " AND f.received_at <= %s AND f.cn IS NOT NULL ON CONFLICT DO NOTHING",
                (
                    command_id,
                    mn,
                    qns,
                    since - timedelta(seconds=1),
                    datetime.now(UTC) + timedelta(seconds=1),
                ),
            )


async def queue(
    dsn: str, mn: str, cn: str, params: dict[str, object], qn: str, st: str, who: str
) -> int:
    """Queue a command (``hj212 command send``) and wake the gateways."""
    cp = ";".join(f"{k}={v}" for k, v in params.items())
    async with await psycopg.AsyncConnection.connect(dsn, connect_timeout=5) as conn:
        row = await (
            await conn.execute(
                "INSERT INTO hj212.command (mn, qn, st, cn, cp, requested_by)"
                " VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
                (mn, qn, st, cn, cp, who),
            )
        ).fetchone()
        await conn.execute("NOTIFY hj212_command")
    assert row is not None
    return int(row[0])


async def state_of(dsn: str, command_id: int) -> dict[str, object]:
    async with await psycopg.AsyncConnection.connect(dsn, connect_timeout=5) as conn:
        row = await (
            await conn.execute(
                "SELECT id, mn, qn, cn, cp, state, qn_rtn, exe_rtn, created_at, sent_at,"
                " finished_at FROM hj212.command WHERE id = %s",
                (command_id,),
            )
        ).fetchone()
        replies = await (
            await conn.execute(
                "SELECT r.cn, r.qn, encode(f.raw, 'escape') FROM hj212.command_reply r"
                " JOIN hj212.frame f ON f.id = r.frame_id AND f.received_at = r.received_at"
                " WHERE r.command_id = %s ORDER BY r.received_at, r.frame_id",
                (command_id,),
            )
        ).fetchall()
    if row is None:
        return {}
    keys = (
        "id",
        "mn",
        "qn",
        "cn",
        "cp",
        "state",
        "qn_rtn",
        "exe_rtn",
        "created_at",
        "sent_at",
        "finished_at",
    )
    out = {
        k: (machine(v) if isinstance(v, datetime) else v) for k, v in zip(keys, row, strict=True)
    }
    out["replies"] = [{"cn": r[0], "qn": r[1], "frame": r[2]} for r in replies]
    return out
