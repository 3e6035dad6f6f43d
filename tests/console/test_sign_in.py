"""Sign-in throttling and what unauthenticated traffic may write, on the real database
and a real server behind a (simulated) trusted proxy: the test plays the proxy and says
in X-Forwarded-For which source each request comes from."""

from __future__ import annotations

import contextlib
import random
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from httpx import Client

from config.settings import ConsoleSettings
from console.app import create_app, sign_in_limits
from console.auth import hash_password
from storage import console_store
from tests.console.conftest import serving
from tests.console.support import PASSWORD

pytestmark = pytest.mark.db
SETTINGS = ConsoleSettings(trusted_proxies=("127.0.0.1",), cookie_secure=True)
LIMITS = sign_in_limits(SETTINGS)


@pytest.fixture(scope="module")
def proxied(dsn: str) -> Iterator[str]:
    with serving(create_app(dsn, SETTINGS)) as url:
        yield url


def source() -> str:
    """A source address of its own for each test (TEST-NET-2, and random: the counts of
    one test must not reach another's)."""
    return f"198.51.{random.randrange(256)}.{random.randrange(1, 255)}"


def login(url: str | Client, name: str, password: str, src: str) -> int:
    with contextlib.ExitStack() as stack:
        c = url if isinstance(url, Client) else stack.enter_context(Client(base_url=url))
        answer = c.post(
            "/api/login",
            json={"name": name, "password": password},
            headers={"X-Forwarded-For": src},
        )
        return answer.status_code


def a_user(dsn: str) -> str:
    name = f"u{uuid.uuid4().hex[:8]}"
    with psycopg.connect(dsn) as conn:
        console_store.add_user(conn, name, hash_password(PASSWORD), "inspector", "4201")
    return name


def audit_count(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT count(*) FROM hj212.audit_log").fetchone()
    assert row is not None
    return int(row[0])


def fresh_budget(dsn: str) -> None:
    """Start a new audit-budget window (the budget is shared by the whole database)."""
    with psycopg.connect(dsn) as conn:
        conn.execute("DELETE FROM hj212.sign_in_throttle WHERE name = '' AND source = ''")


def test_failures_from_one_source_do_not_lock_the_user_out_elsewhere(
    proxied: str, dsn: str
) -> None:
    name, attacker, office = a_user(dsn), source(), source()
    answers = [login(proxied, name, f"guess-{i}", attacker) for i in range(100)]
    assert answers[: LIMITS.per_name] == [401] * LIMITS.per_name
    assert set(answers[LIMITS.per_name :]) == {429}
    assert login(proxied, name, PASSWORD, attacker) == 429  # the right one too, from there
    assert login(proxied, name, PASSWORD, office) == 200  # but the user signs in
    assert login(proxied, name, PASSWORD, office) == 200


def test_many_names_from_one_source_are_throttled_by_the_source(proxied: str, dsn: str) -> None:
    attacker = source()
    answers = [login(proxied, f"n{uuid.uuid4().hex[:8]}", "guess", attacker) for _ in range(40)]
    assert answers.count(401) == LIMITS.per_source
    assert answers[LIMITS.per_source :] == [429] * (40 - LIMITS.per_source)
    # a correct sign-in gives its slot back: a busy office behind one address is not
    # throttled by its own successful sign-ins
    office, name = source(), a_user(dsn)
    assert all(login(proxied, name, PASSWORD, office) == 200 for _ in range(LIMITS.per_source + 5))


def test_parallel_guesses_get_no_more_checks_than_the_limit(proxied: str, dsn: str) -> None:
    name, attacker = a_user(dsn), source()
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda i: login(proxied, name, f"g{i}", attacker), range(48)))
    assert answers.count(401) == LIMITS.per_name  # exactly: counted before checking
    assert answers.count(429) == 48 - LIMITS.per_name


def test_a_thousand_unauthenticated_attempts_add_a_bounded_number_of_audit_rows(
    proxied: str, dsn: str
) -> None:
    """From one source: the first failure of each name until the source is blocked, and
    one entry for the block. Bound: per_source + 1 (31 with the defaults)."""
    fresh_budget(dsn)
    attacker = source()
    before = audit_count(dsn)
    with Client(base_url=proxied) as c:
        answers = [login(c, f"r{uuid.uuid4().hex[:10]}", "guess", attacker) for _ in range(1000)]
    added = audit_count(dsn) - before
    assert answers.count(401) == LIMITS.per_source
    assert added == LIMITS.per_source + 1  # the bound: 31 with the defaults
    fresh_budget(dsn)


def test_many_sources_are_bounded_by_the_audit_budget(dsn: str) -> None:
    """From a new source each time, none of them ever blocked: the budget per window
    bounds the entries at audit_budget + 1 (the note that the rest are counted only)."""
    small = ConsoleSettings(trusted_proxies=("127.0.0.1",), sign_in_audit_budget=10)
    fresh_budget(dsn)
    with serving(create_app(dsn, small)) as url:
        before = audit_count(dsn)
        for _ in range(60):
            login(url, f"r{uuid.uuid4().hex[:10]}", "guess", source())
        added = audit_count(dsn) - before
    assert added == small.sign_in_audit_budget + 1
    with psycopg.connect(dsn) as conn:
        note = conn.execute(
            "SELECT count(*) FROM hj212.audit_log WHERE action = 'login-audit-suppressed'"
            " AND at > now() - interval '10 minutes'"
        ).fetchone()
    assert note == (1,)
    fresh_budget(dsn)


def test_the_client_address_is_the_forwarded_one_only_behind_a_trusted_proxy(
    proxied: str, console_url: str, dsn: str
) -> None:
    name, src = a_user(dsn), source()
    assert login(proxied, name, PASSWORD, src) == 200
    assert login(console_url, name, PASSWORD, "203.0.113.9") == 200  # not trusted there
    with psycopg.connect(dsn) as conn:
        clients = [
            row[0]
            for row in conn.execute(
                "SELECT detail ->> 'client' FROM hj212.audit_log WHERE actor = %s"
                " AND action = 'login' ORDER BY seq",
                (name,),
            )
        ]
    assert clients == [src, "127.0.0.1"]


def test_reads_are_counted_not_chained_one_by_one(proxied: str, dsn: str) -> None:
    name, src = a_user(dsn), source()
    with Client(base_url=proxied, headers={"X-Forwarded-For": src}) as c:
        signed = c.post("/api/login", json={"name": name, "password": PASSWORD})
        assert "secure" in signed.headers["set-cookie"].lower()
        c.cookies.set("hj212_session", signed.cookies["hj212_session"])  # httpx: not https
        for _ in range(50):
            assert c.get("/api/overview").status_code == 200
    with psycopg.connect(dsn) as conn:
        chained = conn.execute(
            "SELECT count(*), min(detail ->> 'client') FROM hj212.audit_log"
            " WHERE actor = %s AND object = 'console:/api/overview'",
            (name,),
        ).fetchone()
        counted = conn.execute(
            "SELECT sum(reads), min(client) FROM hj212.access_log WHERE actor = %s"
            " AND route = 'console:/api/overview'",
            (name,),
        ).fetchone()
    assert chained is not None
    assert counted is not None
    assert chained[0] in (1, 2)  # 2 only if the run crossed an hour boundary
    assert chained[1] == src
    assert counted == (50, src)
