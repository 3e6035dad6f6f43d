"""The enterprise's and the regulator's forms on cases (docs/regulations.md §6.5).

One function per form checks every field and returns every error at once
(``check_*``); ``file_*`` checks again inside the transaction that writes the form, its
attachments and its audit entry, so nothing is stored half and a form checked against
a case that changed meanwhile is refused. The time of filing is the caller's clock
(the console's, the CLI's), stored in the row: the rules engine takes the filing at
that time (rules/filings.py), live and in a replay alike.

Jurisdiction (an enterprise acts only on its own stations) is the caller's check,
made on the station the form's case belongs to, before filing.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import filetype

from protocol.pollutants import lookup
from rules.config import RulesConfig
from storage import audit, incidents, manual_data
from storage.db import Conn

MAX_ATTACHMENT = 10 * 1024 * 1024  # bytes (migration 0100 holds the same limit)
MAX_TEXT = 4000
MAX_NOTICE = timedelta(days=31)  # an advance notice's window [E]
CONTENT_TYPES = ("application/pdf", "image/png", "image/jpeg", "text/plain")
NOTICE_MARK = {"planned-stop": "shutdown", "planned-maintenance": "maintenance"}


class FormError(ValueError):
    """A form that cannot be filed: every problem found, ``field: message`` each."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class Upload:
    name: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class ReportForm:
    case_id: int
    kind: str  # written | restoration
    cause: str = ""
    started_at: datetime | None = None
    expected_restore: datetime | None = None
    measures: str = ""
    corrects: int | None = None
    attachments: tuple[Upload, ...] = ()


@dataclass(frozen=True)
class NoticeForm:
    mn: str
    kind: str  # planned-stop | planned-maintenance
    start: datetime
    end: datetime
    cause: str
    measures: str = ""  # the manual-monitoring plan (环发〔2008〕6号 第十四条)
    attachments: tuple[Upload, ...] = ()


@dataclass(frozen=True)
class SampleForm:
    case_id: int
    pollutant: str
    sampled_at: datetime
    value: float
    unit: str
    method: str
    laboratory: str
    attachments: tuple[Upload, ...] = field(default_factory=tuple)


def check_uploads(uploads: tuple[Upload, ...], *, required: bool = False) -> list[str]:
    """Each attachment: a name, a size within the limit, a declared content type that
    is allowed and that its bytes bear out."""
    errors = ["attachments: the lab report is required"] if required and not uploads else []
    for i, up in enumerate(uploads, 1):
        where = f"attachment {i} ({up.name or 'no name'})"
        if not up.name.strip() or len(up.name) > 200:
            errors.append(f"{where}: a name of 1-200 characters is required")
        if not 0 < len(up.content) <= MAX_ATTACHMENT:
            errors.append(f"{where}: size must be 1 byte to {MAX_ATTACHMENT} bytes")
        if up.content_type not in CONTENT_TYPES:
            errors.append(f"{where}: content type must be one of {', '.join(CONTENT_TYPES)}")
        elif _sniffed(up.content) != up.content_type:
            errors.append(f"{where}: the content is not {up.content_type}")
    return errors


def _sniffed(content: bytes) -> str | None:
    found = filetype.guess_mime(content)
    if found is not None:
        return str(found)
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "text/plain"


def _text(errors: list[str], name: str, value: str, *, required: bool) -> None:
    if required and not value.strip():
        errors.append(f"{name}: required")
    if len(value) > MAX_TEXT:
        errors.append(f"{name}: at most {MAX_TEXT} characters")


def check_report(conn: Conn, form: ReportForm, at: datetime) -> list[str]:
    """Every problem of a written report or restoration notice filed at ``at``."""
    errors: list[str] = []
    case = incidents.case(conn, form.case_id)
    if form.kind not in ("written", "restoration"):
        errors.append("kind: written or restoration")
    if case is None:
        return [*errors, f"case: no case {form.case_id}"]
    if case.state != "open" and form.kind == "written" and form.corrects is None:
        errors.append("case: the case is closed")
    written = form.kind == "written"
    _text(errors, "cause", form.cause, required=written)
    _text(errors, "measures", form.measures, required=written)
    if written and form.started_at is None:
        errors.append("started_at: required")
    if form.started_at is not None and form.started_at > at:
        errors.append("started_at: in the future")
    restore = form.expected_restore
    if written and restore is None:
        errors.append("expected_restore: required")
    if restore is not None and form.started_at is not None and restore <= form.started_at:
        errors.append("expected_restore: must be after started_at")
    errors += _check_correction(conn, form, case.id)
    return errors + check_uploads(form.attachments)


def _check_correction(conn: Conn, form: ReportForm, case_id: int) -> list[str]:
    earlier = [r for r in incidents.reports(conn, case_id=case_id) if r.kind == "written"]
    if form.kind != "written":
        return []
    if form.corrects is None:
        if earlier:
            return [f"corrects: report {earlier[-1].id} is on file; correct it once returned"]
        return []
    target = next((r for r in earlier if r.id == form.corrects), None)
    if target is None:
        return [f"corrects: no written report {form.corrects} on this case"]
    if target.state != "returned" or earlier[-1].id != target.id:
        return [f"corrects: report {form.corrects} is not the returned report in force"]
    return []


def file_report(conn: Conn, form: ReportForm, who: str, at: datetime) -> int:
    """Check and store a report with its attachments and audit entry; its id."""
    with conn.transaction():
        case = incidents.case_for_update(conn, form.case_id)
        errors = check_report(conn, form, at)
        if errors or case is None:
            raise FormError(errors)
        ident = incidents.insert_report(
            conn,
            mn=case.mn,
            case_id=case.id,
            kind=form.kind,
            who=who,
            at=at,
            cause=form.cause,
            started_at=form.started_at,
            expected_restore=form.expected_restore,
            measures=form.measures,
            corrects=form.corrects,
        )
        files = _attach(conn, "report", ident, form.attachments)
        late = form.kind == "written" and case.report_due is not None and at > case.report_due
        detail: dict[str, object] = {"case": case.id, "kind": form.kind, "late": late}
        detail["attachments"] = files
        if form.corrects is not None:
            detail["corrects"] = form.corrects
        audit.append(conn, who, "case-report", f"case_report:{ident}", detail, mn=case.mn)
    return ident


def check_notice(conn: Conn, form: NoticeForm, at: datetime) -> list[str]:
    """Every problem of an advance notice of a planned stop or maintenance."""
    errors: list[str] = []
    if form.kind not in NOTICE_MARK:
        errors.append(f"kind: one of {', '.join(NOTICE_MARK)}")
    if form.end <= form.start:
        errors.append("end: must be after start")
    elif form.end - form.start > MAX_NOTICE:
        errors.append(f"end: a notice covers at most {MAX_NOTICE.days} days")
    if form.start <= at:
        errors.append("start: an advance notice is filed before the stop begins")
    _text(errors, "cause", form.cause, required=True)
    _text(errors, "measures", form.measures, required=False)
    if not incidents.station_exists(conn, form.mn):
        errors.append(f"mn: no station {form.mn}")
    return errors + check_uploads(form.attachments)


def file_notice(conn: Conn, form: NoticeForm, who: str, at: datetime) -> int:
    with conn.transaction():
        errors = check_notice(conn, form, at)
        if errors:
            raise FormError(errors)
        ident = incidents.insert_report(
            conn,
            mn=form.mn,
            case_id=None,
            kind=form.kind,
            who=who,
            at=at,
            cause=form.cause,
            measures=form.measures,
            window=(form.start, form.end),
        )
        files = _attach(conn, "report", ident, form.attachments)
        detail: dict[str, object] = {"kind": form.kind, "attachments": files}
        detail.update({"from": form.start.isoformat(), "to": form.end.isoformat()})
        audit.append(conn, who, "case-notice", f"case_report:{ident}", detail, mn=form.mn)
    return ident


def review_report(
    conn: Conn, report_id: int, *, acknowledge: bool, note: str, who: str, at: datetime
) -> int:
    """The regulator acknowledges a report or notice, or returns it with a note. An
    acknowledged advance notice writes its window's data mark (NOTICE_MARK)."""
    with conn.transaction():
        report = incidents.report_for_update(conn, report_id)
        errors: list[str] = []
        if report is None:
            raise FormError([f"report: no report {report_id}"])
        if report.state != "filed":
            errors.append(f"report: report {report_id} was already {report.state}")
        if report.filed_by == who:
            errors.append(f"report: filed by {who}; another user must review it")
        if not acknowledge and not note.strip():
            errors.append("note: a returned report needs a note saying what to correct")
        _text(errors, "note", note, required=False)
        if errors:
            raise FormError(errors)
        mark_id = None
        if acknowledge and report.kind in NOTICE_MARK and report.start and report.end:
            reason = f"{report.cause} (notice {report_id})"
            window = (report.start, report.end)
            category = NOTICE_MARK[report.kind]
            mark_id = incidents.insert_notice_mark(conn, report.mn, window, category, reason, who)
        decision = "acknowledged" if acknowledge else "returned"
        ident = incidents.insert_review(
            conn, report_id, decision=decision, note=note, who=who, at=at, mark_id=mark_id
        )
        detail: dict[str, object] = {"decision": decision, "note": note, "data_mark": mark_id}
        audit.append(conn, who, "case-review", f"case_report:{report_id}", detail, mn=report.mn)
    return ident


def check_sample(conn: Conn, form: SampleForm, at: datetime) -> list[str]:
    """Every problem of a manual sample entered at ``at`` on its case."""
    errors: list[str] = []
    case = incidents.case(conn, form.case_id)
    if case is None:
        errors.append(f"case: no case {form.case_id}")
    else:
        begin = case.started_at or case.opened_at
        end = min(at, case.closed_at) if case.closed_at is not None else at
        if not begin <= form.sampled_at <= end:
            errors.append(
                f"sampled_at: outside the case ({begin.isoformat()} to {end.isoformat()})"
            )
        errors += _check_factor(conn, case.mn, form)
    _text(errors, "method", form.method, required=True)
    _text(errors, "laboratory", form.laboratory, required=True)
    return errors + check_uploads(form.attachments, required=True)


def _check_factor(conn: Conn, mn: str, form: SampleForm) -> list[str]:
    factor = lookup(form.pollutant)
    if factor is None:
        return [f"pollutant: {form.pollutant} is not an HJ 212-2017 code"]
    registered = manual_data.factors(conn, mn).get(form.pollutant)
    if registered is None:
        return [f"pollutant: {form.pollutant} is not registered for station {mn}"]
    errors = []
    unit = unit_spelling(registered.unit or factor.unit)
    if unit_spelling(form.unit) != unit:
        errors.append(f"unit: {form.pollutant} is measured in {unit}, not {form.unit}")
    low, high = registered.range_low, registered.range_high
    if not math.isfinite(form.value):
        errors.append("value: not a number")
    elif (low is not None and form.value < low) or (high is not None and form.value > high):
        errors.append(f"value: outside the factor's range {low} to {high} {unit}")
    return errors


def unit_spelling(unit: str) -> str:
    """A unit as the code table writes it: "mg/m3" and "ug/m3" as typed on a keyboard
    are mg/m³ and µg/m³ (protocol/pollutants.py)."""
    text = unit.strip().replace("μ", "µ")
    if text.startswith("ug"):
        text = "µ" + text[1:]
    return text.replace("m3", "m³")


def file_sample(conn: Conn, form: SampleForm, who: str, at: datetime) -> int:
    with conn.transaction():
        case = incidents.case_for_update(conn, form.case_id)
        errors = check_sample(conn, form, at)
        if errors or case is None:
            raise FormError(errors)
        ident = manual_data.insert(
            conn,
            mn=case.mn,
            case_id=case.id,
            pollutant=form.pollutant,
            sampled_at=form.sampled_at,
            value=form.value,
            unit=unit_spelling(form.unit),
            method=form.method,
            laboratory=form.laboratory,
            who=who,
            at=at,
        )
        files = _attach(conn, "sample", ident, form.attachments)
        detail = {
            "case": case.id,
            "pollutant": form.pollutant,
            "sampled_at": form.sampled_at.isoformat(),
            "value": form.value,
            "unit": form.unit,
            "attachments": files,
        }
        audit.append(conn, who, "manual-sample", f"manual_sample:{ident}", detail, mn=case.mn)
    return ident


def review_sample(
    conn: Conn, sample_id: int, *, accept: bool, note: str, who: str, at: datetime
) -> None:
    with conn.transaction():
        sample = manual_data.for_update(conn, sample_id)
        if sample is None:
            raise FormError([f"sample: no sample {sample_id}"])
        errors = []
        if sample.state != "pending":
            errors.append(f"sample: sample {sample_id} was already {sample.state}")
        if sample.entered_by == who:
            errors.append(f"sample: entered by {who}; another user must review it")
        if not accept and not note.strip():
            errors.append("note: a rejected sample needs a note")
        if errors:
            raise FormError(errors)
        manual_data.review(conn, sample_id, accept=accept, who=who, at=at, note=note)
        detail = {"decision": "accepted" if accept else "rejected", "note": note}
        audit.append(conn, who, "sample-review", f"manual_sample:{sample_id}", detail, mn=sample.mn)


def _attach(conn: Conn, owner: str, ident: int, uploads: tuple[Upload, ...]) -> list[object]:
    stored: list[object] = []
    for up in uploads:
        digest = hashlib.sha256(up.content).digest()
        incidents.insert_attachment(
            conn,
            owner,
            ident,
            name=up.name,
            content_type=up.content_type,
            sha256=digest,
            content=up.content,
        )
        stored.append({"name": up.name, "sha256": digest.hex(), "size": len(up.content)})
    return stored


def sampling_interval(cfg: RulesConfig) -> timedelta:
    """How far apart manual samples may be (the engine's rule, for the forms' hints)."""
    return timedelta(hours=cfg.manual_sampling_every_h)
