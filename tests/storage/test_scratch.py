"""storage/server.py and storage/scratch.py: the SQL the benchmarks and the test fixtures
use to make scratch databases, fill them in bulk and look at what they hold."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from ops import roles
from protocol.codes import Cn
from services.writer import Writer
from storage import measurements, scratch, server
from tests import databases
from tests.storage.support import running, upload

pytestmark = pytest.mark.db
AT = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)  # 16:00 Beijing time


@pytest.fixture(scope="module")
def scratch_owner(server_dsn: str) -> Iterator[str]:
    """A migrated database of this module's own (its index is dropped and rebuilt), as its
    owner, the role the benchmarks load with."""
    with databases.migrated(server_dsn, "hj212_scratch") as app:
        yield databases.owner_of(app)


def test_databases_are_made_found_and_dropped(server_dsn: str) -> None:
    name = f'hj212_test "odd" name {uuid.uuid4().hex[:6]}'  # quoted as an identifier
    with psycopg.connect(databases.admin_of(server_dsn), autocommit=True) as conn:
        assert not server.database_exists(conn, name)
        assert server.ensure_database(conn, name) is True
        assert server.database_exists(conn, name)
        assert server.ensure_database(conn, name) is False
        with pytest.raises(psycopg.errors.DuplicateDatabase):
            server.create_database(conn, name)
        user = psycopg.connect(roles.with_database(server_dsn, name), autocommit=True)
        try:
            server.drop_database(conn, name)  # its session is ended, not waited for
            with pytest.raises(psycopg.OperationalError):
                user.execute("SELECT 1")
        finally:
            user.close()
        assert not server.database_exists(conn, name)
        server.drop_database(conn, name)  # gone already: nothing to do


def test_versions_name_postgresql_and_timescaledb(owner_dsn: str) -> None:
    with psycopg.connect(owner_dsn) as conn:
        found = server.versions(conn)
        major = conn.info.server_version // 10000
    assert found.postgresql.split(".")[0] == str(major)
    assert found.timescaledb is not None
    assert found.timescaledb[0].isdigit()
    assert found.license in {"apache", "timescale"}


@pytest.mark.anyio
async def test_a_checkpoint_needs_the_right_to_one(owner_dsn: str, dsn: str) -> None:
    async with await psycopg.AsyncConnection.connect(owner_dsn, autocommit=True) as conn:
        row = await (
            await conn.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        ).fetchone()
        assert await server.checkpoint(conn) is bool(row and row[0])
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as app:
        assert await server.checkpoint(app) is False  # hj212_app: NOSUPERUSER


def _minute_rows(mns: list[str], count: int) -> Iterator[tuple[object, ...]]:
    for k in range(count):
        at = AT + timedelta(minutes=10 * k)
        for mn in mns:
            yield (at, mn, Cn.MINUTE, "a21026", 40.0 + k, "N", 0, at)


_COLUMNS = ("data_time", "mn", "cn", "pollutant", "avg", "flag", "frame_id", "received_at")


def test_a_bulk_load_without_the_unique_index_then_with_it(scratch_owner: str) -> None:
    mns = [f"SCRATCH{i:017d}" for i in range(3)]
    with psycopg.connect(scratch_owner) as conn:
        with scratch.copy_rows(conn, "station", ("mn", "name", "medium", "region_code")) as c:
            for mn in mns:
                c.write_row((mn, f"站点 {mn}", "gas", "420102"))
        scratch.drop_measurement_index(conn)
        with scratch.copy_measurements(conn, _COLUMNS) as copy:
            for row in _minute_rows(mns, 4):
                copy.write_row(row)
        scratch.restore_measurement_index(conn)
        conn.commit()
        assert measurements.count(conn) == 12
        assert scratch.measurement_keys(conn, "a21026") == {
            (mn, f"2026110116{10 * k:02d}00") for mn in mns for k in range(4)
        }
        assert scratch.measurement_keys(conn, "a21002") == set()
        # the rebuilt index is the unique one: a record stored twice is refused again
        with pytest.raises(psycopg.errors.UniqueViolation), conn.transaction():
            with scratch.copy_measurements(conn, _COLUMNS) as copy:
                copy.write_row(next(_minute_rows(mns, 1)))
        names = conn.execute(
            "SELECT count(*) FROM hj212.station WHERE mn = ANY(%s) AND name LIKE '站点 %%'",
            (mns,),
        ).fetchone()
    assert names == (3,)


def test_a_bulk_load_refuses_a_column_the_table_does_not_have(scratch_owner: str) -> None:
    with (
        psycopg.connect(scratch_owner) as conn,
        pytest.raises(ValueError, match="no column value"),
        scratch.copy_measurements(conn, ("data_time", "value")),
    ):
        pass


@pytest.mark.anyio
async def test_every_measurement_column_in_one_async_copy(scratch_owner: str) -> None:
    mn = f"ASYNC{uuid.uuid4().hex[:19].upper()}"
    values = (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0)
    row = (AT, mn, Cn.REALTIME, "a21026", *values, "N", "E", 7, AT + timedelta(seconds=2))
    columns = tuple(scratch.MEASUREMENT_TYPES)
    async with await psycopg.AsyncConnection.connect(scratch_owner) as conn:
        async with conn.transaction(), scratch.copy_measurements_async(conn, columns) as copy:
            await copy.write_row(row)
        cur = await conn.execute(
            "SELECT data_time, mn, cn, pollutant, rtd, min, avg, max, cou, zs_rtd, zs_min,"
            " zs_avg, zs_max, flag, eflag, frame_id, received_at"
            " FROM hj212.measurement WHERE mn = %s",
            (mn,),
        )
        stored = await cur.fetchall()
    assert stored == [row]


def test_seeded_alarms_and_cases_are_open(scratch_owner: str) -> None:
    mn = f"SEED{uuid.uuid4().hex[:20].upper()}"
    with psycopg.connect(scratch_owner) as conn:
        with scratch.copy_rows(conn, "station", ("mn", "name", "medium", "region_code")) as c:
            c.write_row((mn, "s", "gas", "420102"))
        scratch.add_alarm(conn, f"k:{mn}", mn, "a21026", AT, 120.0, 100.0)
        scratch.add_outage_case(conn, f"k:{mn}", mn, AT, AT + timedelta(hours=24), AT)
        conn.commit()
        alarm = conn.execute(
            "SELECT kind, pollutant, value, threshold FROM hj212.alarm WHERE mn = %s", (mn,)
        ).fetchall()
        case = conn.execute(
            "SELECT kind, state, opened_at, report_due FROM hj212.case WHERE mn = %s", (mn,)
        ).fetchall()
    assert alarm == [("exceedance", "a21026", 120.0, 100.0)]
    assert case == [("outage", "open", AT, AT + timedelta(hours=24))]


@pytest.mark.anyio
async def test_frames_are_counted_by_status_and_cn(scratch_owner: str) -> None:
    mn = f"CNT{uuid.uuid4().hex[:21].upper()}"
    async with running(Writer(scratch_owner)) as writer:
        assert await writer.submit(upload(mn, raw=b"one")) == "ok"
        assert await writer.submit(upload(mn, raw=b"again")) == "duplicate"
        assert await writer.submit(upload(mn, AT + timedelta(minutes=1), raw=b"two")) == "ok"
        hourly = upload(mn, AT, cn=Cn.HOURLY, raw=b"hour")
        assert await writer.submit(hourly) == "ok"
    with psycopg.connect(scratch_owner) as conn:
        assert scratch.count_frames(conn, "ok", Cn.REALTIME) == 2
        assert scratch.count_frames(conn, "duplicate", Cn.REALTIME) == 1
        assert scratch.count_frames(conn, "ok", Cn.HOURLY) == 1
        assert scratch.count_frames(conn, "rejected", Cn.REALTIME) == 0
