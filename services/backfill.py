"""Back-fill (补传): ask connected stations for the hours they did not send
(docs/forwarding.md §6).

Every ``every`` seconds, and soon after a station connects, each connected station's
hour records (2061) of the last ``lookback_hours`` are looked at (storage/queries.py
``gaps``); an hour ended more than ``grace`` ago with no record is missing. The oldest
missing stretch (at most ``max_hours``) is asked for with 2061, and for a flue-gas
station with 2051 too, ``BeginTime``/``EndTime`` per HJ 212-2017 Table C (C.20-C.23),
queued as platform commands requested by ``backfill``: the gateway sends them like any
other, and the records the station sends back are stored as data, which the figures
count (the completion variant, docs/regulations.md §1.7). One request per station per
``min_interval``; after ``max_tries`` requests in a row that brought nothing the
station is reported (audit entry ``backfill-unanswered``) and left alone for
``retry_after``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

from config.settings import BackfillSettings
from protocol import encode, format_time
from protocol.codes import Cn
from storage import backfill as store
from storage import commands
from storage.db import AsyncConn, AsyncPool
from storage.queries import Gap, gaps_async

log = logging.getLogger(__name__)
HOUR = timedelta(hours=1)
ROUNDS_ALL = 3  # every connected station is looked at every third round
GAS = "31"  # ST of an air pollution source: its minute records are asked for too


@dataclass(frozen=True)
class Request:
    """What to ask one station for: the hours [first, last] (their starts)."""

    first: datetime
    last: datetime
    missing: int  # hours missing in the whole lookback


def floor_hour(t: datetime) -> datetime:
    return t.replace(minute=0, second=0, microsecond=0)


def ceil_hour(t: datetime) -> datetime:
    return floor_hour(t) if t == floor_hour(t) else floor_hour(t) + HOUR


def plan(found: list[Gap], missing: int) -> Request | None:
    """The oldest missing stretch, from the gaps of the hour records."""
    if not found:
        return None
    gap = found[0]
    first = gap.after + HOUR
    return Request(first, gap.before - HOUR, missing)


def decide(
    request: Request, before: store.Asked | None, now: datetime, cfg: BackfillSettings
) -> tuple[bool, int]:
    """Whether to ask now, and the count of requests in a row without progress."""
    if before is None:
        return True, 1
    since = (now - before.asked_at).total_seconds()
    if before.gave_up_at is not None:
        return since >= cfg.retry_after, 1
    if since < cfg.min_interval:
        return False, before.tries
    progress = request.missing < before.missing or request.first > before.window_start
    return True, 1 if progress else before.tries + 1


class Backfill:
    """``connected`` gives the MNs with a live connection and their ST; ``now`` the
    platform's clock."""

    def __init__(
        self,
        db: AsyncPool,
        cfg: BackfillSettings,
        connected: Callable[[], Mapping[str, str]],
        now: Callable[[], datetime],
    ) -> None:
        self.db, self.cfg, self.connected, self.now = db, cfg, connected, now
        self.soon: set[str] = set()
        self._rounds = 0

    def reconnected(self, mn: str) -> None:
        """A station (re)connected: looked at in the next round, once what it resends
        of its own accord has had time to arrive."""
        self.soon.add(mn)

    async def run(self) -> None:
        """A round every ``every`` seconds: the stations that reconnected, and every
        connected station each ``ROUNDS_ALL`` rounds."""
        while True:
            await asyncio.sleep(self.cfg.every)
            self._rounds += 1
            live = self.connected()
            wanted, self.soon = self.soon, set()
            if self._rounds % ROUNDS_ALL == 0:
                wanted |= set(live)
            for mn in sorted(wanted):
                if mn in live:
                    try:
                        await self.check(mn, live[mn])
                    except (OSError, psycopg.Error) as exc:
                        log.warning("back-fill of %s not looked at: %s", mn, exc)

    async def check(self, mn: str, st: str) -> int | None:
        """Ask ``mn`` for its oldest missing hours if it is due; the command id."""
        cfg, now = self.cfg, self.now()
        end = floor_hour(now - timedelta(seconds=cfg.grace))  # hours before it: judged
        async with self.db.connection() as conn:
            since = await store.monitored_since(conn, mn)
            start = end - timedelta(hours=cfg.lookback_hours)
            if since is not None:  # expected from the first whole hour it was monitored
                start = max(start, ceil_hour(since))
            if start >= end:
                return None
            found = await gaps_async(conn, mn, start, end, Cn.HOURLY, HOUR)
            request = plan(found, sum(g.missing for g in found))
            if request is None:
                return None
            before = await store.asked(conn, mn)
            ask, tries = decide(request, before, now, cfg)
            if not ask:
                return None
            last = min(request.last, request.first + HOUR * (cfg.max_hours - 1))
            if tries > cfg.max_tries:  # it never answers: reported, not asked forever
                log.warning("station %s never answered back-fill requests: reported", mn)
                gave_up = store.Asked(
                    mn, request.first, last, request.missing, tries, now, now, None
                )
                await store.record(conn, gave_up)
                return None
            command = await self._ask(conn, mn, st, request.first, last, now)
            entry = store.Asked(mn, request.first, last, request.missing, tries, now, None, command)
            await store.record(conn, entry)
        log.info(
            "back-fill: asked %s for %s .. %s (%d h missing)",
            mn,
            request.first,
            last,
            request.missing,
        )
        return command

    async def _ask(
        self, conn: AsyncConn, mn: str, st: str, first: datetime, last: datetime, now: datetime
    ) -> int:
        hourly: dict[str, object] = {"BeginTime": format_time(first), "EndTime": format_time(last)}
        qn = encode.new_qn(now)
        command = await commands.queue(conn, mn, Cn.HOURLY, hourly, qn, st, "backfill")
        if st == GAS:  # the minute records of the same hours (HJ 212-2017 C.22)
            minutes: dict[str, object] = {
                "BeginTime": format_time(first),
                "EndTime": format_time(last + HOUR - timedelta(minutes=1)),
            }
            qn = encode.new_qn(now + timedelta(milliseconds=1))
            await commands.queue(conn, mn, Cn.MINUTE, minutes, qn, st, "backfill")
        return command
