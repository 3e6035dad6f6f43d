"""``verify_bundle``: check an evidence bundle with nothing but the project installed.

In order: the ZIP can be read; the signature over manifest.json verifies with the
bundle's public key (and equals a trusted key, if one is given); every file's SHA-256
and size match the manifest, and no file is outside it; every raw frame matches its
line in frames.jsonl, and each frame's hash is recomputed exactly as storage/chain.py
defines it from its exported receive time, transport, peer, bytes and prev_hash, each
prev_hash equal to the previous frame's hash, the ends equal to chain.json; every frame
is re-parsed by the codec and the values it carries compared with the exported ones.
"""

from __future__ import annotations

import base64
import binascii
import json
import zipfile
import zlib
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature

from evidence import bundle, keys
from evidence.reparse import Unreadable, message, row_key
from storage import audit
from storage.chain import link_hash
from storage.records import VALUE_FIELDS, measurements_of
from storage.station_history import VALUE_COLUMNS


class _Bundle:
    def __init__(self, z: zipfile.ZipFile, problems: list[str]) -> None:
        self.z, self.problems = z, problems
        self.names = set(z.namelist())

    def read(self, name: str) -> bytes | None:
        if name not in self.names:
            self.problems.append(f"{name}: missing from the bundle")
            return None
        try:
            return self.z.read(name)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, zlib.error) as exc:
            self.problems.append(f"{name}: damaged in the ZIP ({exc})")
            return None


def verify_bundle(path: Path, *, trusted_key: bytes | None = None) -> list[str]:
    """Every discrepancy found, first one first; empty means the bundle is valid.

    :param trusted_key: the platform's published public key (PEM); without it the key in
        the bundle is used, and its fingerprint (:func:`signer`) should be compared by
        the reader with the one the platform published.
    """
    problems: list[str] = []
    try:
        with zipfile.ZipFile(path) as z:
            _check(_Bundle(z, problems), trusted_key)
    except (zipfile.BadZipFile, OSError) as exc:
        return [f"{path}: not a readable ZIP bundle ({exc})"]
    return problems


def signer(path: Path) -> str | None:
    """The SHA-256 fingerprint of the key a bundle says it was signed with, or None when
    the bundle has no readable key. Without a trusted key to compare it with, a valid
    signature proves only that nothing changed after signing, not who signed."""
    try:
        with zipfile.ZipFile(path) as z:
            return keys.fingerprint(keys.load_public(z.read(bundle.PUBLIC_KEY)))
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, TypeError, zlib.error):
        return None


def _check(b: _Bundle, trusted_key: bytes | None) -> None:
    manifest_bytes = b.read(bundle.MANIFEST)
    signature = b.read(bundle.SIGNATURE)
    public = b.read(bundle.PUBLIC_KEY)
    if manifest_bytes is None or signature is None or public is None:
        return
    _signature(b, manifest_bytes, signature, public, trusted_key)
    try:
        manifest = json.loads(manifest_bytes)
        files: dict[str, Any] = manifest["files"]
    except (ValueError, KeyError, TypeError) as exc:
        b.problems.append(f"{bundle.MANIFEST}: not a manifest ({exc})")
        return
    contents = _hashes(b, files)
    _frames(b, contents)
    _audit(b, contents)
    _case_attachments(b, contents)


def _signature(
    b: _Bundle, manifest: bytes, signature: bytes, public: bytes, trusted: bytes | None
) -> None:
    try:
        key = keys.load_public(public)
    except (ValueError, TypeError) as exc:
        b.problems.append(f"{bundle.PUBLIC_KEY}: not an Ed25519 public key ({exc})")
        return
    if trusted is not None and keys.fingerprint(keys.load_public(trusted)) != keys.fingerprint(key):
        b.problems.append(f"{bundle.PUBLIC_KEY}: not the trusted key (signed by someone else)")
    try:
        key.verify(base64.b64decode(signature.strip(), validate=True), manifest)
    except (InvalidSignature, binascii.Error, ValueError):
        b.problems.append(
            f"{bundle.SIGNATURE}: the signature does not verify over {bundle.MANIFEST}:"
            " the manifest or the signature was changed"
        )


def _hashes(b: _Bundle, files: Mapping[str, Any]) -> dict[str, bytes]:
    contents: dict[str, bytes] = {}
    for name in sorted(b.names - set(files) - bundle.UNSIGNED):
        b.problems.append(f"{name}: not listed in the manifest (added to the bundle)")
    for name, meta in sorted(files.items()):
        data = b.read(name)
        if data is None:
            continue
        if bundle.sha256(data) != meta.get("sha256") or len(data) != meta.get("size"):
            b.problems.append(f"{name}: SHA-256 differs from the manifest (the file was changed)")
        contents[name] = data
    return contents


def _lines(b: _Bundle, contents: Mapping[str, bytes], name: str) -> list[dict[str, Any]]:
    try:
        return bundle.read_jsonl(contents.get(name, b""))
    except (ValueError, UnicodeDecodeError) as exc:
        b.problems.append(f"{name}: unreadable ({exc})")
        return []


def _frames(b: _Bundle, contents: Mapping[str, bytes]) -> None:
    frames = _lines(b, contents, bundle.FRAMES)
    try:
        links = json.loads(contents.get(bundle.CHAIN, b"{}"))
    except ValueError as exc:
        b.problems.append(f"{bundle.CHAIN}: unreadable ({exc})")
        links = {}
    rows: dict[str, list[dict[str, Any]]] = {}
    for name in sorted({*bundle.MEASUREMENT_FILES.values(), bundle.EARLIER}):
        rows[name] = _lines(b, contents, name)
    try:
        _chain(b, contents, frames, links)
        _values(b, contents, frames, rows)
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        b.problems.append(f"{bundle.FRAMES} or a data file: malformed line ({exc!r})")


def _chain(
    b: _Bundle, contents: Mapping[str, bytes], frames: list[dict[str, Any]], links: dict[str, Any]
) -> None:
    prev: bytes | None = None
    prev_id = None
    for f in frames:
        ident = f.get("id")
        raw = contents.get(bundle.raw_name(ident or 0))
        if raw is None:
            b.problems.append(f"frame {ident}: its raw bytes are missing")
            return
        if bundle.sha256(raw) != f.get("raw_sha256"):
            b.problems.append(f"frame {ident}: raw bytes differ from frames.jsonl's raw_sha256")
        link = bytes.fromhex(f.get("prev_hash") or "")
        if prev is None and f.get("prev_hash") != links.get("first_prev_hash"):
            b.problems.append(f"frame {ident}: prev_hash differs from chain.json's first link")
        if prev is not None and link != prev:
            b.problems.append(f"frame {ident}: prev_hash is not the hash of frame {prev_id}")
        at = datetime.fromisoformat(f["received_at"])
        computed = link_hash(link, at, f["transport"], f["peer"], raw)
        if computed.hex() != f.get("hash"):
            b.problems.append(
                f"frame {ident}: hash does not match its receive time, transport, peer and"
                " bytes (storage/chain.py): the frame or its line was changed"
            )
            computed = bytes.fromhex(f.get("hash") or "")  # link on: one change, one message
        prev, prev_id = computed, ident
    if frames and (prev or b"").hex() != links.get("last_hash"):
        b.problems.append(f"{bundle.CHAIN}: last_hash is not the hash of frame {prev_id}")
    head = links.get("head") or {}
    if frames and head.get("last_id") == prev_id and head.get("last_hash") != links["last_hash"]:
        b.problems.append(f"{bundle.CHAIN}: the chain head disagrees with the last frame")


def _values(
    b: _Bundle,
    contents: Mapping[str, bytes],
    frames: list[dict[str, Any]],
    rows: dict[str, list[dict[str, Any]]],
) -> None:
    exported: dict[tuple[str, str, datetime], tuple[str, dict[str, Any]]] = {}
    for name, found in rows.items():
        for row in found:
            exported[row_key(row)] = (name, row)
    ids = {f.get("id") for f in frames}
    for name, found in rows.items():
        for row in found:
            if name != bundle.EARLIER and row.get("frame_id") not in ids:
                b.problems.append(f"{name}: a row names frame {row.get('frame_id')}, not exported")
    for f in frames:
        raw = contents.get(bundle.raw_name(f.get("id") or 0))
        if raw is not None:
            carried = _frame_values(b, f, raw, exported)
            if carried is not None:
                _not_carried(b, f.get("id"), carried, rows)


def _frame_values(
    b: _Bundle,
    f: dict[str, Any],
    raw: bytes,
    exported: Mapping[tuple[str, str, datetime], tuple[str, dict[str, Any]]],
) -> set[tuple[str, str, datetime]] | None:
    """Compare the values the frame's bytes carry with the exported ones; their keys."""
    ident = f.get("id")
    try:
        decoded = message(raw)
    except Unreadable as exc:
        if f.get("status") in ("ok", "duplicate") and exc.code != "decrypt":
            b.problems.append(f"frame {ident}: stored as {f.get('status')} but unreadable: {exc}")
        return None  # encrypted (2025) without the station's key: values cannot be re-read
    carried = set()
    for field in ("mn", "qn", "cn"):
        if getattr(decoded, field) != f.get(field):
            b.problems.append(
                f"frame {ident}: {field} is {f.get(field)!r} in frames.jsonl but"
                f" {getattr(decoded, field)!r} in its bytes"
            )
    for parsed in measurements_of(decoded):
        key = (parsed.cn, parsed.pollutant, parsed.data_time)
        carried.add(key)
        if key not in exported:
            if f.get("status") == "ok":
                b.problems.append(
                    f"frame {ident}: record {parsed.cn} {parsed.pollutant} at"
                    f" {bundle.iso(parsed.data_time)} is missing from the exported values"
                )
            continue
        name, row = exported[key]
        if row.get("frame_id") != ident:
            continue  # stored from another frame (a retransmission): compared there
        for column, field, value in zip(VALUE_COLUMNS, VALUE_FIELDS, parsed.values, strict=True):
            if row.get(column) != value:
                b.problems.append(
                    f"{name}: frame {ident}, {parsed.cn} {parsed.pollutant} at"
                    f" {bundle.iso(parsed.data_time)}: {column} is {row.get(column)!r} but the"
                    f" frame's bytes say {field}={value!r}"
                )
        if row.get("flag") != parsed.flag:
            b.problems.append(
                f"{name}: frame {ident}, {parsed.cn} {parsed.pollutant}: flag"
                f" {row.get('flag')!r} but the frame's bytes say {parsed.flag!r}"
            )
    return carried


def _not_carried(
    b: _Bundle,
    ident: object,
    carried: set[tuple[str, str, datetime]],
    rows: Mapping[str, list[dict[str, Any]]],
) -> None:
    for name, found in rows.items():
        for row in found:
            if row.get("frame_id") == ident and row_key(row) not in carried:
                cn, pollutant, at = row_key(row)
                b.problems.append(
                    f"{name}: {cn} {pollutant} at {bundle.iso(at)} names frame {ident},"
                    " whose bytes do not carry it"
                )


def _audit(b: _Bundle, contents: Mapping[str, bytes]) -> None:
    """Each exported audit entry's own link hash (the excerpt is not a contiguous run)."""
    for entry in _lines(b, contents, bundle.AUDIT):
        if entry.get("hash") is None:
            continue  # written before the audit chain existed (migration 0030)
        try:
            computed = audit.link_hash(
                bytes.fromhex(entry["prev_hash"]), entry["seq"], entry["id"],
                datetime.fromisoformat(entry["at"]), entry["actor"], entry["action"],
                entry["object"], entry["mn"], entry["detail_text"],
            )  # fmt: skip
        except (KeyError, ValueError, TypeError) as exc:
            b.problems.append(f"{bundle.AUDIT}: malformed entry ({exc!r})")
            continue
        if computed.hex() != entry["hash"]:
            b.problems.append(f"{bundle.AUDIT}: entry id {entry['id']} does not match its hash")


def _case_attachments(b: _Bundle, contents: Mapping[str, bytes]) -> None:
    """Each report's and sample's attachment against the SHA-256 recorded when it was
    filed (docs/regulations.md §6.5): a file changed and re-signed still fails here."""
    for line in _lines(b, contents, bundle.CASE_ATTACHMENTS):
        name = bundle.case_attachment_name(line.get("id", 0), str(line.get("name", "")))
        data = contents.get(name)
        if data is None:
            b.problems.append(f"{name}: listed in {bundle.CASE_ATTACHMENTS} but missing")
        elif bundle.sha256(data) != line.get("sha256") or len(data) != line.get("size"):
            b.problems.append(f"{name}: SHA-256 differs from the one recorded when it was filed")
