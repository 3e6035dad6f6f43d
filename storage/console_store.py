"""Console users and the audit trail of the console (``hj212.console_user``,
``hj212.audit_log``); API tokens are in :mod:`storage.api_tokens`.

Passwords arrive here already hashed (:mod:`console.auth` hashes with scrypt). Creating
and changing a user are separate steps: :func:`add_user` refuses a name that exists
(:class:`UserExists`), :func:`change_user` changes what it is given. Every change is
audited by the database itself (migration 0060's trigger, with the old values under
"before"), naming the acting user through the setting ``hj212.actor`` set here for the
transaction. Who may change whom is decided by the caller (console/auth.py), not here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from psycopg.rows import class_row

from storage import api_tokens, audit
from storage.db import Conn

ROLES = ("administrator", "operator", "inspector", "enterprise")
# What change_user may change (the password, the state and the sessions have their own
# steps); the real-name fields (docs/regulations.md §12, seed 001 Art. 3: 实名制) are
# optional.
CHANGEABLE = ("role", "region_prefix", "enterprise", "full_name", "unit", "phone")


class UserExists(ValueError):
    """Raised by :func:`add_user` for a name that is taken (active or not)."""


@dataclass(frozen=True)
class User:
    name: str
    role: str
    region_prefix: str  # '' = every region
    enterprise: str  # the enterprise user's own enterprise, else ''
    active: bool
    created_at: datetime
    signed_out_at: datetime | None = None
    full_name: str = ""
    unit: str = ""
    phone: str = ""
    created_by: str | None = None
    deactivated_at: datetime | None = None
    password_changed_at: datetime | None = None
    session_epoch: int = 0  # a session issued under another epoch is over


@dataclass(frozen=True)
class Credentials:
    user: User
    password_hash: str


_USER = (
    "name, role, region_prefix, enterprise, active, created_at, signed_out_at, full_name,"
    " unit, phone, created_by, deactivated_at, password_changed_at, session_epoch"
)


def acting(conn: Conn, by: str | None) -> None:
    """Name ``by`` as the actor of the audit entries the rest of this transaction writes
    (triggers included); call it inside ``conn.transaction()``."""
    if by:
        conn.execute("SELECT set_config('hj212.actor', %s, true)", (by,))


def add_user(
    conn: Conn,
    name: str,
    password_hash: str,
    role: str,
    region_prefix: str = "",
    enterprise: str = "",
    *,
    by: str | None = None,
    full_name: str = "",
    unit: str = "",
    phone: str = "",
) -> User:
    """Create a user; :class:`UserExists` if the name is taken (nothing is replaced)."""
    with conn.transaction(), conn.cursor(row_factory=class_row(User)) as cur:
        acting(conn, by)
        cur.execute(
            "INSERT INTO hj212.console_user (name, password_hash, role, region_prefix,"
            " enterprise, full_name, unit, phone, created_by, password_changed_at)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, now())"
            f" ON CONFLICT (name) DO NOTHING RETURNING {_USER}",
            (name, password_hash, role, region_prefix, enterprise, full_name, unit, phone, by),
        )
        row = cur.fetchone()
    if row is None:
        raise UserExists(f"user {name} exists")
    return row


def change_user(
    conn: Conn, name: str, changes: Mapping[str, str], *, by: str | None = None
) -> tuple[User, User] | None:
    """Change some of :data:`CHANGEABLE`; (before, after), or None if there is no such
    user. The row is locked first, so the old values are the ones replaced."""
    unknown = set(changes) - set(CHANGEABLE)
    if unknown:
        raise ValueError(f"not changeable here: {', '.join(sorted(unknown))}")
    with conn.transaction():
        acting(conn, by)
        before = _locked(conn, name)
        if before is None:
            return None
        if changes:
            sets = ", ".join(f"{field} = %({field})s" for field in changes)
            conn.execute(
                f"UPDATE hj212.console_user SET {sets} WHERE name = %(name)s".encode(),
                {**changes, "name": name},
            )
        after = _locked(conn, name)
    assert after is not None
    return before, after


def set_password(conn: Conn, name: str, password_hash: str, *, by: str | None = None) -> int:
    """Replace the password and end every session (the epoch moves on): the new epoch,
    for the caller to issue its own fresh session under; -1 if there is no such user."""
    with conn.transaction():
        acting(conn, by)
        row = conn.execute(
            "UPDATE hj212.console_user SET password_hash = %s, password_changed_at = now(),"
            " session_epoch = session_epoch + 1 WHERE name = %s RETURNING session_epoch",
            (password_hash, name),
        ).fetchone()
    return int(row[0]) if row else -1


def set_active(conn: Conn, name: str, active: bool, *, by: str | None = None) -> User | None:
    """Deactivate (docs/regulations.md §12, seed 001 Art. 7(六): 暂停使用账户) or
    reactivate a user. Either way its sessions end; deactivating also revokes its
    tokens, which reactivating does not bring back (new ones are made)."""
    with conn.transaction():
        acting(conn, by)
        conn.execute(
            "UPDATE hj212.console_user SET active = %s, session_epoch = session_epoch + 1,"
            " deactivated_at = CASE WHEN %s THEN NULL ELSE now() END WHERE name = %s",
            (active, active, name),
        )
        if not active:
            api_tokens.revoke_all(conn, name, by=by or "", why="deactivated")
        return _locked(conn, name)


def sign_out(conn: Conn, name: str) -> None:
    """End every session of ``name``, on every browser."""
    conn.execute(
        "UPDATE hj212.console_user SET signed_out_at = now(), session_epoch = session_epoch + 1"
        " WHERE name = %s",
        (name,),
    )


def _locked(conn: Conn, name: str) -> User | None:
    with conn.cursor(row_factory=class_row(User)) as cur:
        cur.execute(f"SELECT {_USER} FROM hj212.console_user WHERE name = %s FOR UPDATE", (name,))
        return cur.fetchone()


def users(conn: Conn, region_prefix: str = "") -> list[User]:
    """Every user whose jurisdiction lies inside ``region_prefix`` ('' = all), active
    or not."""
    with conn.cursor(row_factory=class_row(User)) as cur:
        cur.execute(
            f"SELECT {_USER} FROM hj212.console_user"
            " WHERE region_prefix LIKE %s || '%%' ORDER BY name",
            (region_prefix,),
        )
        return cur.fetchall()


def any_user(conn: Conn, name: str) -> User | None:
    """The user called ``name``, active or not."""
    with conn.cursor(row_factory=class_row(User)) as cur:
        cur.execute(f"SELECT {_USER} FROM hj212.console_user WHERE name = %s", (name,))
        return cur.fetchone()


def credentials(conn: Conn, name: str) -> Credentials | None:
    """The user called ``name`` (active or not: the caller says which it accepts) with
    its password hash."""
    row = conn.execute(
        f"SELECT {_USER}, password_hash FROM hj212.console_user WHERE name = %s", (name,)
    ).fetchone()
    if row is None:
        return None
    return Credentials(User(*row[:-1]), row[-1])


def user(conn: Conn, name: str) -> User | None:
    """The *active* user called ``name``."""
    found = any_user(conn, name)
    return found if found and found.active else None


def append(
    conn: Conn, actor: str, action: str, obj: str, mn: str | None, detail: Mapping[str, object]
) -> None:
    """One audit row: who (``actor``), did what (``action``) to what (``obj``, ``mn``),
    through :func:`storage.audit.append` (the hash-chained log), in ``conn``'s transaction."""
    audit.append(conn, actor, action, obj, detail, mn=mn)
