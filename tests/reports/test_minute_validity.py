"""Which minute records count toward an hour's 45 valid minutes is decided once, by
rules.validity.valid_value: what the figures read from the database equals that rule
applied record by record, in the cases where the SQL copy it replaced differed (a mark
whose category is spelled with spaces or capitals and does not invalidate; a record
flagged N without a value)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import psycopg
import pytest

from rules.model import Reading, Record
from rules.times import HOUR, us
from rules.validity import valid_value
from storage import reports_queries
from tests.rules.support import gas_station
from tests.rules_db import fresh_database, register, store

pytestmark = pytest.mark.db

MN = "MINUTES00000000000000001"
START = datetime.fromisoformat("2026-10-05T00:00:00+08:00")
M = timedelta(minutes=10)


def _flag(h: int, k: int) -> str | None:
    if h == 1:
        return {0: "D", 1: "D", 2: None}.get(k, "N")  # two faults; no flag is normal
    return "N"


def _records() -> list[Record]:
    out = []
    for h in range(7):
        for k in range(6):
            at = START + h * 6 * M + k * M
            value = None if (h == 2 and k == 0) else 20.0  # flagged N, but no value
            readings = {
                code: Reading(avg=value, min=value, max=value, flag=_flag(h, k))
                for code in ("a21026", "a21002")
            }
            out.append(Record(MN, "2051", at + M, at, readings))
    return out


MARKS = [  # (hour, minutes covered from its start, pollutant, category, invalidates)
    (3, 20, "a21026", "maintenance", True),  # SO2's first two minutes invalid
    (5, 30, None, " Exempt ", False),  # an exemption spelled loosely: three minutes out
    (6, 60, None, "note", False),  # neither invalidating nor a kind: no effect
]


@pytest.fixture(scope="module")
def stored(server_dsn: str) -> Iterator[str]:
    with fresh_database(server_dsn) as dsn:
        register(dsn, [gas_station(MN)], START - timedelta(days=10))
        assert set(store(dsn, _records())) == {"ok"}
        with psycopg.connect(dsn) as conn:
            for hour, minutes, pollutant, category, invalidates in MARKS:
                begin = START + hour * 6 * M
                conn.execute(
                    "INSERT INTO hj212.data_mark (mn, pollutant, period, category, invalidates)"
                    " VALUES (%s, %s, tstzrange(%s, %s), %s, %s)",
                    (MN, pollutant, begin, begin + timedelta(minutes=minutes), category,
                     invalidates),
                )  # fmt: skip
            # hour 4: a maintenance mark, then revoked (it no longer applies)
            begin = START + 4 * 6 * M
            row = conn.execute(
                "INSERT INTO hj212.data_mark (mn, period, category) VALUES"
                " (%s, tstzrange(%s, %s), 'maintenance') RETURNING id",
                (MN, begin, begin + timedelta(hours=1)),
            ).fetchone()
            assert row is not None
            conn.execute(
                "INSERT INTO hj212.data_mark (mn, period, category, revokes) VALUES"
                " (%s, tstzrange(%s, %s), 'maintenance', %s)",
                (MN, begin, begin + timedelta(hours=1), row[0]),
            )
        yield dsn


def test_stored_minutes_are_judged_by_the_one_rule(stored: str) -> None:
    end = START + timedelta(hours=7)
    with psycopg.connect(stored) as conn:
        data = reports_queries.period_data(conn, [MN], START, end)[MN]
    by_hand = {
        **{(code, 0): 6 for code in ("a21026", "a21002")},
        **{(code, 1): 4 for code in ("a21026", "a21002")},  # two D; None is normal
        **{(code, 2): 5 for code in ("a21026", "a21002")},  # one without a value
        ("a21026", 3): 4,  # two under maintenance
        ("a21002", 3): 6,  # the mark is SO2's
        **{(code, 4): 6 for code in ("a21026", "a21002")},  # the mark was revoked
        **{(code, 5): 3 for code in ("a21026", "a21002")},  # exempt, loosely spelled
        **{(code, 6): 6 for code in ("a21026", "a21002")},  # a note does nothing
    }
    hour0 = us(START)
    assert {(c, (h - hour0) // HOUR): n for (c, h), n in data.minutes.items()} == by_hand
    # and the same, record by record, by the rule itself with the marks in force
    rule: dict[tuple[str, int], int] = {}
    for record in _records():
        for code, reading in record.readings.items():
            assert record.data_time is not None
            at = us(record.data_time)
            if valid_value(reading, data.marks, code, at):
                key = (code, (at - hour0) // HOUR)
                rule[key] = rule.get(key, 0) + 1
    assert rule == by_hand
