"""Answers the platform owes a device (HJ 212-2017 Appendix C; HJ/T 212-2005 Appendix C)."""

from __future__ import annotations

from protocol import Connection, DataUpload, Role, encode

UPLOAD_2017 = encode.frame(
    "QN=20160801085857223;ST=32;CN=2011;PW=123456;MN=010000A8900016F000169DC0;Flag=5;"
    "CP=&&DataTime=20160801085857;w01001-Rtd=7.1,w01001-Flag=N&&"
)


def test_9014_for_a_2017_upload_is_the_standards_example() -> None:
    # Table C.14: the answer echoes QN, PW and MN, with ST=91, Flag=4 and an empty CP
    conn = Connection(Role.PLATFORM, auto_answer=False)
    [upload] = conn.receive_data(UPLOAD_2017)
    assert isinstance(upload, DataUpload)
    assert conn.data_to_send() == b""  # nothing is answered before the data are stored
    assert conn.acknowledge(upload)
    assert conn.data_to_send() == encode.frame(
        "QN=20160801085857223;ST=91;CN=9014;PW=123456;MN=010000A8900016F000169DC0;Flag=4;CP=&&&&"
    )


def test_no_answer_when_none_was_asked() -> None:
    conn = Connection(Role.PLATFORM, auto_answer=False)
    [upload] = conn.receive_data(
        encode.frame(
            "QN=20160801085857223;ST=32;CN=2011;PW=123456;MN=X;Flag=4;"
            "CP=&&DataTime=20160801085857;w01001-Rtd=7.1&&"
        )
    )
    assert isinstance(upload, DataUpload)
    assert not conn.acknowledge(upload)
    assert conn.data_to_send() == b""


def test_2025_answer_keeps_the_version_bits() -> None:
    conn = Connection(Role.PLATFORM, auto_answer=False)
    [upload] = conn.receive_data(
        encode.frame(
            "QN=20240520210700000;ST=31;CN=2051;PW=123456;MN=010000A8900016F000169DC0;Flag=9;"
            "CP=&&DataTime=20240520210600;a01011-Avg=1.35,a01011-Flag=N&&"
        )
    )
    assert isinstance(upload, DataUpload)
    assert upload.version == "2025"
    assert conn.acknowledge(upload)
    assert b";Flag=8;CP=&&&&" in conn.data_to_send()


def test_2005_answer_carries_qn_and_cn_in_cp() -> None:
    conn = Connection(Role.PLATFORM, auto_answer=False)
    [upload] = conn.receive_data(
        encode.frame(
            "QN=20040516010101001;ST=32;CN=2051;PW=123456;MN=88888880000001;Flag=1;"
            "CP=&&DataTime=20040516010000;011-Avg=30.1&&"
        )
    )
    assert isinstance(upload, DataUpload)
    assert upload.version == "2005"
    assert conn.acknowledge(upload)
    assert conn.data_to_send() == encode.frame(
        "ST=91;CN=9014;CP=&&QN=20040516010101001;CN=2051&&"  # HJ/T 212-2005 App. C example 6
    )
