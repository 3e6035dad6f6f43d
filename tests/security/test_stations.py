"""Attacks on who a station is (issue 14: F-01, F-07, F-11, F-12, F-13, F-16, F-21),
each against a real ``hj212 serve`` with its default settings, then the good station."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import pytest

from protocol import encode
from tests.security.support import (
    ROOT,
    GoodStation,
    closed_by_peer,
    gets_nothing,
    new_mn,
    read_until,
    register,
    rows,
    serve,
    upload,
)

pytestmark = [pytest.mark.db, pytest.mark.anyio]


def answer_frame(cn: str, mn: str, pw: str, qn: str, cp: str = "") -> bytes:
    return encode.frame(f"QN={qn};ST=91;CN={cn};PW={pw};MN={mn};Flag=4;CP=&&{cp}&&")


async def _command(dsn: str, mn: str, cn: str) -> int:
    done = await anyio.run_process(
        [sys.executable, "-m", "cli", "command", "send", "--dsn", dsn, "--mn", mn, "--cn", cn],
        cwd=ROOT,
        check=True,
    )
    return int(json.loads(done.stdout)["id"])


async def _state(dsn: str, command_id: int, want: str) -> str:
    state = ""
    with anyio.move_on_after(20):  # a bound on waiting for the gateway, no timing asserted
        while state != want:
            [(state,)] = rows(dsn, "SELECT state FROM hj212.command WHERE id = %s", command_id)
            await anyio.sleep(0.2)
    return state


async def test_f01_answers_with_any_password_take_nothing(dsn: str, tmp_path: Path) -> None:
    good = GoodStation(dsn)
    with serve(dsn, tmp_path, HJ212_GATEWAY_COMMAND_POLL="0.5") as gw:
        await good.connect(gw.port)
        await good.send(2)
        attackers = []
        for i in range(10):  # the takeover: answers with a wrong password, new connections
            stream = await anyio.connect_tcp("127.0.0.1", gw.port)
            cn = "9013" if i % 2 else "9014"
            await stream.send(answer_frame(cn, good.mn, "000000", f"2026112310150{i:04d}"))
            attackers.append(stream)
        await good.send(2)  # still its own connection: never replaced
        command = await _command(dsn, good.mn, "1011")
        assert good.stream is not None
        sent = await read_until(good.stream, b"CN=1011")
        qn = sent.split(b"QN=")[-1].split(b";")[0].decode()
        assert f"PW={good.password};MN={good.mn}".encode() in sent
        for stream in attackers:  # the wrong-password answers finish nothing
            await stream.send(answer_frame("9011", good.mn, "000000", qn, "QnRtn=1"))
            await stream.send(answer_frame("9012", good.mn, "000000", qn, "ExeRtn=1"))
        assert await _state(dsn, command, "done") == "sent"
        await good.stream.send(answer_frame("9011", good.mn, good.password, qn, "QnRtn=1"))
        await good.stream.send(answer_frame("9012", good.mn, good.password, qn, "ExeRtn=1"))
        assert await _state(dsn, command, "done") == "done"
        for stream in attackers:  # they got nothing: no answer, no command, no password
            assert await gets_nothing(stream, 0.2)
            await stream.aclose()
        await good.send(1)
        good.check()
        await good.close()


async def test_f07_guessing_is_throttled_and_nothing_after_a_wrong_pw_counts(
    dsn: str, tmp_path: Path
) -> None:
    victim = new_mn()
    register(dsn, victim, "S3cr3t")
    good = GoodStation(dsn)
    with serve(dsn, tmp_path) as gw:
        await good.connect(gw.port)
        await good.send(1)
        async with await anyio.connect_tcp("127.0.0.1", gw.port) as stream:
            # pipelined: a wrong guess and the right password in one write
            await stream.send(upload(victim, "000000", 0)[0] + upload(victim, "S3cr3t", 1)[0])
            assert await closed_by_peer(stream)
        guesses = ["111111", "222222", "333333", "444444", "555555", "666666", "S3cr3t"]
        for n, guess in enumerate(guesses, start=2):
            async with await anyio.connect_tcp("127.0.0.1", gw.port) as stream:
                await stream.send(upload(victim, guess, n)[0])
                assert await closed_by_peer(stream)  # the right one too: not even checked
            await good.send(1)
        stored = rows(dsn, "SELECT status, error FROM hj212.frame WHERE mn = %s", victim)
        assert len(stored) == 9
        assert {status for status, _ in stored} == {"unauthorized"}
        assert any(str(error).startswith("throttled:") for _, error in stored)
        assert rows(dsn, "SELECT count(*) FROM hj212.measurement WHERE mn = %s", victim) == [(0,)]
        good.check()
        await good.close()


async def test_f11_a_deactivated_station_is_refused(dsn: str, tmp_path: Path) -> None:
    retired = new_mn()
    register(dsn, retired, "Old001", active=False)
    good = GoodStation(dsn)
    with serve(dsn, tmp_path) as gw:
        await good.connect(gw.port)
        await good.send(1)
        for pw in ("Old001", "whatev"):
            async with await anyio.connect_tcp("127.0.0.1", gw.port) as stream:
                await stream.send(upload(retired, pw, 0)[0])
                assert await closed_by_peer(stream)
        await good.send(1)
        good.check()
        await good.close()
    assert rows(dsn, "SELECT DISTINCT status FROM hj212.frame WHERE mn = %s", retired) == [
        ("unauthorized",)
    ]
    assert rows(dsn, "SELECT count(*) FROM hj212.measurement WHERE mn = %s", retired) == [(0,)]


async def test_f12_an_unknown_mns_data_do_not_become_a_later_stations_history(
    dsn: str, tmp_path: Path
) -> None:
    mn = new_mn()
    good = GoodStation(dsn)
    with serve(dsn, tmp_path, HJ212_GATEWAY_REGISTRY_REFRESH="0.5") as gw:
        await good.connect(gw.port)
        async with await anyio.connect_tcp("127.0.0.1", gw.port) as stream:
            for n in range(3):  # before anyone registered the MN: kept, answered, apart
                wire, qn = upload(mn, "123456", n)
                await stream.send(wire)
                await read_until(stream, f"QN={qn};ST=91;CN=9014".encode())
        register(dsn, mn, "Real01")  # the real station is registered under that MN
        await anyio.sleep(1.5)  # the gateway reloads its registry every 0.5 s here
        async with await anyio.connect_tcp("127.0.0.1", gw.port) as stream:
            for n in range(3, 5):
                wire, qn = upload(mn, "Real01", n)
                await stream.send(wire)
                await read_until(stream, f"QN={qn};ST=91;CN=9014".encode())
        await good.send(2)
        good.check()
        await good.close()
    statuses = rows(dsn, "SELECT status, count(*) FROM hj212.frame WHERE mn = %s GROUP BY 1", mn)
    assert sorted(statuses) == [("ok", 2), ("quarantined", 3)]
    assert rows(dsn, "SELECT count(*) FROM hj212.measurement WHERE mn = %s", mn) == [(4,)]


async def test_f13_a_station_with_an_sm4_key_is_refused_in_plaintext(
    dsn: str, tmp_path: Path
) -> None:
    key = bytes(range(16))
    mn = new_mn()
    register(dsn, mn, "Sm4pw1", sm4_key=key.hex(), protocol_version="2025")
    good = GoodStation(dsn)
    with serve(dsn, tmp_path) as gw:
        await good.connect(gw.port)
        await good.send(1)
        async with await anyio.connect_tcp("127.0.0.1", gw.port) as stream:
            await stream.send(upload(mn, "Sm4pw1", 0)[0])  # the right PW, in clear
            assert await closed_by_peer(stream)
        at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
        qn = encode.new_qn(at)
        [encrypted] = encode.upload(
            "2011",
            data_time=at,
            values={"w01018": {"Rtd": 1.0, "Flag": "N"}},
            qn=qn,
            st="32",
            pw="Sm4pw1",
            mn=mn,
            version="2025",
            sm4_key=key,
        )
        async with await anyio.connect_tcp("127.0.0.1", gw.port) as stream:
            await stream.send(encrypted)  # the station itself: answered
            await read_until(stream, f"QN={qn};ST=91;CN=9014".encode())
        await good.send(1)
        good.check()
        await good.close()
    stored = rows(dsn, "SELECT status FROM hj212.frame WHERE mn = %s ORDER BY id", mn)
    assert stored == [("unauthorized",), ("ok",)]


async def test_f16_a_record_from_the_future_is_not_data(dsn: str, tmp_path: Path) -> None:
    good = GoodStation(dsn)
    with serve(dsn, tmp_path) as gw:
        await good.connect(gw.port)
        await good.send(1)
        ahead = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3650)
        wire, qn = upload(good.mn, good.password, 0, at=ahead)
        assert good.stream is not None
        await good.stream.send(wire)
        assert await gets_nothing(good.stream, 1.0)  # not answered: not stored as data
        await good.send(2)  # the connection goes on
        good.check()
        await good.close()
    [(status, error)] = rows(
        dsn, "SELECT status, error FROM hj212.frame WHERE qn = %s AND mn = %s", qn, good.mn
    )
    assert status == "rejected"
    assert str(error).startswith("future: DataTime")
    future = rows(
        dsn,
        "SELECT count(*) FROM hj212.measurement WHERE mn = %s AND data_time > now()",
        good.mn,
    )
    assert future == [(0,)]


async def test_f21_one_connection_cannot_switch_to_another_stations_mn(
    dsn: str, tmp_path: Path
) -> None:
    own = new_mn()
    register(dsn, own, "123456")
    good = GoodStation(dsn, password="123456")  # the same default PW
    with serve(dsn, tmp_path) as gw:
        await good.connect(gw.port)
        await good.send(1)
        async with await anyio.connect_tcp("127.0.0.1", gw.port) as stream:
            wire, qn = upload(own, "123456", 0)
            await stream.send(wire)
            await read_until(stream, f"QN={qn};ST=91;CN=9014".encode())
            await stream.send(upload(good.mn, "123456", 50)[0])  # then as the good one
            assert await closed_by_peer(stream)
        await good.send(2)  # its own connection was not taken
        good_rows = rows(
            dsn,
            "SELECT status, count(*) FROM hj212.frame WHERE mn = %s GROUP BY 1 ORDER BY 1",
            good.mn,
        )
        assert good_rows == [("ok", 3), ("unauthorized", 1)]
        good.check()
        await good.close()
