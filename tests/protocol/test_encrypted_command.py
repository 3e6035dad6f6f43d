"""HJ 212-2025 §6.4.4: 1014 is sent encrypted, with the key it replaces (issue 19)."""

from __future__ import annotations

from protocol import Connection, DecodeOptions, Message, Role, encode

OLD = bytes.fromhex("30303030303030303030303030303030")
NEW = "FEDCBA9876543210FEDCBA9876543210"


def test_a_1014_encrypted_with_the_old_key_reads_only_with_it() -> None:
    params = {"SKCreateTime": "20261123101500", "NewSK": NEW}
    wire = encode.command(
        "1014",
        params,
        qn="20261123101500001",
        st="32",
        pw="123456",
        mn="A" * 24,
        version="2025",
        ack=False,
        sm4_key=OLD,
    )
    assert NEW.encode() not in wire  # the new key never travels in clear
    station = Connection(Role.STATION)
    station.options = DecodeOptions(sm4_key=OLD)
    (event,) = station.receive_data(wire, now=0.0)
    assert isinstance(event, Message), event
    assert (event.cn, event.cp["NewSK"]) == ("1014", NEW)
    (refused,) = Connection(Role.STATION).receive_data(wire, now=0.0)
    assert not isinstance(refused, Message) or refused.cp.get("NewSK") != NEW
