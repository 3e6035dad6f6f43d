"""Platform requests followed by QN: 9011 -> data -> 9012, retries, timeouts (explicit now)."""

from __future__ import annotations

from protocol import Connection, DataUpload, RequestFinished, Role, encode

MN = "010000A8900016F000169DC0"
QN = "20160801085857223"


def station(segment: str) -> bytes:
    return encode.frame(segment)


HISTORY = {"BeginTime": "20160801000000", "EndTime": "20160801020000"}


def start(conn: Connection, cn: str = "2061", **params: object) -> bytes:
    return conn.send_request(
        cn,
        params if cn != "2061" else HISTORY,
        qn=QN,
        st="32",
        pw="123456",
        mn=MN,
        now=0.0,
        overtime=5,
        recount=3,
    )


def test_history_request_flow_collects_data_and_ends_with_9012() -> None:
    conn = Connection(Role.PLATFORM)
    wire = start(conn)
    assert conn.data_to_send() == wire
    assert conn.receive_data(
        station(f"QN={QN};ST=91;CN=9011;PW=123456;MN={MN};Flag=4;CP=&&QnRtn=1&&"), now=1.0
    )
    # history records come with new QNs (HJ 212-2017 C.20) and ask for 9014 (C.48)
    events = conn.receive_data(
        station(
            f"QN=20160801085857534;ST=32;CN=2061;PW=123456;MN={MN};Flag=5;"
            "CP=&&DataTime=20160801000000;w01018-Avg=30.2,w01018-Flag=N&&"
        ),
        now=5.5,
    )
    assert isinstance(events[0], DataUpload)
    assert b"CN=9014" in conn.data_to_send()
    assert conn.tick(10.0) == []  # the data frame restarted the execution timeout
    events = conn.receive_data(
        station(f"QN={QN};ST=91;CN=9012;PW=123456;MN={MN};Flag=4;CP=&&ExeRtn=1&&"), now=10.5
    )
    finished = events[-1]
    assert isinstance(finished, RequestFinished)
    assert (finished.outcome, finished.qn_rtn, finished.exe_rtn) == ("ok", 1, 1)
    assert len(finished.responses) == 1
    assert conn.pending_requests == []


def test_unanswered_request_is_resent_recount_times_then_times_out() -> None:
    conn = Connection(Role.PLATFORM)
    wire = start(conn, "1011")
    conn.data_to_send()
    sent = []
    for now in (5.0, 10.0, 15.0):
        assert conn.tick(now) == []
        sent.append(conn.data_to_send())
    assert sent == [wire, wire, wire]  # the same frame, the same QN
    [finished] = conn.tick(20.0)
    assert isinstance(finished, RequestFinished)
    assert (finished.outcome, finished.attempts) == ("timeout", 4)
    assert conn.data_to_send() == b""


def test_rejected_request() -> None:
    conn = Connection(Role.PLATFORM)
    start(conn, "1062", RtdInterval=30)
    events = conn.receive_data(
        station(f"QN={QN};ST=91;CN=9011;PW=123456;MN={MN};Flag=4;CP=&&QnRtn=3&&"), now=1.0
    )
    finished = events[-1]
    assert isinstance(finished, RequestFinished)
    assert (finished.outcome, finished.qn_rtn) == ("rejected", 3)


def test_failed_execution() -> None:
    conn = Connection(Role.PLATFORM)
    start(conn, "3011", PolId="w01018")
    conn.receive_data(
        station(f"QN={QN};ST=91;CN=9011;PW=123456;MN={MN};Flag=4;CP=&&QnRtn=1&&"), 1.0
    )
    events = conn.receive_data(
        station(f"QN={QN};ST=91;CN=9012;PW=123456;MN={MN};Flag=4;CP=&&ExeRtn=5&&"), now=2.0
    )
    finished = events[-1]
    assert isinstance(finished, RequestFinished)
    assert (finished.outcome, finished.exe_rtn) == ("failed", 5)


def test_answers_with_another_password_or_mn_are_not_the_stations() -> None:
    conn = Connection(Role.PLATFORM)
    start(conn, "3011", PolId="w01018")
    for pw, mn in (("000000", MN), ("123456", "X" * 24)):
        for cn, cp in (("9011", "QnRtn=1"), ("9012", "ExeRtn=1")):
            frame = station(f"QN={QN};ST=91;CN={cn};PW={pw};MN={mn};Flag=4;CP=&&{cp}&&")
            events = conn.receive_data(frame, now=1.0)
            assert not any(isinstance(e, RequestFinished) for e in events)
    assert conn.pending_requests == [QN]  # still waiting for the real station


def test_execution_timeout_after_9011() -> None:
    conn = Connection(Role.PLATFORM)
    start(conn, "3012", PolId="w01018")
    conn.receive_data(
        station(f"QN={QN};ST=91;CN=9011;PW=123456;MN={MN};Flag=4;CP=&&QnRtn=1&&"), 1.0
    )
    assert conn.tick(5.9) == []
    [finished] = conn.tick(6.1)
    assert isinstance(finished, RequestFinished)
    assert finished.outcome == "timeout"


def test_get_request_answer_uses_the_request_qn() -> None:
    conn = Connection(Role.PLATFORM)
    start(conn, "1011", PolId="w01018")
    conn.receive_data(
        station(f"QN={QN};ST=91;CN=9011;PW=123456;MN={MN};Flag=4;CP=&&QnRtn=1&&"), 1.0
    )
    conn.receive_data(
        station(
            f"QN={QN};ST=32;CN=1011;PW=123456;MN={MN};Flag=4;CP=&&PolId=w01018;SystemTime=20160801085857&&"
        ),
        2.0,
    )
    events = conn.receive_data(
        station(f"QN={QN};ST=91;CN=9012;PW=123456;MN={MN};Flag=4;CP=&&ExeRtn=1&&"), 3.0
    )
    finished = events[-1]
    assert isinstance(finished, RequestFinished)
    assert finished.responses[0].cp["SystemTime"] == "20160801085857"


def test_notification_waits_for_9013() -> None:
    conn = Connection(Role.PLATFORM)
    start(conn, "2012")
    events = conn.receive_data(
        station(f"QN={QN};ST=91;CN=9013;PW=123456;MN={MN};Flag=4;CP=&&&&"), 1.0
    )
    finished = events[-1]
    assert isinstance(finished, RequestFinished)
    assert finished.outcome == "ok"


def test_station_answers_stop_notifications_with_9013() -> None:
    conn = Connection(Role.STATION)
    conn.receive_data(encode.command("2022", {}, qn=QN, st="32", pw="123456", mn=MN))
    assert conn.data_to_send() == encode.frame(
        f"QN={QN};ST=91;CN=9013;PW=123456;MN={MN};Flag=4;CP=&&&&"
    )
