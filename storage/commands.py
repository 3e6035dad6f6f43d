"""SQL for platform commands (``hj212.command``, ``hj212.command_reply``).

Secrets (1072 ``NewPW``, HJ 212-2025 1014 ``NewSK``) are never kept in the command: they
wait in the station's row (``pending_password``/``pending_sm4_key``, migration 0054) and
the command's CP holds asterisks; the gateway reads them back when it sends, and the
registry takes them when the device confirms (9012 ExeRtn=1), in the transaction that
records the outcome, with the other effects of storage/command_effects.py. Frames as sent and as
replied are stored or shown with their secrets masked (:func:`protocol.masking.mask`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg

from protocol.codes import Cn
from protocol.masking import mask, mask_text
from rules.times import machine
from storage.command_effects import take_effect
from storage.db import AsyncConn

# secret CP key -> the station column it waits in until the device confirms
PENDING = {"NewPW": "pending_password", "NewSK": "pending_sm4_key"}
# commands whose confirmation changes the registry (storage/command_effects.py)
EFFECTS = frozenset(
    {Cn.SET_RTD_INTERVAL, Cn.SET_MIN_INTERVAL, Cn.SET_PASSWORD, Cn.NEW_KEY, Cn.SET_MN}
)


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


CLAIM_LIMIT = 100  # commands claimed at once (the dispatcher looks again when it got as many)


async def listen(conn: AsyncConn) -> None:
    """Be told (NOTIFY hj212_command, the station's MN as payload) when someone queues
    a command."""
    await conn.execute("LISTEN hj212_command")


async def claim_queued(conn: AsyncConn, mns: list[str]) -> list[Command]:
    """Queued commands for these stations, marked 'sent' in the same transaction."""
    async with conn.transaction():
        rows = await (
            await conn.execute(
                "SELECT c.id, c.mn, c.qn, c.cn, c.cp, s.pending_password, s.pending_sm4_key"
                " FROM hj212.command c LEFT JOIN hj212.station s ON s.mn = c.mn"
                " WHERE c.state = 'queued' AND c.mn = ANY(%s) ORDER BY c.id"
                " FOR UPDATE OF c SKIP LOCKED LIMIT %s",
                (mns, CLAIM_LIMIT),
            )
        ).fetchall()
        if rows:
            await conn.execute(
                "UPDATE hj212.command SET state = 'sent', sent_at = now() WHERE id = ANY(%s)",
                ([r[0] for r in rows],),
            )
    return [
        Command(r[0], r[1], r[2], r[3], _with_secrets(parse_cp(r[4]), r[5], r[6])) for r in rows
    ]


def _with_secrets(
    params: dict[str, object], password: str | None, key: str | None
) -> dict[str, object]:
    """The asterisks of a stored command replaced by the station's pending secrets."""
    pending = {"NewPW": password, "NewSK": key}
    return {k: (pending[k] or v) if k in pending else v for k, v in params.items()}


async def mark_sent(conn: AsyncConn, command_id: int, wire: bytes) -> None:
    async with conn.transaction():
        await conn.execute(
            "UPDATE hj212.command SET raw = %s WHERE id = %s", (mask(wire), command_id)
        )


async def log_sent(
    conn: AsyncConn, mn: str, qn: str, cn: str, params: dict[str, object], wire: bytes, who: str
) -> int | None:
    cp = mask_text(";".join(f"{k}={v}" for k, v in params.items()))
    try:
        async with conn.transaction():
            row = await (
                await conn.execute(
                    "INSERT INTO hj212.command (mn, qn, st, cn, cp, raw, requested_by, state,"
                    " sent_at) VALUES (%s, %s, '', %s, %s, %s, %s, 'sent', now())"
                    " ON CONFLICT (mn, qn) DO NOTHING RETURNING id",
                    (mn, qn, cn, cp, mask(wire), who),
                )
            ).fetchone()
    except psycopg.Error:
        return None
    return int(row[0]) if row else None


async def finish(
    conn: AsyncConn,
    command_id: int,
    state: str,
    qn_rtn: int | None,
    exe_rtn: int | None,
    qns: list[str],
) -> None:
    """Record the outcome, and link every archived frame of the exchange to the command."""
    async with conn.transaction():
        row = await (
            await conn.execute(
                "UPDATE hj212.command SET state = %s, qn_rtn = %s, exe_rtn = %s,"
                " finished_at = now() WHERE id = %s"
                " RETURNING mn, coalesce(sent_at, created_at), cn, cp",
                (
                    state,
                    None if qn_rtn is None else str(qn_rtn),
                    None if exe_rtn is None else str(exe_rtn),
                    command_id,
                ),
            )
        ).fetchone()
        if row is not None and state == "done" and row[2] in EFFECTS:
            # the device confirmed: the registry takes it, in this same transaction
            await take_effect(conn, command_id, row[0], row[2], parse_cp(row[3]))
        if row is not None and qns:
            mn, since, _, _ = row
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


async def refuse(conn: AsyncConn, command_id: int, why: str) -> None:
    """A claimed command that cannot be sent: 'failed', with the reason, never sent."""
    async with conn.transaction():
        await conn.execute(
            "UPDATE hj212.command SET state = 'failed', error = %s, finished_at = now()"
            " WHERE id = %s",
            (why, command_id),
        )


async def queue(
    conn: AsyncConn, mn: str, cn: str, params: dict[str, object], qn: str, st: str, who: str
) -> int:
    """Queue a command (``hj212 command send``) and wake the gateways; its secrets go
    to the station's row, the command keeps asterisks.

    :raises ValueError: a secret for a station that is not registered.
    """
    cp = mask_text(";".join(f"{k}={v}" for k, v in params.items()))
    async with conn.transaction():
        for key, column in PENDING.items():
            if key in params:
                done = await conn.execute(
                    f"UPDATE hj212.station SET {column} = %s WHERE mn = %s".encode(),
                    (str(params[key]), mn),
                )
                if done.rowcount != 1:
                    raise ValueError(f"{key} is kept for registered stations only")
        row = await (
            await conn.execute(
                "INSERT INTO hj212.command (mn, qn, st, cn, cp, requested_by)"
                " VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
                (mn, qn, st, cn, cp, who),
            )
        ).fetchone()
        await conn.execute("SELECT pg_notify('hj212_command', %s)", (mn,))
    assert row is not None
    return int(row[0])


async def state_of(conn: AsyncConn, command_id: int) -> dict[str, object]:
    async with conn.transaction():
        row = await (
            await conn.execute(
                "SELECT id, mn, qn, cn, cp, state, qn_rtn, exe_rtn, created_at, sent_at,"
                " finished_at, error FROM hj212.command WHERE id = %s",
                (command_id,),
            )
        ).fetchone()
        replies = await (
            await conn.execute(
                "SELECT r.cn, r.qn, f.raw FROM hj212.command_reply r"
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
        "error",
    )
    out = {
        k: (machine(v) if isinstance(v, datetime) else v) for k, v in zip(keys, row, strict=True)
    }
    out["replies"] = [
        {"cn": r[0], "qn": r[1], "frame": mask(bytes(r[2])).decode("utf-8", "replace")}
        for r in replies
    ]
    return out
