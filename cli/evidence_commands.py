"""``hj212 evidence export|verify|keygen|public-key``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import psycopg

from cli.audit_commands import who_am_i
from cli.common import err, moment, resolve_dsn
from evidence import keys
from evidence.export import ExportError, export_bundle
from evidence.verify import signer, verify_bundle


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    ev = sub.add_parser("evidence", help="signed evidence bundles: export, verify, keys")
    esub = ev.add_subparsers(dest="action", required=True)
    export = esub.add_parser("export", help="one station's window as a signed ZIP bundle")
    export.add_argument("--mn", required=True)
    export.add_argument("--from", dest="start", type=moment, required=True, help="ISO time")
    export.add_argument("--to", dest="end", type=moment, required=True, help="ISO time")
    export.add_argument("-o", "--output", type=Path, required=True, help="bundle.zip")
    export.add_argument("--by", help="who exports (default $USER)")
    export.add_argument("--dsn", help="use this database instead of the embedded cluster")
    verify = esub.add_parser("verify", help="check a bundle (no database needed)")
    verify.add_argument("bundle", type=Path)
    verify.add_argument("--key", type=Path, help="the platform's published public key (PEM)")
    for name, text in (("keygen", "create the signing key if missing"),
                       ("public-key", "print the public key (PEM) and its fingerprint")):  # fmt: skip
        p = esub.add_parser(name, help=text)
        p.add_argument("--key-dir", type=Path, help="default var/keys or $HJ212_KEY_DIR")
    export.add_argument("--key-dir", type=Path, help="default var/keys or $HJ212_KEY_DIR")
    ev.set_defaults(func=evidence_command)


def evidence_command(args: argparse.Namespace) -> int:
    if args.action == "keygen":
        path, created = keys.keygen(args.key_dir)
        print(f"{'created' if created else 'exists'}: {path}")
        return 0
    if args.action == "public-key":
        key = keys.load_private(args.key_dir).public_key()
        sys.stdout.write(keys.public_pem(key).decode())
        print(f"# SHA-256 fingerprint: {keys.fingerprint(key)}", file=sys.stderr)
        return 0
    if args.action == "verify":
        return verify_command(args.bundle, args.key)
    dsn = args.dsn or resolve_dsn(args.settings)
    if dsn is None:
        return err("no database configured and no embedded cluster: run `hj212 db up`")
    try:
        out = export_bundle(
            dsn, args.mn, args.start, args.end, args.output, who=args.by or who_am_i(),
            key_dir=args.key_dir, ruleset=args.settings.rules.ruleset,
        )  # fmt: skip
    except ExportError as exc:
        return err(f"evidence export refused: {exc}")
    except psycopg.Error as exc:
        return err(str(exc))
    print(f"OK: {out}")
    return 0


def verify_command(path: Path, key: Path | None) -> int:
    """``hj212 evidence verify``: every discrepancy, then who signed, and what that proves."""
    try:
        trusted = key.read_bytes() if key else None
    except OSError as exc:
        return err(f"cannot read the trusted key: {exc}")
    problems = verify_bundle(path, trusted_key=trusted)
    for problem in problems:
        print(f"DISCREPANCY {problem}")
    fingerprint = signer(path)
    print(f"signer: Ed25519 key, SHA-256 fingerprint {fingerprint or '(no readable key)'}")
    if problems:
        print(f"FAILED: {len(problems)} discrepancy(ies); the first: {problems[0]}")
        return 1
    if trusted is not None:
        print(f"OK: {path} is intact and signed by the trusted key given with --key")
        return 0
    print(f"OK: {path} is intact: the signature verifies with the key inside the bundle")
    print(
        "NOTE: no trusted key was given (--key), so the signature proves integrity only"
        " (nothing changed after signing), not who signed: anyone can re-sign a bundle"
        " with a key of their own. Compare the fingerprint above with the one the"
        " platform publishes (`hj212 evidence public-key`), or verify with --key."
    )
    return 0
