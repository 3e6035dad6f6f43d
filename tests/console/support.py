"""Stations, data and users for the console tests, written straight into the database."""

from __future__ import annotations

import hashlib
import os
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from playwright.sync_api import Page, expect

from console.auth import hash_password
from storage import console_store

PASSWORD = "correct horse battery"


def screenshots() -> Path:
    """Where the browser tests put their screenshots: ``$HJ212_ARTIFACTS/screenshots``,
    else ``hj212-screenshots-<checkout>`` in the system's temporary directory; never the
    checkout itself."""
    if os.environ.get("HJ212_ARTIFACTS"):
        where = Path(os.environ["HJ212_ARTIFACTS"]) / "screenshots"
    else:  # one per checkout, so that worktrees testing at once keep theirs apart
        tag = hashlib.sha256(str(Path(__file__).resolve()).encode()).hexdigest()[:8]
        where = Path(tempfile.gettempdir()) / f"hj212-screenshots-{tag}"
    where.mkdir(parents=True, exist_ok=True)
    return where


def sign_in(page: Page, name: str, password: str = PASSWORD) -> None:
    """Sign in through the console's own form, and wait until it names the user."""
    page.fill("#login-name", name)
    page.fill("#login-password", password)
    page.click("#login-submit")
    expect(page.locator("#who")).to_contain_text(name)


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(screenshots() / f"{name}.png"), full_page=True)


def seed(dsn: str, tag: str) -> dict[str, str]:
    """Two stations, Wuhan (4201) and Yichang (4205), with 2 h of real-time data, a
    flagged stretch, an open alarm and an overdue case in Wuhan; users of each kind."""
    now = datetime.now(UTC)
    wuhan, yichang = f"W{tag}", f"Y{tag}"
    with psycopg.connect(dsn) as conn:
        for mn, region, name in ((wuhan, "420102", "武汉热电"), (yichang, "420502", "宜昌化工")):
            conn.execute(
                "INSERT INTO hj212.station (mn, name, enterprise, medium, region_code)"
                " VALUES (%s, %s, %s, 'gas', %s)",
                (mn, name, f"E{mn}", region),
            )
            conn.execute(
                "INSERT INTO hj212.station_pollutant (mn, pollutant, emission_limit, unit)"
                " VALUES (%s, 'a21026', 50, 'mg/m3')",
                (mn,),
            )
            conn.execute(
                "INSERT INTO hj212.chain_head (chain, updated_at, accepted_at, data_high)"
                " VALUES (%s, %s, %s, '{\"2011\": 0}')",
                (mn, now, now),
            )
            rows = [
                (
                    now - timedelta(minutes=i),
                    mn,
                    "2011",
                    "a21026",
                    30 + i % 7,
                    "D" if i < 5 else "N",
                )
                for i in range(120)
            ]
            # registered three days ago, with hourly records for 48 of its 72 hours: the
            # transmission-rate page has days to draw
            conn.execute(
                "UPDATE hj212.station SET created_at = %s WHERE mn = %s",
                (now - timedelta(days=3), mn),
            )
            hour = now.replace(minute=0, second=0, microsecond=0)
            rows += [
                (hour - timedelta(hours=h), mn, "2061", "a21026", 31, "N") for h in range(1, 49)
            ]
            with conn.cursor().copy(
                "COPY hj212.measurement (data_time, mn, cn, pollutant, rtd, flag, frame_id,"
                " received_at) FROM STDIN"
            ) as copy:
                for t, m, cn, p, v, f in rows:
                    copy.write_row((t, m, cn, p, v, f, 0, t))
        conn.execute(
            "INSERT INTO hj212.alarm (key, mn, pollutant, kind, severity, raised_at, value,"
            " threshold) VALUES (%s, %s, 'a21026', 'exceedance', 'critical', %s, 61, 50)",
            (f"{wuhan}:x:1", wuhan, now - timedelta(minutes=30)),
        )
        conn.execute(
            "INSERT INTO hj212.case (key, mn, kind, opened_at, report_due, restore_due)"
            " VALUES (%s, %s, 'outage', %s, %s, %s)",
            (f"{wuhan}:c:1", wuhan, now - timedelta(days=2), now - timedelta(days=1), now),
        )
        users = {
            "admin": ("administrator", "", ""),
            "wuhan": ("operator", "4201", ""),
            "yichang": ("inspector", "4205", ""),
            "firm": ("enterprise", "", f"E{yichang}"),
        }
        for role_name, (role, prefix, firm) in users.items():
            console_store.add_user(
                conn, f"{role_name}{tag}", hash_password(PASSWORD), role, prefix, firm
            )
    return {"wuhan": wuhan, "yichang": yichang}
