"""The audit log is append-only: the database itself refuses edits, even its owner's
(the application's role may not even try: tests/security/test_roles.py)."""

from __future__ import annotations

import psycopg
import pytest

pytestmark = pytest.mark.db


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE hj212.audit_log SET actor = 'someone else'",
        "DELETE FROM hj212.audit_log",
        "TRUNCATE hj212.audit_log",
    ],
)
def test_the_audit_log_refuses_update_delete_and_truncate(owner_dsn: str, sql: str) -> None:
    with psycopg.connect(owner_dsn) as conn:
        conn.execute(
            "INSERT INTO hj212.audit_log (action, object, detail)"
            " VALUES ('test', 'audit_log', '{\"why\": \"a row to refuse changing\"}')"
        )
        conn.commit()
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
            conn.execute(sql)
        conn.rollback()
        left = conn.execute("SELECT count(*) FROM hj212.audit_log WHERE action = 'test'")
        assert left.fetchone() != (0,)
