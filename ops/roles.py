"""DSN arithmetic for the database roles: the same server as another user or another
database. No SQL here; the role itself is made by :func:`storage.roles.ensure_login`.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit, urlunsplit

from psycopg.conninfo import conninfo_to_dict, make_conninfo


def with_login(dsn: str, user: str, password: str) -> str:
    """``dsn`` with another user and password (same server, same database)."""
    if "://" in dsn:
        parts = urlsplit(dsn)
        host = parts.netloc.rsplit("@", 1)[-1]
        netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{host}"
        return urlunsplit(parts._replace(netloc=netloc))
    return make_conninfo(dsn, user=user, password=password)


def with_database(dsn: str, name: str) -> str:
    """``dsn`` for another database on the same server, as the same user."""
    if "://" in dsn:
        parts = urlsplit(dsn)
        return urlunsplit(parts._replace(path="/" + quote(name, safe="")))
    return make_conninfo(dsn, dbname=name)


def user_of(dsn: str) -> str | None:
    """The user a DSN connects as, if it names one."""
    user = conninfo_to_dict(dsn).get("user")
    return str(user) if user is not None else None
