"""Account administration on the real database, through the HTTP API: jurisdiction-bound
administrators, create and change apart, deactivation, tokens and password changes that
end sessions at once."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from httpx import Client

from console.auth import hash_password
from storage import console_store
from tests.console.support import PASSWORD

pytestmark = pytest.mark.db
NEW_PASSWORD = "a different long secret"


@pytest.fixture(scope="module")
def people(dsn: str, world: dict[str, str]) -> dict[str, str]:
    """A province administrator (42), a Wuhan (4201) and a Yichang (4205) administrator,
    and a Yichang operator, named with this module's tag."""
    tag = world["tag"]
    made = {
        "province": (f"prov{tag}", "42"),
        "city": (f"whadmin{tag}", "4201"),
        "other_city": (f"ycadmin{tag}", "4205"),
    }
    with psycopg.connect(dsn) as conn:
        for name, region in made.values():
            console_store.add_user(conn, name, hash_password(PASSWORD), "administrator", region)
        console_store.add_user(conn, f"ycop{tag}", hash_password(PASSWORD), "operator", "4205")
    return {key: name for key, (name, _) in made.items()} | {"yc_operator": f"ycop{tag}"}


@pytest.fixture
def client(console_url: str) -> Iterator[Client]:
    with Client(base_url=console_url) as c:
        yield c


@contextlib.contextmanager
def signed_in(console_url: str, name: str, password: str = PASSWORD) -> Iterator[Client]:
    with Client(base_url=console_url) as c:
        answer = c.post("/api/login", json={"name": name, "password": password})
        assert answer.status_code == 200, answer.text
        yield c


def can_sign_in(console_url: str, name: str, password: str = PASSWORD) -> bool:
    with Client(base_url=console_url) as c:
        return c.post("/api/login", json={"name": name, "password": password}).status_code == 200


def new_user(name: str, role: str, region: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "password": PASSWORD, "role": role, "region_prefix": region, **extra}


def audit_rows(dsn: str, sql: str, *params: object) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(sql.encode(), params).fetchall()


def test_city_administrator_is_held_to_its_city(
    console_url: str, people: dict[str, str], world: dict[str, str]
) -> None:
    tag = uuid.uuid4().hex[:6]
    with signed_in(console_url, people["city"]) as city:
        wide = city.post("/api/users", json=new_user(f"wide{tag}", "administrator", "42"))
        assert wide.status_code == 403, wide.text
        assert "not inside your jurisdiction" in wide.json()["detail"]
        everywhere = city.post("/api/users", json=new_user(f"all{tag}", "inspector", ""))
        assert everywhere.status_code == 403
        # another city's user, and the province administrator: as if they did not exist
        for target in (people["other_city"], people["province"], f"admin{world['tag']}"):
            raise_it = city.patch(f"/api/users/{target}", json={"role": "inspector"})
            assert raise_it.status_code == 404, target
            reset = city.post(f"/api/users/{target}/password", json={"password": "x" * 12})
            assert reset.status_code == 404, target
            assert city.post(f"/api/users/{target}/deactivate", json={}).status_code == 404
        # nor may it move one of its own users out of its city
        mine = city.post("/api/users", json=new_user(f"mine{tag}", "operator", "420102"))
        assert mine.status_code == 200, mine.text
        moved = city.patch(f"/api/users/mine{tag}", json={"region_prefix": "4205"})
        assert moved.status_code == 403
        # nor widen its own jurisdiction, or change its own role
        widen = city.patch(f"/api/users/{people['city']}", json={"region_prefix": ""})
        assert widen.status_code == 409
        listed = {u["name"]: u["region_prefix"] for u in city.get("/api/users").json()}
    assert all(region.startswith("4201") for region in listed.values())
    assert f"mine{tag}" in listed
    assert people["province"] not in listed
    assert people["other_city"] not in listed
    # the province administrator still signs in with its own password
    assert can_sign_in(console_url, people["province"])


def test_no_one_grants_what_it_does_not_hold(console_url: str, people: dict[str, str]) -> None:
    tag = uuid.uuid4().hex[:6]
    with signed_in(console_url, people["yc_operator"]) as operator:
        made = operator.post("/api/users", json=new_user(f"up{tag}", "administrator", "4205"))
        assert made.status_code == 403
        raised = operator.patch(
            f"/api/users/{people['yc_operator']}", json={"role": "administrator"}
        )
        assert raised.status_code == 403
        assert operator.get("/api/users").status_code == 403
    with signed_in(console_url, people["other_city"]) as city:
        # inside its region an administrator may make an administrator of the next level
        county = city.post("/api/users", json=new_user(f"cty{tag}", "administrator", "420502"))
        assert county.status_code == 200, county.text
        assert county.json()["created_by"] == people["other_city"]


def test_creating_a_taken_name_is_refused_and_replaces_nothing(
    console_url: str, people: dict[str, str], world: dict[str, str]
) -> None:
    wuhan = f"wuhan{world['tag']}"  # the seeded Wuhan operator
    with signed_in(console_url, people["city"]) as city:
        again = city.post(
            "/api/users",
            json=new_user(wuhan, "administrator", "4201", password="attacker's own pw"),
        )
        assert again.status_code == 409
        assert "exists" in again.json()["detail"]
    assert can_sign_in(console_url, wuhan)  # its own password still works
    with signed_in(console_url, wuhan) as c:
        assert c.get("/api/me").json()["role"] == "operator"


def test_a_change_records_the_old_values(
    console_url: str, people: dict[str, str], dsn: str
) -> None:
    tag = uuid.uuid4().hex[:6]
    name = f"chg{tag}"
    with signed_in(console_url, people["city"]) as city:
        made = city.post(
            "/api/users", json=new_user(name, "operator", "4201", full_name="张三", unit="武汉市局")
        )
        assert made.status_code == 200, made.text
        changed = city.patch(
            f"/api/users/{name}", json={"role": "inspector", "region_prefix": "420102"}
        )
        assert changed.status_code == 200, changed.text
        assert changed.json()["role"] == "inspector"
        assert changed.json()["full_name"] == "张三"
    rows = audit_rows(
        dsn,
        "SELECT actor, action, detail FROM hj212.audit_log WHERE object = 'console_user'"
        " AND detail ->> 'name' = %s ORDER BY seq",
        name,
    )
    actor, _, detail = next(r for r in rows if r[1] == "update")
    assert actor == people["city"]
    assert detail["before"] == {"role": "operator", "region_prefix": "4201"}
    assert (detail["role"], detail["region_prefix"]) == ("inspector", "420102")
    assert detail["client"] == "127.0.0.1"
    assert "password_hash" not in detail
    assert rows[0][1] == "insert"
    assert rows[0][0] == people["city"]


def test_a_deactivated_users_session_and_token_stop_at_once(
    console_url: str, people: dict[str, str], world: dict[str, str]
) -> None:
    tag = uuid.uuid4().hex[:6]
    name = f"leaver{tag}"
    with signed_in(console_url, people["city"]) as city:
        assert city.post("/api/users", json=new_user(name, "operator", "4201")).status_code == 200
        with signed_in(console_url, name) as leaver:
            token = leaver.post("/api/me/tokens", json={"label": "script"}).json()["token"]
            bearer = {"Authorization": f"Bearer {token}"}
            assert leaver.get("/api/stations").status_code == 200
            assert leaver.get("/api/stations", headers=bearer).status_code == 200
            off = city.post(f"/api/users/{name}/deactivate", json={"reason": "调离"})
            assert off.status_code == 200, off.text
            assert off.json()["active"] is False
            assert leaver.get("/api/stations").status_code == 401
            assert leaver.get("/api/stations", headers=bearer).status_code == 401
            cookie = leaver.cookies["hj212_session"]
        with Client(base_url=console_url) as again:
            refused = again.post("/api/login", json={"name": name, "password": PASSWORD})
            assert refused.status_code == 401
            assert "deactivated" in refused.json()["detail"]
            # reactivated: neither the old cookie nor the old token comes back
            assert city.post(f"/api/users/{name}/reactivate", json={}).status_code == 200
            again.cookies.set("hj212_session", cookie)
            assert again.get("/api/me").status_code == 401
            assert again.get("/api/me", headers=bearer).status_code == 401
        tokens = city.get(f"/api/users/{name}/tokens").json()
        assert tokens[0]["revoked_by"] == people["city"]
    assert can_sign_in(console_url, name)


def test_a_revoked_or_expired_token_gets_401(
    console_url: str, world: dict[str, str], dsn: str
) -> None:
    with signed_in(console_url, f"yichang{world['tag']}") as inspector:
        made = inspector.post("/api/me/tokens", json={"label": "dashboard", "days": 30}).json()
        other = inspector.post("/api/me/tokens", json={"label": "old"}).json()
        listed = inspector.get("/api/me/tokens").json()
    assert {t["id"] for t in listed} >= {made["id"], other["id"]}
    assert all("token" not in t and "token_hash" not in t for t in listed)
    bearer = {"Authorization": f"Bearer {made['token']}"}
    with Client(base_url=console_url, headers=bearer) as machine:
        assert machine.get("/api/stations").status_code == 200
        revoked = machine.post(f"/api/tokens/{made['id']}/revoke")
        assert revoked.status_code == 200
        assert machine.get("/api/stations").status_code == 401
    with psycopg.connect(dsn) as conn:
        conn.execute(
            "UPDATE hj212.api_token SET expires_at = now() - interval '1 s' WHERE id = %s",
            (other["id"],),
        )
    expired = {"Authorization": f"Bearer {other['token']}"}
    with Client(base_url=console_url, headers=expired) as machine:
        assert machine.get("/api/stations").status_code == 401


def test_someone_elses_token_cannot_be_revoked(
    console_url: str, people: dict[str, str], world: dict[str, str]
) -> None:
    with signed_in(console_url, people["province"]) as province:
        made = province.post("/api/me/tokens", json={"label": "province"}).json()
    with signed_in(console_url, people["city"]) as city:
        assert city.post(f"/api/tokens/{made['id']}/revoke").status_code == 404
        assert city.get(f"/api/users/{people['province']}/tokens").status_code == 404
        # nor does it make a token acting as one of its own users
        as_them = city.post(f"/api/users/wuhan{world['tag']}/tokens", json={"label": "x"})
        assert as_them.status_code == 405
    bearer = {"Authorization": f"Bearer {made['token']}"}
    with Client(base_url=console_url, headers=bearer) as machine:
        assert machine.get("/api/me").status_code == 200


def test_a_password_change_ends_the_other_sessions(
    console_url: str, people: dict[str, str]
) -> None:
    tag = uuid.uuid4().hex[:6]
    name = f"pw{tag}"
    with signed_in(console_url, people["city"]) as city:
        assert city.post("/api/users", json=new_user(name, "inspector", "4201")).status_code == 200
    with signed_in(console_url, name) as laptop, signed_in(console_url, name) as phone:
        other_sessions_end(console_url, people, name, laptop, phone)


def other_sessions_end(
    console_url: str, people: dict[str, str], name: str, laptop: Client, phone: Client
) -> None:
    token = phone.post("/api/me/tokens", json={"label": "kept?"}).json()["token"]
    wrong = laptop.post("/api/me/password", json={"current": "not it!!", "new": NEW_PASSWORD})
    assert wrong.status_code == 403
    changed = laptop.post("/api/me/password", json={"current": PASSWORD, "new": NEW_PASSWORD})
    assert changed.status_code == 200, changed.text
    assert changed.json()["tokens_revoked"] == 1
    assert laptop.get("/api/me").status_code == 200  # this session goes on
    assert phone.get("/api/me").status_code == 401  # the other one is over
    bearer = {"Authorization": f"Bearer {token}"}
    assert laptop.get("/api/me", headers=bearer).status_code == 401
    assert not can_sign_in(console_url, name)  # the old password
    # an administrator's reset ends every session, this one included
    with signed_in(console_url, people["city"]) as city:
        reset = city.post(f"/api/users/{name}/password", json={"password": PASSWORD})
        assert reset.status_code == 200
    assert laptop.get("/api/me").status_code == 401
    assert can_sign_in(console_url, name)


def region_of(dsn: str, mns: set[str]) -> dict[str, str]:
    rows = audit_rows(
        dsn, "SELECT mn, region_code FROM hj212.station WHERE mn = ANY(%s)", list(mns)
    )
    return dict(rows)


def test_audit_log_by_jurisdiction(
    console_url: str, people: dict[str, str], world: dict[str, str], dsn: str
) -> None:
    wuhan, yichang = world["wuhan"], world["yichang"]
    with signed_in(console_url, f"yichang{world['tag']}") as inspector:
        assert inspector.get(f"/api/stations/{yichang}/latest").status_code == 200
        assert inspector.get("/api/audit").status_code == 403
    with signed_in(console_url, f"wuhan{world['tag']}") as operator:
        assert operator.get(f"/api/stations/{wuhan}/latest").status_code == 200
    with signed_in(console_url, people["city"]) as city:
        seen = city.get("/api/audit?hours=1&limit=5000").json()
    regions = region_of(dsn, {e["mn"] for e in seen} - {None})
    assert regions, "the city administrator sees reads of its stations"
    assert all(code.startswith("4201") for code in regions.values())
    assert any(e["mn"] == wuhan and e["action"] == "read" for e in seen)
    assert not any(e["actor"] in (people["province"], f"yichang{world['tag']}") for e in seen)
    with signed_in(console_url, f"firm{world['tag']}") as firm:
        own = firm.get("/api/audit?hours=1&limit=5000").json()
    assert own, "the enterprise sees who read its station"
    assert {e["mn"] for e in own} == {yichang}
    assert any(e["actor"] == f"yichang{world['tag']}" for e in own)
    assert not any("client" in e["detail"] for e in own)


def test_a_label_the_database_cannot_hold_is_refused_clearly(
    console_url: str, world: dict[str, str]
) -> None:
    with signed_in(console_url, f"yichang{world['tag']}") as inspector:
        before = len(inspector.get("/api/me/tokens").json())
        nul = inspector.post("/api/me/tokens", json={"label": "a\x00b"})
        assert nul.status_code == 422
        assert len(inspector.get("/api/me/tokens").json()) == before  # nothing made
