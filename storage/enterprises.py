"""Enterprises (migration 0130; docs/quarterly.md §1): identity, name history, stations.

SQL only. The credit code is checked by :mod:`rules.credit_code` before it gets here;
a rename closes the current name and opens the next in the caller's transaction, and
moves the name text of the enterprise's stations and users along (the transition copy
the triggers of migration 0130 keep).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

from storage.db import Conn


class EnterpriseError(ValueError):
    """A change to the register that cannot be made, with the reason."""


@dataclass(frozen=True)
class Enterprise:
    id: int
    name: str
    credit_code: str | None
    region_code: str | None
    created_at: datetime


@dataclass(frozen=True)
class Name:
    name: str
    valid_from: datetime | None  # None: from before the register
    valid_to: datetime | None  # None: current
    changed_by: str
    reason: str


_SELECT = "SELECT id, name, credit_code, region_code, created_at FROM hj212.enterprise"
_BY_ANY_NAME = (
    _SELECT + " WHERE id = coalesce((SELECT id FROM hj212.enterprise WHERE name = %(n)s),"
    " (SELECT enterprise_id FROM hj212.enterprise_name WHERE name = %(n)s"
    " ORDER BY valid_from DESC LIMIT 1))"
)


def by_id(conn: Conn, ident: int) -> Enterprise | None:
    row = conn.execute(_SELECT + " WHERE id = %s", (ident,)).fetchone()
    return Enterprise(*row) if row else None


def by_code(conn: Conn, code: str) -> Enterprise | None:
    row = conn.execute(_SELECT + " WHERE credit_code = %s", (code,)).fetchone()
    return Enterprise(*row) if row else None


def by_name(conn: Conn, name: str) -> Enterprise | None:
    """The enterprise a name stands for: its current holder, else the last that had it."""
    row = conn.execute(_BY_ANY_NAME, {"n": name}).fetchone()
    return Enterprise(*row) if row else None


def find(conn: Conn, key: str) -> Enterprise | None:
    """By id (digits), credit code (18 characters) or any name it had."""
    if key.isdigit() and len(key) < 18:
        return by_id(conn, int(key))
    return by_code(conn, key.upper()) or by_name(conn, key)


def listed(conn: Conn, prefix: str = "") -> list[Enterprise]:
    """Enterprises whose region (or one of whose stations' regions) starts with prefix."""
    rows = conn.execute(
        _SELECT + " e WHERE coalesce(e.region_code, '') LIKE %(p)s OR EXISTS (SELECT 1"
        " FROM hj212.station s WHERE s.enterprise_id = e.id AND s.region_code LIKE %(p)s)"
        " ORDER BY e.region_code, e.name",
        {"p": prefix + "%"},
    ).fetchall()
    return [Enterprise(*r) for r in rows]


def add(
    conn: Conn, name: str, credit_code: str | None, region_code: str | None, by: str, at: datetime
) -> Enterprise:
    """A new enterprise; :raises EnterpriseError: when the name or code is taken."""
    taken = by_name(conn, name)
    if taken is not None:
        raise EnterpriseError(f"the name {name!r} is (or was) enterprise {taken.id}'s")
    if credit_code and by_code(conn, credit_code):
        raise EnterpriseError(f"credit code {credit_code} is registered already")
    row = conn.execute(
        "INSERT INTO hj212.enterprise (name, credit_code, region_code, created_at)"
        " VALUES (%s, %s, %s, %s) RETURNING id",
        (name, credit_code, region_code, at),
    ).fetchone()
    assert row is not None
    conn.execute(
        "INSERT INTO hj212.enterprise_name (enterprise_id, name, valid_from, changed_by)"
        " VALUES (%s, %s, %s, %s)",
        (row[0], name, at, by),
    )
    found = by_id(conn, row[0])
    assert found is not None
    return found


def set_identity(conn: Conn, ident: int, credit_code: str | None, region_code: str | None) -> None:
    """Sets the credit code and (or) region where given (None leaves it)."""
    try:
        conn.execute(
            "UPDATE hj212.enterprise SET credit_code = coalesce(%s, credit_code),"
            " region_code = coalesce(%s, region_code) WHERE id = %s",
            (credit_code, region_code, ident),
        )
    except psycopg.errors.UniqueViolation:
        raise EnterpriseError(f"credit code {credit_code} is registered already") from None


def rename(conn: Conn, ident: int, name: str, by: str, reason: str, at: datetime) -> None:
    """The current name ends at ``at`` and ``name`` begins; stations and users follow."""
    other = by_name(conn, name)
    if other is not None and other.id != ident:
        raise EnterpriseError(f"the name {name!r} is (or was) enterprise {other.id}'s")
    current = conn.execute(
        "SELECT name, nullif(valid_from, '-infinity') FROM hj212.enterprise_name"
        " WHERE enterprise_id = %s AND valid_to IS NULL FOR UPDATE",
        (ident,),
    ).fetchone()
    if current is None:
        raise EnterpriseError(f"no enterprise {ident}")
    if current[0] == name:
        raise EnterpriseError(f"enterprise {ident} is called {name!r} already")
    if current[1] is not None and current[1] >= at:
        raise EnterpriseError(f"the current name is valid from {current[1]}, after {at}")
    conn.execute(
        "UPDATE hj212.enterprise_name SET valid_to = %s"
        " WHERE enterprise_id = %s AND valid_to IS NULL",
        (at, ident),
    )
    conn.execute(
        "INSERT INTO hj212.enterprise_name"
        " (enterprise_id, name, valid_from, changed_by, reason) VALUES (%s, %s, %s, %s, %s)",
        (ident, name, at, by, reason),
    )
    conn.execute("UPDATE hj212.enterprise SET name = %s WHERE id = %s", (name, ident))
    for table in ("station", "console_user"):  # the text copy (migration 0130)
        conn.execute(
            f"UPDATE hj212.{table} SET enterprise = %s WHERE enterprise_id = %s", (name, ident)
        )


def names(conn: Conn, ident: int) -> list[Name]:
    rows = conn.execute(
        "SELECT name, nullif(valid_from, '-infinity'),"
        " valid_to, changed_by, reason FROM hj212.enterprise_name"
        " WHERE enterprise_id = %s ORDER BY valid_from",
        (ident,),
    ).fetchall()
    return [Name(*r) for r in rows]


def name_at(conn: Conn, ident: int, at: datetime) -> str | None:
    """The name the enterprise had at ``at`` (None before its first name)."""
    row = conn.execute(
        "SELECT name FROM hj212.enterprise_name WHERE enterprise_id = %s"
        " AND valid_from <= %s AND (valid_to IS NULL OR valid_to > %s)",
        (ident, at, at),
    ).fetchone()
    return row[0] if row else None


def stations_of(conn: Conn, ident: int) -> list[tuple[str, str, str, str]]:
    """(mn, station name, outlet, region code) of the enterprise's active stations."""
    rows = conn.execute(
        "SELECT mn, name, outlet, region_code FROM hj212.station"
        " WHERE enterprise_id = %s AND active ORDER BY mn",
        (ident,),
    ).fetchall()
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def link_station(conn: Conn, mn: str, ident: int) -> bool:
    """Moves a station to the enterprise (its name text follows); False: no station."""
    return (
        conn.execute(
            "UPDATE hj212.station SET enterprise_id = %s WHERE mn = %s", (ident, mn)
        ).rowcount
        == 1
    )
