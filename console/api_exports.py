"""Downloads: any table of a page as xlsx, the transmission and emission reports in
xlsx/csv/html/pdf for a period and region, and a station's signed evidence bundle for
inspectors (docs/console.md §1, §5). Each request is audited by console/deps.py; the
evidence export audits its own steps as well (evidence/export.py)."""

from __future__ import annotations

import math
import re
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Query, Response
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from pydantic import AfterValidator, BaseModel, Field, model_validator

from console.deps import DB, ERRORS, CtxDep, ScopeDep, StationDep, UserDep
from evidence.export import ExportError, export_bundle
from evidence.report import to_pdf
from protocol import BEIJING
from reports import emissions, render, transmission
from reports.model import Cell, Report, Table
from reports.periods import PeriodError, parse

router = APIRouter(prefix="/api", responses=ERRORS)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# who may take evidence away: inspectors (the role it is for) and administrators
EVIDENCE_ROLES = frozenset({"inspector", "administrator"})


def _attachment(content: bytes, media: str, name: str) -> Response:
    # the name in RFC 5987 form: it may be Chinese
    disposition = f"attachment; filename*=UTF-8''{quote(name)}"
    return Response(content, media_type=media, headers={"Content-Disposition": disposition})


def _xlsx(report: Report) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "out.xlsx"
        render.to_xlsx(report, path)
        return path.read_bytes()


def _files(*media: str) -> dict[int | str, dict[str, object]]:
    """The OpenAPI description of a download: what its 200 answer may be."""
    return {200: {"description": "the file", "content": {m: {} for m in media}}}


class Sheet(BaseModel):
    title: str = Field(min_length=1, max_length=100)
    columns: list[str] = Field(min_length=1, max_length=60)
    rows: list[list[str | float | int | None]] = Field(max_length=20000)


@router.post(
    "/export.xlsx",
    summary="A table as shown on a page, as an xlsx workbook",
    response_class=Response,
    responses=_files(XLSX),
)
def export_table(body: Sheet, user: UserDep) -> Response:
    """The page sends what it shows (names, not codes); the server writes the workbook
    (openpyxl), so every table exports the same way. What a worksheet cannot hold is
    dropped, never refused: control characters, lone surrogates, cells beyond the
    columns; a short row (a cell spanning the table) is padded."""
    width = len(body.columns)
    rows: list[tuple[Cell, ...]] = [
        tuple(_cell(c) for c in [*r[:width], *[None] * (width - len(r))]) for r in body.rows
    ]
    sheet = Table(_sheet_name(body.title), tuple(_text(c) for c in body.columns), rows)
    stamp = datetime.now(BEIJING).strftime("%Y-%m-%d %H:%M")
    report = Report(_text(body.title), f"{user.name} · {stamp}（北京时间）", [sheet])
    return _attachment(_xlsx(report), XLSX, f"{_sheet_name(body.title)}.xlsx")


def _text(value: str) -> str:
    """What a worksheet may hold: valid Unicode without control characters."""
    return ILLEGAL_CHARACTERS_RE.sub("", value.encode("utf-8", "replace").decode("utf-8"))


def _cell(value: str | float | None) -> Cell:
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _sheet_name(title: str) -> str:
    """A valid sheet name: at most 31 characters, none of []:*?/\\."""
    return re.sub(r"[\[\]:*?/\\]", " ", _text(title)).strip()[:31] or "table"


Format = Literal["xlsx", "csv", "html", "pdf"]


# a day, month, quarter or year of 1970-2999 (reports/periods.py parses it)
PERIOD = r"^(19[7-9][0-9]|2[0-9]{3})(Q[1-4]|-(0[1-9]|1[0-2])(-(0[1-9]|[12][0-9]|3[01]))?)?$"


def _period(text: str) -> str:
    """A period reports.periods can take (2026-02-30 is not: a 422 naming it)."""
    try:
        parse(text)
    except (PeriodError, ValueError, OverflowError) as exc:  # a year 0 or 9999: no calendar
        raise ValueError(str(exc)) from None
    return text


@router.get(
    "/reports/{kind}",
    summary="The transmission or emission report of a period",
    response_class=Response,
    responses=_files(XLSX, "text/csv", "text/html", "application/pdf"),
)
def report(
    kind: Literal["transmission", "emissions"],
    conn: DB,
    scope: ScopeDep,
    ctx: CtxDep,
    period: Annotated[str, Query(pattern=PERIOD), AfterValidator(_period)],
    region: Annotated[str, Query(pattern=r"^[0-9]{0,6}$")] = "",
    format: Format = "html",
) -> Response:
    """``period``: a day 2026-10-03, a month 2026-10, a quarter 2026Q3 or a year; the
    region a code prefix inside the user's own. Enterprise users have their own views."""
    if scope.enterprise is not None:
        raise HTTPException(403, "reports are for the regulator's roles")
    wanted = scope.region_prefix if len(region) < len(scope.region_prefix) else region
    if not wanted.startswith(scope.region_prefix):
        raise HTTPException(404, "not found")
    chosen = parse(period)
    build = transmission.build if kind == "transmission" else emissions.build
    made = build(conn, chosen, ctx.ruleset, wanted or None, now=ctx.clock())
    name = f"{kind}-{chosen.label}{'-' + wanted if wanted else ''}.{format}"
    if format == "xlsx":
        return _attachment(_xlsx(made), XLSX, name)
    if format == "csv":
        return _attachment(render.to_csv(made).encode(), "text/csv; charset=utf-8", name)
    if format == "pdf":
        return _attachment(to_pdf(made), "application/pdf", name)
    return Response(render.to_html(made), media_type="text/html; charset=utf-8")


MAX_EVIDENCE = timedelta(days=31)


class Window(BaseModel):
    """[start, end), at most 31 days, within 1970-9000 (nothing is stored outside)."""

    start: datetime
    end: datetime

    @model_validator(mode="after")
    def _sane(self) -> Window:
        start, end = (t if t.tzinfo else t.replace(tzinfo=BEIJING) for t in (self.start, self.end))
        if not (_EARLIEST <= start < end <= _LATEST):
            raise ValueError("end must be after start, both between 1970 and 9000")
        if end - start > MAX_EVIDENCE:
            raise ValueError("an evidence window is at most 31 days")
        return self


_EARLIEST = datetime(1970, 1, 2, tzinfo=UTC)
_LATEST = datetime(9000, 1, 1, tzinfo=UTC)


@router.post(
    "/stations/{mn}/evidence",
    summary="A station's window as a signed evidence ZIP",
    response_class=Response,
    responses=_files("application/zip"),
)
def evidence(mn: StationDep, body: Window, user: UserDep, ctx: CtxDep) -> Response:
    """The bundle `hj212 evidence export` makes (evidence/export.py), signed with the
    platform's key; `hj212 evidence verify` checks it offline."""
    if user.role not in EVIDENCE_ROLES:
        raise HTTPException(403, "evidence export is for inspectors and administrators")
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "bundle.zip"
        try:
            export_bundle(
                ctx.dsn, mn, body.start, body.end, out, who=user.name, ruleset=ctx.ruleset,
                now=ctx.clock(),
            )  # fmt: skip
        except ExportError as exc:
            raise HTTPException(409, f"evidence export refused: {exc}") from None
        content = out.read_bytes()
    stamp = body.start.astimezone(BEIJING).strftime("%Y%m%d%H%M")
    return _attachment(content, "application/zip", f"evidence-{mn}-{stamp}.zip")
