"""Every example of Appendix C (HJ 212-2017 Tables C.1-C.50; HJ/T 212-2005 examples 1-23)
decodes, and the answers we build are the answers the standards print.

The vectors are in ``tests/data/appendix_c_*.tsv`` (see ``tests/data/README.md``).
"""

from __future__ import annotations

import csv
import itertools
from pathlib import Path
from typing import NamedTuple

import pytest

from protocol import Connection, DataUpload, Message, Reply, Role, encode

DATA = Path(__file__).resolve().parent.parent / "data"


class Row(NamedTuple):
    table: str
    step: int
    sender: str
    segment: str
    cn: str
    notes: str


def load(name: str) -> list[Row]:
    with (DATA / name).open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [
            Row(r["table"], int(r["step"]), r["sender"], r["segment"], r["cn"], r["notes"])
            for r in reader
        ]


ROWS_2017 = load("appendix_c_2017.tsv")
ROWS_2005 = load("appendix_c_2005.tsv")


def receive(row: Row) -> Message:
    role = Role.STATION if row.sender == "platform" else Role.PLATFORM
    conn = Connection(role, auto_answer=False)
    events = conn.receive_data(encode.frame(row.segment))
    assert events, row
    event = events[0]
    assert isinstance(event, Message), f"{row.table}/{row.step}: {event}"
    return event


@pytest.mark.parametrize("row", ROWS_2017, ids=lambda r: f"{r.table}-{r.step}")
def test_every_2017_example_decodes(row: Row) -> None:
    message = receive(row)
    assert message.cn == row.cn
    assert message.version == "2017"
    if row.cn in ("9011", "9012", "9013", "9014"):
        assert isinstance(message, Reply)
        assert message.answers_qn == message.qn
    if row.cn == "9011":
        assert isinstance(message, Reply)
        assert message.qn_rtn is not None
    if row.cn == "9012":
        assert isinstance(message, Reply)
        assert message.exe_rtn is not None
    if "DataTime" in message.cp:
        assert isinstance(message, DataUpload)
        assert message.data_time.year in (2010, 2016)


@pytest.mark.parametrize("row", ROWS_2005, ids=lambda r: f"{r.table}-{r.step}")
def test_every_2005_example_decodes(row: Row) -> None:
    message = receive(row)
    assert message.cn == row.cn
    assert message.version == "2005"
    if isinstance(message, DataUpload) and "B01-Cou" in message.cp:
        # old codes become 2017 codes where the tables map them (B01 flow, 101 TP)
        assert message.code_map["B01"] == "w00000"
        assert "w00000" in message.values


def answered_pairs(rows: list[Row]) -> list[tuple[Row, Row]]:
    """(station frame, the platform's 9013/9014 printed right after it)."""
    pairs = []
    for first, second in itertools.pairwise(rows):
        if (
            first.table == second.table
            and first.sender == "station"
            and second.sender == "platform"
            and second.cn in ("9013", "9014")
        ):
            pairs.append((first, second))
    return pairs


PAIRS_2017 = answered_pairs(ROWS_2017)
PAIRS_2005 = answered_pairs(ROWS_2005)


@pytest.mark.parametrize(
    ("frame", "printed"), PAIRS_2017 + PAIRS_2005, ids=lambda r: f"{r.table}-{r.step}"
)
def test_our_answer_is_the_printed_answer(frame: Row, printed: Row) -> None:
    rows = ROWS_2005 if frame in ROWS_2005 else ROWS_2017
    table = [r for r in rows if r.table == frame.table and r.step <= frame.step]
    conn = Connection(Role.PLATFORM, auto_answer=False)
    # replay the example up to the frame, so that the request flow (and 2005 ack mode,
    # which the request's Flag sets for the whole flow) is followed as it happened
    for step in table[:-1]:
        if step.sender == "platform" and step.step == 1 and "Flag=" in step.segment:
            sent = receive(step)
            conn.send_request(
                sent.cn or "",
                dict(sent.cp),
                qn=sent.qn or "",
                st=sent.st or "",
                pw=sent.pw or "",
                mn=sent.mn or "",
                now=0.0,
                version=sent.version,
                ack=sent.ack_requested,
            )
        elif step.sender == "station":
            conn.receive_data(encode.frame(step.segment), now=1.0)
    conn.data_to_send()
    [message, *_] = conn.receive_data(encode.frame(frame.segment), now=1.0)
    assert isinstance(message, Message)
    assert conn.acknowledge(message)
    expected = printed.segment.replace("CP=&& &&", "CP=&&&&")  # C.4/C.13 erratum: a space
    expected = expected.replace(";&&", "&&")  # 2005 C.6c erratum: "PNUM=1;&&"
    assert conn.data_to_send() == encode.frame(expected)


def test_the_pairs_cover_the_answering_examples() -> None:
    assert len(PAIRS_2017) >= 15
    assert len(PAIRS_2005) >= 3
