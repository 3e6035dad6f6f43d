"""A :class:`reports.model.Report` as CSV, XLSX (openpyxl) or HTML with inline SVG.

CSV carries the first table (the report itself); XLSX one sheet per table; HTML every
table and every chart in one self-contained page (no script, no external resource).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from html import escape
from pathlib import Path

from reports import names, svg
from reports.model import Cell, Report, Table


def _text(value: Cell, percent: bool) -> str:
    if value is None:
        return ""
    if percent and isinstance(value, float):
        return f"{value * 100:.2f}"
    if isinstance(value, float):
        return f"{value:.6g}" if abs(value) < 1e6 else f"{value:.1f}"
    return str(value)


def to_csv(report: Report) -> str:
    """The first table; rates as percentages with 2 decimals. It starts with a UTF-8 byte
    order mark: without one, Excel on Chinese Windows reads the file as GBK and garbles
    every Chinese name (武汉 ...)."""
    table = report.tables[0]
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow(
            _text(v, c in table.percent_columns) for c, v in zip(table.columns, row, strict=True)
        )
    return out.getvalue()


# what a reader sees in place of a code in the HTML page (CSV and XLSX keep the codes,
# which programs read): docs/console.md §2
def _level(code: str) -> str:
    return names.zh(names.LEVELS, code)


def _verdict(code: str) -> str:
    return names.zh(names.VERDICTS, code)


def _factor(code: str) -> str:
    return names.factor(code)


_READABLE: dict[str, Callable[[str], str]] = {
    "pollutant": _factor,
    "region_code": names.region,
    "level": _level,
    "pass": _verdict,
    "check": _verdict,
}


def _shown(column: str, value: Cell, percent: bool) -> str:
    text = _text(value, percent)
    readable = _READABLE.get(column)
    return readable(text) if readable and isinstance(value, str) and value else text


def _html_table(table: Table) -> str:
    head = "".join(
        f'<th title="{escape(c)}">{escape(names.zh(names.COLUMNS, c))}</th>' for c in table.columns
    )
    body = []
    for row in table.rows:
        cells = []
        for column, value in zip(table.columns, row, strict=True):
            text = escape(_shown(column, value, column in table.percent_columns))
            number = isinstance(value, int | float) and not isinstance(value, bool)
            style = ' class="num"' if number else ""
            if (column, value) in (("pass", "no"), ("check", "differs")):
                style = ' class="bad"'
            cells.append(f"<td{style}>{text}</td>")
        level = row[0] if table.columns[0] == "level" else ""
        body.append(f'<tr class="{escape(str(level))}">{"".join(cells)}</tr>')
    return (
        f"<h2>{escape(table.name)}</h2><table><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table>"
    )


_STYLE = (
    "body{font-family:sans-serif;margin:24px;color:#222}"
    "table{border-collapse:collapse;font-size:12px;margin-bottom:24px}"
    "th,td{border:1px solid #ccc;padding:3px 6px;white-space:nowrap}th{background:#f0f3f7}"
    "td.num{text-align:right}td.bad{color:#c0392b;font-weight:bold}"
    "tr.station td,tr.enterprise td{background:#f7f7f7;font-weight:bold}"
    "tr.total td{background:#e8eef6;font-weight:bold}.note{color:#555;font-size:12px}"
    "figure{margin:0 0 16px 0}"
)


def to_html(report: Report) -> str:
    charts = "".join(f"<figure>{svg.render(chart)}</figure>" for chart in report.charts)
    tables = "".join(_html_table(table) for table in report.tables)
    notes = "".join(f'<p class="note">{escape(note)}</p>' for note in report.notes)
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{escape(report.title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{escape(report.title)}</h1><p>{escape(report.subtitle)}</p>"
        f"{charts}{tables}{notes}</body></html>\n"
    )


def to_xlsx(report: Report, path: Path) -> None:
    """One sheet per table; rates as Excel percentages; a notes sheet."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    for index, table in enumerate(report.tables):
        sheet = book.create_sheet(table.name[:31], index)
        sheet.append(list(table.columns))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append(list(row))
        for number, column in enumerate(table.columns, start=1):
            if column in table.percent_columns:
                for (cell,) in sheet.iter_rows(min_row=2, min_col=number, max_col=number):
                    cell.number_format = "0.00%"
        sheet.freeze_panes = "A2"
    book.remove(book["Sheet"])  # the empty sheet every new workbook starts with
    notes = book.create_sheet("notes")
    for line in (report.title, report.subtitle, *report.notes):
        notes.append([line])
    book.save(path)
