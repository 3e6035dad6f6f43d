"""Proposing and reviewing corrections and substitutions (docs/corrections.md).

:func:`check` returns every error of a proposal at once; :func:`propose` checks it and
stores it with its vouchers and audit entry in one transaction, so a bad field stores
nothing. What may be corrected is decided by the pure rules (rules/corrections.py): the
window of the station's region, the substitution rule. The stored hourly records are
read, never changed (the raw archive and its hash chain stay as they were).

Jurisdiction (an enterprise proposes only for its stations, a regulator reviews only in
its region) is the caller's check, as for the case forms (services/case_forms.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from rules.config import Ruleset
from rules.corrections import CorrectionError, check_form, substitute, window_refusal
from rules.model import StationInfo
from rules.rates import HourData
from rules.times import HOUR, hour_floor, iso, us
from rules.transmission import counted_until
from rules.validity import mark_effect
from services.case_forms import FormError, Upload, check_uploads
from storage import corrections as store
from storage import reports_queries, rules_inputs
from storage.db import Conn

AROUND = timedelta(hours=26)  # how far a substitution looks for valid hours (24 h gap)


@dataclass(frozen=True)
class CorrectionForm:
    mn: str
    pollutant: str
    data_time: datetime
    kind: str  # substitution | correction
    reason: str
    new_value: float | None = None  # a correction's value
    rule: str | None = None  # a substitution's rule
    period: str = "hour"
    attachments: tuple[Upload, ...] = ()


@dataclass(frozen=True)
class _Hour:
    original: float | None
    valid: dict[int, float]  # hour µs -> valid value, around the hour


def _valid(data: reports_queries.StationData, code: str) -> dict[int, float]:
    """Hours with a normal value outside any invalidating mark [E] (docs/corrections.md §1)."""
    out = {}
    for (found, hour), record in data.hours.items():
        value = record.reading.value
        if found != code or value is None or not record.reading.normal:
            continue
        if mark_effect(data.marks, code, hour, hour + HOUR) is None:
            out[hour] = value
    return out


def _hour(conn: Conn, form: CorrectionForm) -> _Hour:
    start, end = form.data_time - AROUND, form.data_time + AROUND
    data = reports_queries.period_data(conn, [form.mn], start, end)[form.mn]
    record: HourData | None = data.hours.get((form.pollutant, us(form.data_time)))
    original = record.reading.value if record is not None else None
    valid = _valid(data, form.pollutant)
    # an approved correction is the right value of its hour; a substituted one is no
    # measurement to substitute from (docs/corrections.md §1)
    for (code, hour), fixed in store.in_force(conn, [form.mn], start, end).get(form.mn, {}).items():
        if code == form.pollutant and fixed.kind == "correction":
            valid[hour] = fixed.value
    return _Hour(original, valid)


def _station(conn: Conn, mn: str) -> StationInfo | None:
    found = rules_inputs.stations(conn, mn)
    return found[0] if found else None


def check(conn: Conn, form: CorrectionForm, at: datetime, ruleset: Ruleset) -> list[str]:
    """Every problem with ``form`` proposed at ``at``, ``field: message`` each."""
    errors = check_form(form.kind, form.period, form.reason, form.new_value)
    errors += check_uploads(form.attachments)
    station = _station(conn, form.mn)
    if station is None:
        return [*errors, f"mn: no station {form.mn}"]
    if form.pollutant not in station.pollutants:
        errors.append(f"pollutant: {form.pollutant} is not registered for {form.mn}")
    hour = us(form.data_time)
    if hour != hour_floor(hour):
        return [*errors, "data_time: the start of an hour (HJ 212 DataTime of a 2061 record)"]
    cfg = ruleset.for_region(station.region_code)
    late = window_refusal(hour, us(at), cfg)
    if late is not None:
        errors.append(f"data_time: {late}")
    elif hour + HOUR > counted_until(us(at), cfg):
        errors.append(f"data_time: the hour {iso(hour)} has not been judged yet")
    if errors:
        return errors
    if store.taken(conn, form.mn, form.pollutant, form.data_time):
        errors.append("data_time: this hour already has a correction pending or in force")
    found = _hour(conn, form)
    if form.kind == "correction" and found.original is None:
        errors.append("kind: no value is stored for that hour: propose a substitution")
    if form.kind == "correction" and form.new_value == found.original:
        errors.append("new_value: the same as the stored value")
    if form.kind == "substitution":
        try:
            substitute(form.rule or "", hour, found.valid, us(at))
        except CorrectionError as exc:
            errors.append(f"rule: {exc}")
    return errors


def propose(conn: Conn, form: CorrectionForm, who: str, at: datetime, ruleset: Ruleset) -> int:
    """Check and store a proposal; its id. :raises FormError: with every error."""
    errors = check(conn, form, at, ruleset)
    if errors:
        raise FormError(errors)
    found = _hour(conn, form)
    value, rule, basis = form.new_value, None, dict[str, object]()
    if form.kind == "substitution":
        made = substitute(form.rule or "", us(form.data_time), found.valid, us(at))
        value, rule, basis = made.value, made.rule, made.basis()
    assert value is not None
    assert math.isfinite(value)
    files = tuple((u.name, u.content) for u in form.attachments)
    proposal = store.Proposal(
        form.mn, form.pollutant, form.data_time, found.original, value, form.kind, rule, basis,
        form.reason.strip(), files,
    )  # fmt: skip
    return store.insert(conn, proposal, who, at)


def review(
    conn: Conn, ident: int, outcome: str, who: str, note: str, at: datetime
) -> store.CorrectionRow:
    """Approve, return or reject (storage/corrections.py); :raises FormError:."""
    try:
        return store.review(conn, ident, outcome, who, note, at)
    except CorrectionError as exc:
        raise FormError([str(exc)]) from None


def mark_window_refusal(
    conn: Conn, mn: str, start: datetime, at: datetime, ruleset: Ruleset
) -> str | None:
    """Why a mark from ``start`` proposed at ``at`` comes too late (docs/corrections.md §2)."""
    station = _station(conn, mn)
    cfg = ruleset.for_region(station.region_code if station else "")
    return window_refusal(us(start), us(at), cfg)
