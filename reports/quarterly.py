"""A quarterly submission's version as the seed's table (seed 004 二.2; docs/quarterly.md
§5): one row per outlet and month with waste water, COD, NH3-N, flue gas, SO2, NOx and
particulates, the treatment facilities' run time, and which cells were corrected and
why. Rendered as CSV and XLSX by reports/render.py and as PDF with reportlab."""

from __future__ import annotations

import io
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer
from reportlab.platypus import Table as PdfTable

from reports import render
from reports.emissions import NAMES
from reports.model import Cell, Report, Table
from services import quarterly as flow
from services.figures import DIRECT_REPORT
from services.quarterly import Actor, QuarterlyError
from services.quarterly_lines import RUN_TIME
from storage import enterprises
from storage.db import Conn

ITEMS = (*DIRECT_REPORT["water"], *DIRECT_REPORT["gas"])
COLUMNS = ("outlet", "mn", "month", *(NAMES[c] for c in ITEMS), "run_time_h", "corrections")
FONT = "STSong-Light"


def table(lines: Sequence[dict[str, Any]]) -> Table:
    rows: dict[tuple[str, str], dict[str, Any]] = defaultdict(dict)
    for line in lines:
        cells = rows[(line["mn"], line["month"])]
        cells["outlet"] = line["outlet"]
        item = str(line["item"])
        if item.startswith(RUN_TIME):
            cells["run"] = cells.get("run", 0.0) + float(line["amount"])
        else:
            cells[item] = line["amount"]
        if line.get("corrected"):
            note = f"{NAMES.get(item, item)}: {line['computed']} -> {line['amount']} ({line['reason']})"
            cells.setdefault("notes", []).append(note)
    out: list[tuple[Cell, ...]] = []
    for (mn, month), cells in sorted(rows.items()):
        values: list[Cell] = [cells.get(code) for code in ITEMS]
        out.append(
            (
                cells["outlet"],
                mn,
                month,
                *values,
                cells.get("run"),
                "; ".join(cells.get("notes", [])),
            )
        )
    return Table("quarterly", COLUMNS, out)


def report(title: str, subtitle: str, lines: Sequence[dict[str, Any]], notes: list[str]) -> Report:
    return Report(title, subtitle, [table(lines)], notes=notes)


def build(conn: Conn, actor: Actor, ident: int, version: int | None = None) -> Report:
    """A submission's version (default: the last submitted) as the seed's table, its hash
    checked on the way (services/quarterly.py)."""
    sub = flow.visible(conn, actor, ident)
    chosen = version or sub.version
    if chosen == 0:
        raise QuarterlyError(409, f"submission {ident} has no submitted version yet")
    lines = flow.version_lines(conn, actor, ident, chosen)
    ent = enterprises.by_id(conn, sub.enterprise_id)
    code = ent.credit_code if ent and ent.credit_code else "—"
    return report(
        f"国控源直报 Quarterly direct report {sub.quarter}: {sub.enterprise}",
        f"统一社会信用代码 {code}; region {sub.region_code}; version {chosen}; state {sub.state}",
        lines,
        [("Amounts in each factor's -Cou unit (kg, m³), as `hj212 report emissions` computes "
          "them, except the corrected cells listed with their reasons (docs/quarterly.md §5).")],
    )  # fmt: skip


def xlsx_bytes(rep: Report) -> bytes:
    """The XLSX of reports/render.py, as bytes (for an HTTP answer)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "quarterly.xlsx"
        render.to_xlsx(rep, path)
        return path.read_bytes()


def to_pdf(rep: Report) -> bytes:
    """The submission as a landscape A4 PDF (Chinese in the built-in CID font)."""
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    body = ParagraphStyle("b", fontName=FONT, fontSize=7, leading=9)
    head = ParagraphStyle("h", fontName=FONT, fontSize=13, leading=18)
    data = [[Paragraph(str(c), body) for c in rep.tables[0].columns]]
    data += [
        [Paragraph("" if v is None else str(v), body) for v in row] for row in rep.tables[0].rows
    ]
    grid = PdfTable(data, repeatRows=1)
    grid.setStyle([("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                   ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee"))])  # fmt: skip
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=landscape(A4), title=rep.title)
    story = [Paragraph(rep.title, head), Paragraph(rep.subtitle, body), Spacer(1, 6), grid]
    story += [Paragraph(n, body) for n in rep.notes]
    doc.build(story)
    return out.getvalue()
