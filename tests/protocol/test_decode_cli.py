"""``hj212 decode``: the JSON contract, on frames it has never seen."""

from __future__ import annotations

import json
import subprocess
import sys

from protocol import TEST_KEY, encode, parse_time
from protocol._crc import modbus

KEYS = {
    "ok",
    "error",
    "version",
    "crc",
    "qn",
    "st",
    "cn",
    "pw",
    "mn",
    "flag",
    "ack",
    "split",
    "pnum",
    "pno",
    "data_time",
    "cp",
    "values",
}


def run(*args: str, stdin: bytes = b"") -> tuple[int, list[dict[str, object]], str]:
    result = subprocess.run(
        [sys.executable, "-m", "cli", "decode", *args],
        input=stdin,
        capture_output=True,
        check=False,
    )
    lines = [json.loads(line) for line in result.stdout.decode().splitlines()]
    return result.returncode, lines, result.stderr.decode()


def test_contract_on_a_fresh_2017_upload() -> None:
    wire = encode.frame(
        "QN=20261123101500123;ST=32;CN=2011;PW=123456;MN=AB00000000000000000000CD;Flag=7;"
        "PNUM=2;PNO=1;CP=&&DataTime=20261123101500;w01018-Rtd=13.6,w01018-Flag=N&&"
    )
    code, [out], _ = run(wire.decode().rstrip("\r\n"))
    assert code == 0
    assert set(out) >= KEYS
    assert out["ok"] is True
    assert out["error"] is None
    assert (out["version"], out["cn"], out["flag"], out["ack"], out["split"]) == (
        "2017",
        "2011",
        7,
        True,
        True,
    )
    assert (out["pnum"], out["pno"]) == (2, 1)
    assert out["crc"] == {"declared": wire[-6:-2].decode(), "variant": "hj212"}
    assert out["data_time"] == "2026-11-23T10:15:00+08:00"
    assert out["values"] == {"w01018": {"Rtd": 13.6, "Flag": "N"}}
    assert out["cp"] == {"DataTime": "20261123101500", "w01018-Rtd": "13.6", "w01018-Flag": "N"}


def test_stdin_lines_with_and_without_crlf_and_bad_frames_keep_exit_0() -> None:
    good = encode.frame("QN=20260101000000000;ST=32;CN=1062;PW=1;MN=A;Flag=5;CP=&&RtdInterval=30&&")
    lower = good[:-6] + good[-6:-2].lower() + b"\r\n"
    bad_crc = good[:-6] + b"0000\r\n"
    segment = b"ST=32;CN=2011;PW=1;MN=88888880000001;CP=&&DataTime=20260101000000;011-Rtd=5&&"
    legacy = b"##%04d%b%04X\r\n" % (len(segment), segment, modbus(segment))
    big = encode.frame(
        "QN=20260101000000000;ST=32;CN=2011;PW=1;MN=A;Flag=4;CP=&&DataTime="
        "20260101000000;" + ";".join(f"a{i:05d}-Rtd=1" for i in range(120)) + "&&"
    )
    stdin = good + lower.rstrip(b"\r\n") + b"\n" + bad_crc + b"garbage\n" + legacy + big
    code, out, _ = run(stdin=stdin)
    assert code == 0
    assert [o["ok"] for o in out] == [True, True, False, False, False, True]
    assert str(out[2]["error"]).startswith("crc")
    assert str(out[3]["error"]).startswith("framing")
    assert str(out[4]["error"]).startswith("legacy-crc")
    assert out[4]["crc"] == {"declared": legacy[-6:-2].decode(), "variant": "modbus"}
    assert "oversized" in out[5]["deviations"]  # type: ignore[operator]
    code, [accepted], _ = run("--accept-crc", "modbus", legacy.decode())
    assert accepted["ok"] is True
    assert accepted["version"] == "2005"
    assert accepted["values"] == {"w01018": {"Rtd": 5.0}}  # 2005 code 011 is COD
    code, [small], _ = run("--max-length", "1024", big.decode())
    assert str(small["error"]).startswith("length")


def test_encrypted_2025_frame_with_key() -> None:
    [wire] = encode.upload(
        "2061",
        data_time=parse_time("20260101000000"),
        values={"a21026": {"Avg": 12.5, "Flag": "N"}},
        qn="20260101000000000",
        st="31",
        pw="1",
        mn="A" * 24,
        version="2025",
        sm4_key=TEST_KEY,
    )
    _, [without], _ = run(wire.decode())
    assert str(without["error"]).startswith("decrypt")
    _, [with_key], _ = run("--sm4-key", TEST_KEY.hex(), wire.decode())
    assert with_key["ok"] is True
    assert with_key["version"] == "2025"
    assert with_key["values"] == {"a21026": {"Avg": 12.5, "Flag": "N"}}


def test_unusable_arguments_exit_2() -> None:
    assert run("--sm4-key", "abc", "x")[0] == 2
    assert run("--accept-crc", "crc32", "x")[0] == 2
    assert run("--max-length", "many", "x")[0] == 2
