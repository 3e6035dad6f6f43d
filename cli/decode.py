"""``hj212 decode``: the command-line face of the codec, one JSON object per frame.

Frames come as arguments, or on standard input one per line (a trailing ``\\r\\n`` or
``\\n`` is optional). Exit status 0 even when frames are bad; 2 on unusable arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime

from protocol import DataUpload, DecodeOptions, Framer, Message, RawFrame, decode

LEGACY_VARIANTS = ("modbus", "modbus-swapped")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("decode", help="decode frames (arguments or stdin lines) to JSON")
    parser.add_argument("frames", nargs="*", help="frames; none = read standard input")
    parser.add_argument(
        "--max-length",
        type=int,
        default=9999,
        help="largest data segment accepted, bytes (default 9999)",
    )
    parser.add_argument(
        "--accept-crc", default="", help="legacy CRC variants to accept: modbus,modbus-swapped"
    )
    parser.add_argument("--sm4-key", help="SM4 key, 32 hex digits (HJ 212-2025 encryption)")
    parser.set_defaults(func=run)


def _options(args: argparse.Namespace) -> DecodeOptions | str:
    accept = frozenset(v.strip() for v in args.accept_crc.split(",") if v.strip())
    if not accept <= set(LEGACY_VARIANTS):
        return f"--accept-crc takes {', '.join(LEGACY_VARIANTS)}"
    key = None
    if args.sm4_key is not None:
        try:
            key = bytes.fromhex(args.sm4_key)
        except ValueError:
            return "--sm4-key must be hex"
        if len(key) != 16:
            return "--sm4-key must be 16 bytes (32 hex digits)"
    if not 0 < args.max_length <= 9999:
        return "--max-length must be 1..9999"
    return DecodeOptions(accept_crc=accept, sm4_key=key)


def _json_value(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _json_value(v) for k, v in value.items()}
    return value


EMPTY: dict[str, object] = {
    "version": None,
    "qn": None,
    "st": None,
    "cn": None,
    "pw": None,
    "mn": None,
    "flag": None,
    "ack": None,
    "split": None,
    "pnum": None,
    "pno": None,
    "data_time": None,
    "cp": None,
    "values": None,
    "deviations": [],
}


def decode_line(raw: bytes, options: DecodeOptions, max_length: int) -> dict[str, object]:
    raw = raw.strip(b" \t\r\n") + b"\r\n"
    items = Framer(max_length).feed(raw)
    frame = next((i for i in items if isinstance(i, RawFrame)), None)
    if frame is None or items[0] is not frame:
        garbage = items[0] if items else None
        code = getattr(garbage, "code", "framing")
        detail = getattr(garbage, "detail", "no frame")
        return {"ok": False, "error": f"{code}: {detail}", "crc": None, **EMPTY}
    event = decode(frame, options)
    crc = {"declared": frame.declared_crc, "variant": None}
    if not isinstance(event, Message):
        crc["variant"] = event.crc_variant
        out = {"ok": False, "error": f"{event.code}: {event.detail}", "crc": crc, **EMPTY}
        out.update({"mn": event.mn, "cn": event.cn, "qn": event.qn})
        return out
    crc["variant"] = event.crc_variant
    return {
        "ok": True,
        "error": None,
        "version": event.version,
        "crc": crc,
        "qn": event.qn,
        "st": event.st,
        "cn": event.cn,
        "pw": event.pw,
        "mn": event.mn,
        "flag": event.flag,
        "ack": event.ack_requested,
        "split": event.split,
        "pnum": event.pnum,
        "pno": event.pno,
        "data_time": event.data_time.isoformat() if isinstance(event, DataUpload) else None,
        "cp": event.cp,
        "values": _json_value(event.values) if isinstance(event, DataUpload) else {},
        "deviations": list(event.deviations),
        **(
            {"code_map": event.code_map} if isinstance(event, DataUpload) and event.code_map else {}
        ),
        **({"rf": 1} if event.resent else {}),
    }


def run(args: argparse.Namespace) -> int:
    options = _options(args)
    if isinstance(options, str):
        print(f"hj212 decode: {options}", file=sys.stderr)
        return 2
    if args.frames:
        lines = [f.encode("utf-8") for f in args.frames]
    else:
        lines = [line for line in sys.stdin.buffer.read().split(b"\n") if line.strip()]
    for line in lines:
        result = decode_line(line, options, args.max_length)
        print(json.dumps(result, ensure_ascii=False))
    return 0
