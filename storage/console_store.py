"""Console users, API tokens and the audit trail of the console (``hj212.console_user``,
``hj212.api_token``, ``hj212.audit_log``).

Passwords arrive here already hashed (:mod:`console.auth` hashes with scrypt); tokens
are looked up by their SHA-256, so neither a password nor a token is ever stored.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import psycopg
from psycopg.rows import TupleRow, class_row

from storage import audit

Conn = psycopg.Connection[TupleRow]
ROLES = ("administrator", "operator", "inspector", "enterprise")


@dataclass(frozen=True)
class User:
    name: str
    role: str
    region_prefix: str  # '' = every region
    enterprise: str  # the enterprise user's own enterprise, else ''
    active: bool
    created_at: datetime
    signed_out_at: datetime | None = None  # sessions issued before this are over


@dataclass(frozen=True)
class Credentials:
    user: User
    password_hash: str


_USER = "name, role, region_prefix, enterprise, active, created_at, signed_out_at"


def add_user(
    conn: Conn,
    name: str,
    password_hash: str,
    role: str,
    region_prefix: str = "",
    enterprise: str = "",
) -> User:
    """Create a user, or replace its password, role and jurisdiction if it exists."""
    with conn.cursor(row_factory=class_row(User)) as cur:
        cur.execute(
            "INSERT INTO hj212.console_user (name, password_hash, role, region_prefix,"
            " enterprise) VALUES (%s, %s, %s, %s, %s)"
            " ON CONFLICT (name) DO UPDATE SET password_hash = excluded.password_hash,"
            " role = excluded.role, region_prefix = excluded.region_prefix,"
            f" enterprise = excluded.enterprise, active = true RETURNING {_USER}",
            (name, password_hash, role, region_prefix, enterprise),
        )
        row = cur.fetchone()
    assert row is not None
    return row


def users(conn: Conn) -> list[User]:
    with conn.cursor(row_factory=class_row(User)) as cur:
        cur.execute(f"SELECT {_USER} FROM hj212.console_user ORDER BY name")
        return cur.fetchall()


def credentials(conn: Conn, name: str) -> Credentials | None:
    """The active user called ``name`` with its password hash."""
    row = conn.execute(
        f"SELECT {_USER}, password_hash FROM hj212.console_user WHERE name = %s AND active",
        (name,),
    ).fetchone()
    if row is None:
        return None
    return Credentials(User(*row[:7]), row[7])


def user(conn: Conn, name: str) -> User | None:
    found = credentials(conn, name)
    return found.user if found else None


def sign_out(conn: Conn, name: str) -> None:
    conn.execute("UPDATE hj212.console_user SET signed_out_at = now() WHERE name = %s", (name,))


def recent_login_failures(conn: Conn, name: str, minutes: float) -> int:
    """Failed sign-ins of ``name`` in the last ``minutes`` (from the audit log)."""
    row = conn.execute(
        "SELECT count(*) FROM hj212.audit_log WHERE object = 'console:session'"
        " AND at > now() - make_interval(secs => %s) AND actor = %s AND action = 'login'"
        " AND detail ->> 'ok' = 'false'",
        (minutes * 60, name),
    ).fetchone()
    return int(row[0]) if row else 0


def token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def add_token(conn: Conn, name: str, token: str, label: str = "") -> int:
    row = conn.execute(
        "INSERT INTO hj212.api_token (user_name, token_hash, label) VALUES (%s, %s, %s)"
        " RETURNING id",
        (name, token_digest(token), label),
    ).fetchone()
    assert row is not None
    append(conn, name, "create", "api_token", None, {"id": row[0], "label": label})
    return int(row[0])


def token_user(conn: Conn, token: str) -> User | None:
    """The active user a live (unrevoked) token belongs to."""
    row = conn.execute(
        "SELECT user_name FROM hj212.api_token WHERE token_hash = %s AND revoked_at IS NULL",
        (token_digest(token),),
    ).fetchone()
    return user(conn, row[0]) if row else None


def append(
    conn: Conn, actor: str, action: str, obj: str, mn: str | None, detail: dict[str, object]
) -> None:
    """One audit row: who (``actor``), did what (``action``) to what (``obj``, ``mn``),
    through :func:`storage.audit.append` (the hash-chained log), in ``conn``'s transaction."""
    audit.append(conn, actor, action, obj, detail, mn=mn)
