"""services/backfill.py against the real database: what is asked, how often, and a
station that never answers is reported, not asked forever (docs/forwarding.md §6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from config.settings import BackfillSettings
from services.backfill import Backfill
from storage.db import async_pool
from tests.gateway.support import new_mn, register, rows

pytestmark = [pytest.mark.db, pytest.mark.anyio]
CFG = BackfillSettings(min_interval=600.0, max_tries=2, retry_after=86400.0)
T0 = datetime(2026, 5, 6, 1, 30, tzinfo=UTC)


async def test_a_station_that_never_answers_is_reported_and_left_alone(dsn: str) -> None:
    mn = new_mn()
    register(dsn, mn, medium="gas")
    with psycopg.connect(dsn) as conn:  # monitored for 5 h, nothing ever stored
        conn.execute(
            "UPDATE hj212.station SET created_at = %s WHERE mn = %s", (T0 - timedelta(hours=5), mn)
        )
    now = [T0]
    pool = async_pool(dsn, name="test")
    await pool.open()
    try:
        backfill = Backfill(pool, CFG, lambda: {mn: "31"}, lambda: now[0])
        first = await backfill.check(mn, "31")
        assert first is not None
        assert await backfill.check(mn, "31") is None  # rate-limited: asked a moment ago
        now[0] += timedelta(minutes=10)
        assert await backfill.check(mn, "31") is not None  # nothing came: tries 2
        now[0] += timedelta(minutes=10)
        assert await backfill.check(mn, "31") is None  # tries 3 > 2: reported
        now[0] += timedelta(hours=2)
        assert await backfill.check(mn, "31") is None  # and left alone until retry_after
    finally:
        await pool.close()
    asked = rows(
        dsn,
        "SELECT cn, cp, requested_by FROM hj212.command WHERE mn = %s ORDER BY id",
        mn,
    )
    # 2061 and, for flue gas, 2051 too (Beijing time: 09:30 now, monitored since 04:30,
    # so the hours 05:00 .. 08:00 ended and judged)
    assert [a[0] for a in asked] == ["2061", "2051", "2061", "2051"]
    assert asked[0][1] == "BeginTime=20260506050000;EndTime=20260506080000"
    assert asked[1][1] == "BeginTime=20260506050000;EndTime=20260506085900"
    assert {a[2] for a in asked} == {"backfill"}
    ((gave_up, tries),) = rows(
        dsn, "SELECT gave_up_at, tries FROM hj212.backfill WHERE mn = %s", mn
    )
    assert (gave_up, tries) == (T0 + timedelta(minutes=20), 3)
    audit = rows(
        dsn,
        "SELECT detail FROM hj212.audit_log WHERE action = 'backfill-unanswered' AND mn = %s",
        mn,
    )
    assert [(d["missing_hours"], d["requests"]) for (d,) in audit] == [(4, 2)]
