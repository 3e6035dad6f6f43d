"""The quarterly direct-report workflow (seed 004 二.3, 四; docs/quarterly.md §2, §4).

draft -> submitted -> city-returned | city-forwarded -> province-returned | approved.
The enterprise pre-fills, corrects and submits its own submission; a city reviewer
(an operator or administrator whose region prefix has 4 digits) returns or forwards
the submissions of its city; a province reviewer (2 digits) returns or approves what
its cities forwarded, and sees a submission only from then on. A return goes back to
the enterprise, which corrects and submits a new version. Every submit freezes the
lines (services/quarterly_lines.py) and every step is one transaction with its audit
entry, so a refused step stores nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from config.calendar import Calendars
from rules.config import Ruleset
from rules.quarterly_calendar import Quarter, deadline
from services import quarterly_lines as lines_of
from storage import audit, enterprises, quarterly
from storage.db import Conn
from storage.quarterly import Submission, Version

REVIEWERS = ("operator", "administrator")
EDITABLE_STATES = ("draft", "city-returned", "province-returned")
PROVINCE_SEES = ("city-forwarded", "province-returned", "approved")
# (level, outcome) -> (the state it acts on, the state it leaves)
STEPS: dict[tuple[str, str], tuple[str, str]] = {
    ("city", "returned"): ("submitted", "city-returned"),
    ("city", "forwarded"): ("submitted", "city-forwarded"),
    ("province", "returned"): ("city-forwarded", "province-returned"),
    ("province", "approved"): ("city-forwarded", "approved"),
}


class QuarterlyError(ValueError):
    """A step that is refused: ``status`` 403 (not yours to do), 404 (not in your
    jurisdiction), 409 (not from this state) or 422 (bad input), with the reasons."""

    def __init__(self, status: int, *errors: str) -> None:
        super().__init__("; ".join(errors))
        self.status = status
        self.errors = list(errors)


@dataclass(frozen=True)
class Actor:
    name: str
    role: str
    region_prefix: str
    enterprise_id: int | None  # the enterprise user's own enterprise

    @property
    def level(self) -> str | None:
        """The review level: 'city' for a 4-digit prefix, 'province' for 2 digits."""
        if self.role not in REVIEWERS:
            return None
        return {4: "city", 2: "province"}.get(len(self.region_prefix))


def actor_of(conn: Conn, name: str, role: str, region_prefix: str) -> Actor:
    return Actor(name, role, region_prefix, quarterly.user_enterprise(conn, name))


def may_see(actor: Actor, sub: Submission) -> bool:
    if actor.role == "enterprise":
        return actor.enterprise_id == sub.enterprise_id
    if not sub.region_code.startswith(actor.region_prefix):
        return False
    return actor.level != "province" or sub.state in PROVINCE_SEES


def visible(conn: Conn, actor: Actor, ident: int, *, lock: bool = False) -> Submission:
    sub = quarterly.get(conn, ident, lock=lock)
    if sub is None or not may_see(actor, sub):
        raise QuarterlyError(404, f"no submission {ident}")
    return sub


def _own(actor: Actor, enterprise_id: int) -> None:
    if actor.role != "enterprise" or actor.enterprise_id != enterprise_id:
        raise QuarterlyError(403, "only the enterprise's own users file its submission")


def prefill(
    conn: Conn, actor: Actor, enterprise_id: int, quarter: Quarter, *, now: datetime,
    ruleset: Ruleset,
) -> Submission:  # fmt: skip
    """The enterprise's submission for the quarter, created pre-filled when missing."""
    _own(actor, enterprise_id)
    found = quarterly.of(conn, enterprise_id, quarter.label)
    if found is not None:
        return found
    ent = enterprises.by_id(conn, enterprise_id)
    outlets = enterprises.stations_of(conn, enterprise_id)
    if ent is None or not outlets:
        raise QuarterlyError(422, f"enterprise {enterprise_id} has no active outlet")
    region = ent.region_code or min(o[3] for o in outlets)
    lines = lines_of.prefill(conn, [o[0] for o in outlets], quarter, now=now, ruleset=ruleset)
    with conn.transaction():
        ident = quarterly.create(conn, enterprise_id, quarter.label, region, lines, actor.name, now)
        audit.append(conn, actor.name, "quarterly-prefill", f"quarterly:{ident}",
                     {"enterprise": enterprise_id, "quarter": quarter.label, "lines": len(lines)})  # fmt: skip
    sub = quarterly.get(conn, ident)
    assert sub is not None
    return sub


def correct(
    conn: Conn, actor: Actor, ident: int, changes: list[dict[str, Any]], now: datetime,
    uploads: tuple[tuple[str, str, bytes], ...] = (),
) -> Submission:  # fmt: skip
    """Corrects draft lines (each with its reason; ``attachment`` in a change may be
    ``"upload:N"``, the N-th upload, stored with the change). All or nothing."""
    with conn.transaction():
        sub = visible(conn, actor, ident, lock=True)
        _own(actor, sub.enterprise_id)
        if sub.state not in EDITABLE_STATES:
            raise QuarterlyError(409, f"submission {ident} is {sub.state}: nothing to correct")
        stored = [
            quarterly.add_attachment(conn, ident, n, t, c, actor.name, now) for n, t, c in uploads
        ]
        resolved = [_resolve_upload(c, stored) for c in changes]
        new, errors = lines_of.correct(sub.draft, resolved)
        if errors:
            raise QuarterlyError(422, *errors)
        quarterly.save_draft(conn, ident, new, now)
        audit.append(conn, actor.name, "quarterly-correct", f"quarterly:{ident}",
                     {"changes": resolved, "attachments": stored})  # fmt: skip
    return visible(conn, actor, ident)


def _resolve_upload(change: dict[str, Any], stored: list[int]) -> dict[str, Any]:
    ref = change.get("attachment")
    if isinstance(ref, str) and ref.startswith("upload:"):
        n = int(ref.split(":", 1)[1]) if ref.split(":", 1)[1].isdigit() else 0
        if not 1 <= n <= len(stored):
            raise QuarterlyError(422, f"attachment {ref}: no such upload")
        return {**change, "attachment": stored[n - 1]}
    return change


def submit(
    conn: Conn, actor: Actor, ident: int, now: datetime, calendars: Calendars, note: str = ""
) -> Version:
    """Freezes the draft as the next version and sends it to the city."""
    with conn.transaction():
        sub = visible(conn, actor, ident, lock=True)
        _own(actor, sub.enterprise_id)
        if sub.state not in EDITABLE_STATES:
            raise QuarterlyError(409, f"submission {ident} is {sub.state} already")
        due = deadline(
            Quarter.parse(sub.quarter), "enterprise", calendars.for_region(sub.region_code)
        )
        text = lines_of.canonical(sub.draft)
        version = sub.version + 1
        digest = quarterly.add_version(
            conn, ident, version, text, actor.name, now, now >= due, note
        )
        quarterly.set_state(conn, ident, "submitted", now, version)
        audit.append(conn, actor.name, "quarterly-submit", f"quarterly:{ident}",
                     {"version": version, "sha256": digest.hex(), "late": now >= due})  # fmt: skip
    return quarterly.versions(conn, ident)[-1]


def review(
    conn: Conn, actor: Actor, ident: int, outcome: str, comment: str, now: datetime
) -> Submission:
    """The city's or the province's decision on the last submitted version."""
    level = actor.level
    if level is None:
        raise QuarterlyError(403, "reviewing needs an operator or administrator of a city"
                             " (4-digit region) or a province (2-digit region)")  # fmt: skip
    step = STEPS.get((level, outcome))
    if step is None:
        allowed = sorted(o for lv, o in STEPS if lv == level)
        raise QuarterlyError(422, f"a {level} review is one of {allowed}, not {outcome!r}")
    if outcome == "returned" and not comment.strip():
        raise QuarterlyError(422, "a return needs a comment saying what to correct")
    with conn.transaction():
        sub = visible(conn, actor, ident, lock=True)
        if sub.state != step[0]:
            raise QuarterlyError(
                409, f"submission {ident} is {sub.state}, a {level} review needs {step[0]}"
            )
        quarterly.add_review(conn, ident, sub.version, level, outcome, actor.name, now, comment)
        quarterly.set_state(conn, ident, step[1], now)
        audit.append(conn, actor.name, "quarterly-review", f"quarterly:{ident}",
                     {"level": level, "outcome": outcome, "version": sub.version, "comment": comment})  # fmt: skip
    return visible(conn, actor, ident)


def verify(conn: Conn, actor: Actor, ident: int) -> list[tuple[int, bool]]:
    """Each version and whether its lines still hash to its stored SHA-256."""
    visible(conn, actor, ident)
    return [(v.version, v.verifies()) for v in quarterly.versions(conn, ident)]


def version_lines(conn: Conn, actor: Actor, ident: int, version: int) -> list[dict[str, Any]]:
    """The lines of a version, after checking its hash (a broken one is refused)."""
    visible(conn, actor, ident)
    for v in quarterly.versions(conn, ident):
        if v.version == version:
            if not v.verifies():
                raise QuarterlyError(409, f"version {version} does not match its SHA-256")
            return lines_of.parse(v.canonical)
    raise QuarterlyError(404, f"submission {ident} has no version {version}")


def diff(conn: Conn, actor: Actor, ident: int, old: int, new: int) -> list[dict[str, Any]]:
    return lines_of.diff(
        version_lines(conn, actor, ident, old), version_lines(conn, actor, ident, new)
    )
