"""API tokens for machine clients (``hj212.api_token``): made with an expiry, listed,
revoked (migration 0060).

Only a token's SHA-256 is stored; the token itself is shown once, when it is made. A
token works while it is unrevoked, unexpired and its user active. Making and revoking
are audited here (object ``api_token``, ``name`` = the token's user, never the token).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from psycopg.rows import class_row

from storage import audit
from storage.db import Conn

DEFAULT_DAYS, MAX_DAYS = 90, 366
# last_used_at is written at most this often per token, not on every request.
_USED_EVERY = timedelta(minutes=5)


@dataclass(frozen=True)
class Token:
    id: int
    user_name: str
    label: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    revoked_by: str | None
    last_used_at: datetime | None


_TOKEN = "id, user_name, label, created_at, expires_at, revoked_at, revoked_by, last_used_at"


def digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def add(
    conn: Conn,
    name: str,
    token: str,
    label: str = "",
    *,
    days: int = DEFAULT_DAYS,
    by: str | None = None,
) -> Token:
    """Store a new token of user ``name``, valid for ``days`` (1..366)."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"a token lasts 1 to {MAX_DAYS} days, not {days}")
    with conn.transaction(), conn.cursor(row_factory=class_row(Token)) as cur:
        cur.execute(
            "INSERT INTO hj212.api_token (user_name, token_hash, label, expires_at)"
            f" VALUES (%s, %s, %s, now() + make_interval(days => %s)) RETURNING {_TOKEN}",
            (name, digest(token), label, days),
        )
        row = cur.fetchone()
        assert row is not None
        detail = {"id": row.id, "name": name, "label": label, "expires_at": row.expires_at}
        audit.append(conn, by or name, "create", "api_token", _jsonable(detail))
    return row


def tokens(conn: Conn, name: str) -> list[Token]:
    """Every token of ``name``, newest first (revoked and expired ones included)."""
    with conn.cursor(row_factory=class_row(Token)) as cur:
        cur.execute(
            f"SELECT {_TOKEN} FROM hj212.api_token WHERE user_name = %s ORDER BY id DESC", (name,)
        )
        return cur.fetchall()


def get(conn: Conn, token_id: int) -> Token | None:
    with conn.cursor(row_factory=class_row(Token)) as cur:
        cur.execute(f"SELECT {_TOKEN} FROM hj212.api_token WHERE id = %s", (token_id,))
        return cur.fetchone()


def revoke(conn: Conn, token_id: int, *, by: str) -> Token | None:
    """Revoke a token (it answers 401 from the next request on); None if there is no
    such token. Revoking a revoked token changes nothing and is not audited again."""
    with conn.transaction(), conn.cursor(row_factory=class_row(Token)) as cur:
        cur.execute(
            "UPDATE hj212.api_token SET revoked_at = now(), revoked_by = %s"
            f" WHERE id = %s AND revoked_at IS NULL RETURNING {_TOKEN}",
            (by, token_id),
        )
        row = cur.fetchone()
        if row is not None:
            detail = {"id": token_id, "name": row.user_name, "label": row.label}
            audit.append(conn, by, "revoke", "api_token", detail)
    return row if row is not None else get(conn, token_id)


def revoke_all(conn: Conn, name: str, *, by: str, why: str) -> list[int]:
    """Revoke every live token of ``name`` in one step, audited once; their ids."""
    with conn.transaction():
        ids = [
            int(row[0])
            for row in conn.execute(
                "UPDATE hj212.api_token SET revoked_at = now(), revoked_by = %s"
                " WHERE user_name = %s AND revoked_at IS NULL RETURNING id",
                (by, name),
            )
        ]
        if ids:
            detail = {"ids": ids, "name": name, "why": why}
            audit.append(conn, by, "revoke", "api_token", detail)
    return ids


def owner(conn: Conn, token: str) -> str | None:
    """The user a live (unrevoked, unexpired) token belongs to (active or not)."""
    row = conn.execute(
        "SELECT id, user_name, last_used_at FROM hj212.api_token WHERE token_hash = %s"
        " AND revoked_at IS NULL AND expires_at > now()",
        (digest(token),),
    ).fetchone()
    if row is None:
        return None
    ident, name, used = row
    if used is None or used < datetime.now(used.tzinfo) - _USED_EVERY:
        conn.execute("UPDATE hj212.api_token SET last_used_at = now() WHERE id = %s", (ident,))
    return str(name)


def _jsonable(detail: dict[str, object]) -> dict[str, object]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in detail.items()}
