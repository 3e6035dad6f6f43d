"""Sign-in throttling by name *and* source, in the database (migration 0061).

An attempt is counted *before* its password is checked, by one atomic upsert per key
(``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``): concurrent attempts queue on the
key's row lock and each gets its own number, so no more than the limit are ever
checked in a window, however many arrive at once, in however many console processes.
A correct sign-in gives its slots back (the (name, source) count is cleared, the
source's count lowered by one), so the counts are of failures.

Two counts refuse an attempt (HTTP 429): ``per_name`` failures at one name from one
source, and ``per_source`` failures at any names from one source. There is on purpose no
count per name over all sources: that would let anyone lock a user out with a few requests; a
user whose name is being guessed from elsewhere still signs in from its own source.

Failed attempts reach the hash-chained audit log only as events (the first failure of a
name from a source in a window, and each key becoming blocked), and at most
``audit_budget`` such entries per window over all sources, then one entry saying the
rest were suppressed: unauthenticated traffic cannot flood the chain. The counts
themselves stay here until their window ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from storage import audit
from storage.db import Conn

ANY = ""  # the name of a source's own count, the source of the audit budget


@dataclass(frozen=True)
class Limits:
    per_name: int = 5
    per_source: int = 30
    window: timedelta = timedelta(minutes=15)
    audit_budget: int = 100


@dataclass(frozen=True)
class Attempt:
    """What counting one attempt found: allowed to check its password, or refused."""

    allowed: bool
    name_attempts: int  # this attempt's number at (name, source); 0 if not counted
    source_attempts: int  # its number at (any name, source)
    blocked_now: str | None = None  # "name" or "source" when this attempt blocked it


_COUNT = """
INSERT INTO hj212.sign_in_throttle AS t (name, source, window_start, attempts)
VALUES (%(name)s, %(source)s, statement_timestamp(), 1)
ON CONFLICT (name, source) DO UPDATE SET
    window_start = CASE WHEN t.window_start <= statement_timestamp() - %(window)s
                        THEN statement_timestamp() ELSE t.window_start END,
    attempts = CASE WHEN t.window_start <= statement_timestamp() - %(window)s
                    THEN 1 ELSE t.attempts + 1 END
RETURNING attempts
"""


def _count(conn: Conn, name: str, source: str, window: timedelta) -> int:
    row = conn.execute(_COUNT, {"name": name, "source": source, "window": window}).fetchone()
    assert row is not None
    return int(row[0])


def reserve(conn: Conn, name: str, source: str, limits: Limits) -> Attempt:
    """Count one attempt at ``name`` from ``source`` (the source first: a blocked source
    adds no per-name rows, so guessing many names from it adds nothing)."""
    at_source = _count(conn, ANY, source, limits.window)
    if at_source > limits.per_source:
        blocked = "source" if at_source == limits.per_source + 1 else None
        return Attempt(False, 0, at_source, blocked)
    at_name = _count(conn, name, source, limits.window)
    if at_name > limits.per_name:
        blocked = "name" if at_name == limits.per_name + 1 else None
        return Attempt(False, at_name, at_source, blocked)
    return Attempt(True, at_name, at_source)


def succeeded(conn: Conn, name: str, source: str, limits: Limits) -> None:
    """A correct sign-in: its name's failures from this source are forgiven, its slot at
    the source given back; counts of ended windows are dropped meanwhile."""
    with conn.transaction():
        conn.execute(
            "DELETE FROM hj212.sign_in_throttle WHERE name = %s AND source = %s", (name, source)
        )
        conn.execute(
            "UPDATE hj212.sign_in_throttle SET attempts = greatest(attempts - 1, 0)"
            " WHERE name = %s AND source = %s",
            (ANY, source),
        )
        conn.execute(
            "DELETE FROM hj212.sign_in_throttle WHERE window_start < statement_timestamp() - %s",
            (limits.window,),
        )


def record(conn: Conn, limits: Limits, name: str, action: str, detail: dict[str, object]) -> bool:
    """Write one audit entry about an unauthenticated attempt, within the window's budget;
    whether it was written."""
    spent = _count(conn, ANY, ANY, limits.window)
    if spent <= limits.audit_budget:
        audit.append(conn, name, action, "console:session", detail)
        return True
    if spent == limits.audit_budget + 1:
        note = {
            "budget": limits.audit_budget,
            "window_minutes": limits.window.total_seconds() / 60,
            "why": "more failed sign-ins in this window are counted, not logged one by one",
        }
        audit.append(conn, "console", "login-audit-suppressed", "console:session", note)
    return False


def clear(conn: Conn, name: str) -> int:
    """Forget the failures counted against ``name`` from every source (an administrator
    unblocking a user); how many sources had any."""
    cur = conn.execute("DELETE FROM hj212.sign_in_throttle WHERE name = %s", (name,))
    return cur.rowcount
