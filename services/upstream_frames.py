"""A stored frame as it goes to one upstream (docs/forwarding.md §2). Pure: bytes in,
bytes out.

Passthrough keeps the station's own bytes when they already ask for an answer; a frame
whose Flag does not ask (HJ 212-2017 §6.3.2, Flag bit A) gets the bit set, since only
the upstream's 9014 counts it delivered. ``rewrite`` replaces MN and PW per station.
Towards an HJ 212-2025 upstream the Flag carries the 2025 version bits, a backlog frame
carries ``RF=1`` and, with the upstream's key, the CP area is SM4-encrypted (§6.4); a
frame the station encrypted with its own key is decrypted first.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol import decrypt_segment, encode, encrypt_segment
from protocol.codes import VERSION_FLAG, Flag

_CP = b"CP=&&"
_VERSION_BITS = 0b11111100  # the version field of Flag, above the A and D bits


class NotForwardable(ValueError):
    """A stored frame that cannot be sent upstream (no QN to match a 9014, damaged)."""


@dataclass(frozen=True)
class Outgoing:
    """What goes to the upstream, and the QN its 9014 must answer."""

    wire: bytes
    qn: str


def outgoing(
    raw: bytes,
    *,
    version: str,
    mn: str | None = None,
    pw: str | None = None,
    resent: bool = False,
    station_key: bytes | None = None,
    upstream_key: bytes | None = None,
) -> Outgoing:
    """The frame ``raw`` (as archived) for an upstream speaking ``version``; ``mn``
    and ``pw`` replace the station's (rewrite), ``resent`` marks a backlog frame.

    :raises NotForwardable: no whole frame, no header, or no QN.
    """
    if not (raw.startswith(b"##") and raw.endswith(b"\r\n") and _CP in raw):
        raise NotForwardable("not a whole frame")
    segment = raw[6:-6]
    encrypted = station_key is not None and segment.find(b"CP=&&{0x") >= 0
    plain = decrypt_segment(segment, station_key) if encrypted and station_key else segment
    cut = plain.index(_CP)
    fields = [item.split(b"=", 1) for item in plain[:cut].split(b";") if item]
    header = {k.decode(): v.decode() for k, v, *_ in ([*f, b""] for f in fields)}
    qn = header.get("QN")
    if not qn:
        raise NotForwardable("no QN: its 9014 could not be told from another")
    changed = dict(header)
    if mn is not None:
        changed["MN"] = mn
    if pw is not None:
        changed["PW"] = pw
    flag = int(header.get("Flag") or "0") | Flag.ACK
    if version == "2025":
        flag = (flag & ~_VERSION_BITS) | VERSION_FLAG["2025"]
        if resent:
            changed["RF"] = "1"
    changed["Flag"] = str(flag)
    if changed == header and upstream_key is None and not encrypted:
        return Outgoing(raw, qn)  # the station's own bytes
    head = "".join(f"{k}={v};" for k, v in changed.items()).encode()
    rebuilt = head + plain[cut:]
    if upstream_key is None:
        return Outgoing(encode.frame(rebuilt), qn)
    return Outgoing(encode.frame(encrypt_segment(rebuilt, upstream_key), plaintext=rebuilt), qn)
