"""The platform's evidence signing key: Ed25519, created once at installation.

``hj212 evidence keygen`` creates it under ``var/keys`` (or ``$HJ212_KEY_DIR``) if it is
missing; the first export creates it too. The private half never leaves that directory
(mode 0600); the public half goes into every bundle and is printed by ``hj212 evidence
public-key`` so that an inspector can compare it with the one the platform published.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PRIVATE = "evidence-ed25519.pem"
PUBLIC = "evidence-ed25519.pub.pem"


def key_dir(path: Path | None = None) -> Path:
    """Where the key lives: ``path``, else ``$HJ212_KEY_DIR``, else ``var/keys``."""
    return path or Path(os.environ.get("HJ212_KEY_DIR") or "var/keys")


def keygen(directory: Path | None = None) -> tuple[Path, bool]:
    """Create the key pair if it is missing; (private key path, whether it was created)."""
    directory = key_dir(directory)
    private = directory / PRIVATE
    if private.exists():
        return private, False
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    (directory / PUBLIC).write_bytes(public_pem(key.public_key()))
    return private, True


def load_private(directory: Path | None = None) -> Ed25519PrivateKey:
    """The signing key (created first if missing)."""
    private, _ = keygen(directory)
    key = serialization.load_pem_private_key(private.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise TypeError(f"{private} is not an Ed25519 private key")
    return key


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_public(pem: bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise TypeError("not an Ed25519 public key")
    return key


def fingerprint(key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw public key, hex: short enough to read out over the phone."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()
