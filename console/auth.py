"""Passwords, sessions, tokens and what a user may see and do.

Passwords: ``scrypt$N$r$p$salt$hash`` (hashlib.scrypt, N=2^14, r=8, p=1, 16-byte salt,
32-byte key; base64), compared in constant time. Sessions: a signed cookie
``base64(json{"u": name, "x": expiry, "i": issued, "g": epoch}).hmac_sha256``; the user
is looked up again on every request and the cookie holds only while the user is active
and its session epoch is still ``g`` (a sign-out, a password change or reset, a
deactivation move the epoch on), so each of these ends its sessions at once. Machine
clients send ``Authorization: Bearer <token>``.

Jurisdiction: a user sees a station when its region code starts with the user's
``region_prefix`` and, for the enterprise role, its enterprise is the user's.

Graded rights (docs/regulations.md §12: seed 001 Art. 5-7 and 16, each level grants the
accounts of its own and the next level; seed 002 Art. 19, 防止越权使用数据): an
administrator manages only users whose region prefix lies inside its own, and grants
only rights it holds (:func:`grant_refusal`).
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

# What each role may do; a role may be granted only by a user whose role holds all of it.
RIGHTS: dict[str, frozenset[str]] = {
    "administrator": frozenset({"read", "act", "propose", "admin"}),
    "operator": frozenset({"read", "act", "propose"}),
    "inspector": frozenset({"read"}),
    "enterprise": frozenset({"read", "propose"}),  # its own stations only (Scope)
}


def _having(right: str) -> frozenset[str]:
    return frozenset(role for role, rights in RIGHTS.items() if right in rights)


CAN_ACT = _having("act")  # alarms, cases, marks, commands
CAN_ADMIN = _having("admin")  # users, tokens of others, the audit log of the region
# Marks are proposed by the enterprise (or a regulator) and reviewed by a regulator
# other than the proposer (storage/marks.py).
CAN_PROPOSE = _having("propose")


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


def sign_session(secret: bytes, name: str, expires: float, issued: float, epoch: int = 0) -> str:
    body = _b64(json.dumps({"u": name, "x": expires, "i": issued, "g": epoch}).encode())
    mac = hmac.new(secret, body.encode(), hashlib.sha256).digest()
    return f"{body}.{_b64(mac)}"


@dataclass(frozen=True)
class Session:
    name: str
    issued: float
    epoch: int


def read_session(secret: bytes, cookie: str, now: float) -> Session | None:
    """What a valid, unexpired session cookie says, else None."""
    body, _, mac = cookie.partition(".")
    want = hmac.new(secret, body.encode(), hashlib.sha256).digest()
    try:
        if not hmac.compare_digest(want, _unb64(mac)):
            return None
        data = json.loads(_unb64(body))
        expires, issued = float(data.get("x", 0)), float(data.get("i", 0))
        epoch = int(data.get("g", 0))
    except (ValueError, TypeError, AttributeError):
        return None
    name = data.get("u")
    if expires < now or not isinstance(name, str):
        return None
    return Session(name, issued, epoch)


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


def manages(actor: User, region_prefix: str) -> bool:
    """Whether ``actor`` administers users of jurisdiction ``region_prefix``: its own
    region and every region inside it (4201 manages 4201 and 420102, not 42 or 4205)."""
    return actor.role in CAN_ADMIN and region_prefix.startswith(actor.region_prefix)


def grant_refusal(actor: User, role: str, region_prefix: str) -> str | None:
    """Why ``actor`` may not give a user ``role`` over ``region_prefix``; None if it may."""
    if actor.role not in CAN_ADMIN:
        return "administrators only"
    if not RIGHTS[role] <= RIGHTS[actor.role]:
        return f"a {actor.role} cannot grant the rights of a {role}"
    if not region_prefix.startswith(actor.region_prefix):
        where = actor.region_prefix or "every region"
        return f"the region '{region_prefix}' is not inside your jurisdiction ({where})"
    return None
