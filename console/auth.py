"""Passwords, sessions, tokens and what a user may see and do.

Passwords: ``scrypt$N$r$p$salt$hash`` (hashlib.scrypt, N=2^14, r=8, p=1, 16-byte salt,
32-byte key; base64), compared in constant time. Sessions: a signed cookie
``base64(json{"u": name, "x": expiry}).hmac_sha256``; the user is looked up again on
every request, so a deactivated user or a changed role takes effect at once. Machine
clients send ``Authorization: Bearer <token>``.

Jurisdiction: a user sees a station when its region code starts with the user's
``region_prefix`` and, for the enterprise role, its enterprise is the user's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from storage.console_store import User

_N, _R, _P = 1 << 14, 8, 1

# What each role may do beyond reading the stations in its jurisdiction.
CAN_ACT = frozenset({"administrator", "operator"})  # alarms, cases, marks, commands
CAN_ADMIN = frozenset({"administrator"})  # users, tokens
# Marks are proposed by the enterprise (or a regulator) and reviewed by a regulator
# other than the proposer (storage/marks.py).
CAN_PROPOSE = frozenset({"administrator", "operator", "enterprise"})


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(key)}"


def check_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, key = stored.split("$")
        if kind != "scrypt":
            return False
        found = hashlib.scrypt(
            password.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p), dklen=32
        )
    except ValueError:
        return False
    return hmac.compare_digest(found, _unb64(key))


def sign_session(secret: bytes, name: str, expires: float, issued: float) -> str:
    body = _b64(json.dumps({"u": name, "x": expires, "i": issued}).encode())
    mac = hmac.new(secret, body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


def read_session(secret: bytes, cookie: str, now: float) -> tuple[str, float] | None:
    """The user name and issue time in a valid, unexpired session cookie, else None."""
    body, _, mac = cookie.partition(".")
    want = hmac.new(secret, body.encode(), hashlib.sha256).digest()
    try:
        if not hmac.compare_digest(want, _unb64(mac)):
            return None
        data = json.loads(_unb64(body))
        expires, issued = float(data.get("x", 0)), float(data.get("i", 0))
    except (ValueError, TypeError, AttributeError):
        return None
    name = data.get("u")
    if expires < now or not isinstance(name, str):
        return None
    return name, issued


@dataclass(frozen=True)
class Scope:
    """The stations a user may see, as SQL parameters (see :func:`scope_sql`)."""

    region_prefix: str
    enterprise: str | None

    def allows(self, region_code: str, enterprise: str) -> bool:
        return region_code.startswith(self.region_prefix) and (
            self.enterprise is None or enterprise == self.enterprise
        )


def scope_of(user: User) -> Scope:
    return Scope(user.region_prefix, user.enterprise if user.role == "enterprise" else None)
