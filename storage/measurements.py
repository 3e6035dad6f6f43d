"""``hj212.measurement`` as a whole (the per-window reads are where their readers are:
storage/rules_inputs.py, storage/reports_queries.py, storage/station_history.py)."""

from __future__ import annotations

import psycopg
from psycopg.rows import TupleRow


def count(conn: psycopg.Connection[TupleRow]) -> int:
    """How many measurement rows are stored (the demo's progress line)."""
    row = conn.execute("SELECT count(*) FROM hj212.measurement").fetchone()
    return int(row[0]) if row else 0
