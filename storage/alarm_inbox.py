"""The alarm inbox as a work queue: alarms grouped by station and kind, with counts, the
newest time and the worst severity, filtered and paged (docs/console.md §4).

Jurisdiction is the console's (storage/console_queries.py ``SCOPE``): a region-code
prefix and, for an enterprise user, its enterprise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg.rows import class_row

from storage.console_queries import SCOPE
from storage.db import Conn


@dataclass(frozen=True)
class Filters:
    states: tuple[str, ...] = ("open", "acknowledged")
    region: str = ""  # a region-code prefix inside the user's own
    kind: str | None = None
    severity: str | None = None
    mn: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class Group:
    mn: str
    station: str
    region_code: str
    kind: str
    count: int
    open: int  # not acknowledged yet
    ongoing: int  # not cleared by the data yet (cleared_at empty)
    critical: bool
    newest: datetime  # the newest raised_at
    newest_data: datetime | None  # the newest data hour concerned
    pollutants: list[str]
    ids: list[int]  # newest first, for bulk acknowledgement


_WHERE = f"""
FROM hj212.alarm a JOIN hj212.station s ON s.mn = a.mn
WHERE a.state = ANY(%(states)s) AND {SCOPE}
  AND s.region_code LIKE %(region)s || '%%'
  AND (%(kind)s::text IS NULL OR a.kind = %(kind)s)
  AND (%(severity)s::text IS NULL OR a.severity = %(severity)s)
  AND (%(mn)s::text IS NULL OR a.mn = %(mn)s)
  AND (%(since)s::timestamptz IS NULL OR a.raised_at >= %(since)s)
  AND (%(until)s::timestamptz IS NULL OR a.raised_at < %(until)s)
"""

_GROUPS = f"""
SELECT a.mn, s.name AS station, s.region_code, a.kind, count(*)::int AS count,
  (count(*) FILTER (WHERE a.state = 'open'))::int AS open,
  (count(*) FILTER (WHERE a.cleared_at IS NULL))::int AS ongoing,
  bool_or(a.severity = 'critical') AS critical, max(a.raised_at) AS newest,
  max(a.data_time) AS newest_data,
  array_remove(array_agg(DISTINCT a.pollutant), NULL) AS pollutants,
  array_agg(a.id ORDER BY a.raised_at DESC, a.id DESC) AS ids
{_WHERE}
GROUP BY a.mn, s.name, s.region_code, a.kind
ORDER BY bool_or(a.severity = 'critical') DESC, max(a.raised_at) DESC, a.mn, a.kind
LIMIT %(limit)s OFFSET %(offset)s
"""

_TOTALS = f"""
SELECT count(DISTINCT (a.mn, a.kind))::int, count(*)::int,
  (count(*) FILTER (WHERE a.severity = 'critical'))::int
{_WHERE}
"""

_KINDS = f"SELECT a.kind, count(*)::int {_WHERE} GROUP BY a.kind ORDER BY 2 DESC"


def _params(f: Filters, prefix: str, enterprise: str | None) -> dict[str, Any]:
    return {
        "states": list(f.states),
        "prefix": prefix,
        "enterprise": enterprise,
        "region": f.region,
        "kind": f.kind,
        "severity": f.severity,
        "mn": f.mn,
        "since": f.since,
        "until": f.until,
    }


def groups(
    conn: Conn,
    f: Filters,
    prefix: str,
    enterprise: str | None,
    *,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[Group], dict[str, int]]:
    """One page of groups (critical first, then newest) and the totals of the filter:
    groups, alarms, critical alarms, and the count per kind."""
    params = _params(f, prefix, enterprise)
    with conn.cursor(row_factory=class_row(Group)) as cur:
        cur.execute(_GROUPS.encode(), {**params, "limit": limit, "offset": offset})
        page = cur.fetchall()
    row = conn.execute(_TOTALS.encode(), params).fetchone()
    n_groups, n_alarms, n_critical = row if row else (0, 0, 0)
    kinds = {str(k): int(n) for k, n in conn.execute(_KINDS.encode(), params).fetchall()}
    totals = {"groups": n_groups, "alarms": n_alarms, "critical": n_critical}
    return page, {**totals, **{f"kind:{k}": n for k, n in kinds.items()}}


def visible_ids(conn: Conn, ids: list[int], prefix: str, enterprise: str | None) -> list[int]:
    """The alarms of ``ids`` inside the jurisdiction (a bulk step touches no other)."""
    rows = conn.execute(
        "SELECT a.id FROM hj212.alarm a JOIN hj212.station s ON s.mn = a.mn"
        f" WHERE a.id = ANY(%(ids)s) AND {SCOPE} ORDER BY a.id".encode(),
        {"ids": ids, "prefix": prefix, "enterprise": enterprise},
    ).fetchall()
    return [int(r[0]) for r in rows]
