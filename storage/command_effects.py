"""What a confirmed command changes in the registry (docs/forwarding.md §1).

Called by :func:`storage.commands.finish` inside the transaction that records the
outcome, so the outcome and its effect commit together or not at all: 1062 the
RtdInterval, 1064 the MinInterval (HJ 212-2017 Table 9), 1072 the password, HJ 212-2025
1014 the SM4 key and 1002 the MN. Secrets come from the station's pending columns
(migration 0054), never from the command, which keeps asterisks. Each effect writes an
audit entry naming the command (the station's own trigger records the row as well).
"""

from __future__ import annotations

from collections.abc import Mapping

from protocol.codes import Cn
from storage.audit import append_async
from storage.db import AsyncConn

# HJ 212-2017 Table 4: MinInterval; the registry's CHECK of migration 0002
MIN_INTERVALS = frozenset({1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30})
MAX_RTD_INTERVAL = 86400
_COPIED = (
    "password, sm4_key, sm4_key_set_at, name, enterprise, outlet, medium, region_code,"
    " protocol_version, legacy_crc, rt_interval_s, minute_interval_min, o2_ref, active,"
    " created_at"
)


def interval_change(cn: str, params: Mapping[str, object]) -> tuple[str, int] | None:
    """The registry column and value a confirmed 1062/1064 sets, None if the value is
    not one the registry can hold (it is then left as it was)."""
    try:
        if cn == Cn.SET_RTD_INTERVAL:
            value = int(str(params["RtdInterval"]))
            return ("rt_interval_s", value) if 1 <= value <= MAX_RTD_INTERVAL else None
        if cn == Cn.SET_MIN_INTERVAL:
            value = int(str(params["MinInterval"]))
            return ("minute_interval_min", value) if value in MIN_INTERVALS else None
    except (KeyError, ValueError):
        return None
    return None


async def take_effect(
    conn: AsyncConn, command_id: int, mn: str, cn: str, params: Mapping[str, object]
) -> list[str]:
    """Apply what the confirmed command ``cn`` changes; the registry columns changed."""
    changed: list[str] = []
    if cn in (Cn.SET_RTD_INTERVAL, Cn.SET_MIN_INTERVAL):
        change = interval_change(cn, params)
        if change is not None:
            column, value = change
            done = await conn.execute(
                f"UPDATE hj212.station SET {column} = %s, updated_at = now()"
                f" WHERE mn = %s AND {column} IS DISTINCT FROM %s".encode(),
                (value, mn, value),
            )
            changed = [column] if done.rowcount else []
    elif cn in (Cn.SET_PASSWORD, Cn.NEW_KEY):
        column, pending = ("password", "pending_password")
        if cn == Cn.NEW_KEY:
            column, pending = ("sm4_key", "pending_sm4_key")
        done = await conn.execute(
            f"UPDATE hj212.station SET {column} = {pending}, {pending} = NULL,"
            f" updated_at = now() WHERE mn = %s AND {pending} IS NOT NULL".encode(),
            (mn,),
        )
        changed = [column] if done.rowcount else []
    elif cn == Cn.SET_MN:
        changed = await _new_mn(conn, mn, str(params.get("i23005-Info", "")))
    if changed:
        await append_async(
            conn,
            "gateway",
            "command-effect",
            f"command:{command_id}",
            {"cn": cn, "changed": changed},
            mn=mn,
        )
    return changed


async def _new_mn(conn: AsyncConn, old: str, new: str) -> list[str]:
    """1002: the station goes on under ``new``; the old row keeps the history under the
    old MN, deactivated, with ``replaced_by`` (migration 0110)."""
    if not new or new == old:
        return []
    made = await conn.execute(
        f"INSERT INTO hj212.station (mn, {_COPIED}) SELECT %s, {_COPIED}"
        " FROM hj212.station WHERE mn = %s ON CONFLICT (mn) DO NOTHING".encode(),
        (new, old),
    )
    if not made.rowcount:
        return []
    await conn.execute(
        "INSERT INTO hj212.station_pollutant (mn, pollutant, assessed, emission_limit,"
        " limit_period, range_low, range_high, unit) SELECT %s, pollutant, assessed,"
        " emission_limit, limit_period, range_low, range_high, unit"
        " FROM hj212.station_pollutant WHERE mn = %s",
        (new, old),
    )
    await conn.execute(
        "UPDATE hj212.station SET active = false, replaced_by = %s, updated_at = now()"
        " WHERE mn = %s",
        (new, old),
    )
    return ["mn"]
