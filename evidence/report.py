"""The bundle's readable summary (in Chinese): one report model, as HTML and as PDF.

HTML reuses the reports' renderer (inline SVG charts); the PDF is drawn with reportlab,
Chinese text in its built-in CID font STSong-Light (no font files), charts with
reportlab.graphics.
"""

from __future__ import annotations

import io
from collections import Counter
from datetime import datetime
from typing import Any

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from protocol import BEIJING
from reports import names, render
from reports.model import Cell, Chart, Report
from reports.model import Table as ReportTable
from rules.times import TIME_LABEL, shown

FONT = "STSong-Light"
SERIES_COLOURS = (
    colors.HexColor("#2f6db3"),
    colors.HexColor("#e08a1e"),
    colors.HexColor("#3a9a5b"),
    colors.HexColor("#8e5bb5"),
)


def _local(moment: datetime) -> str:
    return shown(moment, seconds=False)


def _when(text: str | None, seconds: bool = False) -> str:
    return shown(datetime.fromisoformat(text), seconds) if text else ""


def _counted(figs: dict[str, Any]) -> str:
    """The hours the rates count (ended and judged by the export), as a person reads it."""
    span = figs.get("counted")
    if not span or datetime.fromisoformat(span["to"]) <= datetime.fromisoformat(span["from"]):
        return "无已结束并已判定的小时"
    return (
        f"{_when(span['from'])} 至 {_when(span['to'])}（{TIME_LABEL}，导出时已结束并已判定的小时）"
    )


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.2f}%"


def _counts(summary: dict[str, Any], *names: str) -> str:
    return " / ".join(str(summary["counts"][n]) for n in names)


_REPORT_KIND = {
    "written": "书面报告",
    "restoration": "恢复通知",
    "planned-stop": "计划停运预告",
    "planned-maintenance": "计划维护预告",
}
_STATE = {"filed": "待审核", "acknowledged": "已确认", "returned": "已退回"}
_STATE |= {"pending": "待审核", "accepted": "已采纳", "rejected": "未采纳"}


def _case_tables(summary: dict[str, Any]) -> list[ReportTable]:
    """The enterprise's reports and manual samples (docs/regulations.md §6.5)."""
    reports: list[tuple[Cell, ...]] = [
        (
            r["id"],
            _REPORT_KIND.get(r["kind"], r["kind"]),
            _when(r["filed_at"]),
            r["filed_by"],
            _STATE.get(r["state"], r["state"]) + ("（逾期）" if r.get("late") else ""),
        )
        for r in summary.get("case_reports", [])
    ]
    samples: list[tuple[Cell, ...]] = [
        (
            _when(x["sampled_at"]),
            names.factor(x["pollutant"]),
            f"{x['value']:g} {x['unit']}",
            x["laboratory"],
            _STATE.get(x["state"], x["state"]),
        )
        for x in summary.get("manual_samples", [])
    ]
    return [
        ReportTable(
            "故障报告与通知",
            ("编号", "类型", f"提交时间（{TIME_LABEL}）", "提交人", "状态"),
            reports,
        ),
        ReportTable(
            "人工监测数据（手工监测值录入，不参与超标判定）",
            (f"采样时间（{TIME_LABEL}）", "因子", "数值", "检测单位", "审核"),
            samples,
        ),
    ]


def build(summary: dict[str, Any]) -> Report:
    """The report model from the export's summary (see evidence.export)."""
    w, figs, chain = summary["window"], summary["figures"], summary["chain"]
    start, end = datetime.fromisoformat(w["from"]), datetime.fromisoformat(w["to"])
    station = summary.get("station") or {}
    statuses = Counter(summary["frame_statuses"])
    overview = ReportTable(
        "概况",
        ("项目", "内容"),
        [
            ("监测点 MN", w["mn"]),
            ("名称 / 企业", f"{station.get('name', '')} / {station.get('enterprise', '')}"),
            ("地区", names.region(str(station.get("region_code") or "")) or "—"),
            (f"时段（{TIME_LABEL}）", f"{_local(start)} 至 {_local(end)}"),
            (
                f"导出时间（{TIME_LABEL}） / 导出人",
                f"{_when(summary['exported_at'], seconds=True)} / {summary['exported_by']}",
            ),
            (
                "原始报文",
                f"{sum(statuses.values())} 条（"
                + "，".join(f"{k} {v}" for k, v in sorted(statuses.items()))
                + "）",
            ),
            ("哈希链", chain["verdict"]),
            ("报警 / 案件 / 命令", _counts(summary, "alarms", "cases", "commands")),
            ("标记（生效 / 申请）", _counts(summary, "data_marks", "mark_requests")),
            ("签名公钥指纹", summary["key_fingerprint"]),
            ("有效传输率统计小时", _counted(figs)),
        ],
    )
    tables: list[ReportTable] = [overview]
    charts: list[Chart] = []
    rates = figs.get("transmission")
    if rates:
        rows: list[tuple[Cell, ...]] = []
        for code, t in [("合计", rates["total"]), *rates["factors"].items()]:
            c = t["completion"]
            rows.append(
                (
                    names.factor(code),
                    c["expected"],
                    c["received"],
                    c["valid"],
                    _pct(c["tr"]),
                    _pct(c["er"]),
                    _pct(c["etr"]),
                    t["shutdown_hours"],
                )
            )
        tables.append(
            ReportTable(
                "有效传输率",
                ("因子", "应收", "实收", "有效", "传输率", "有效率", "有效传输率", "停运小时"),
                rows,
            )
        )
        days = sorted({d for per in rates["days"].values() for d in per})
        charts.append(
            Chart(
                "bar",
                "每日有效传输率",
                [_local(datetime.fromtimestamp(int(d) / 1e6, BEIJING))[:10] for d in days],
                {
                    code: [per.get(d, {}).get("completion", {}).get("etr") for d in days]
                    for code, per in rates["days"].items()
                },
                unit="%",
                threshold=figs.get("threshold"),
            )
        )
        emissions: list[tuple[Cell, ...]] = [
            (names.factor(code), round(e["computed"], 3), round(e["device"], 3), e["hours"])
            for code, e in figs.get("emissions", {}).items()
        ]
        tables.append(ReportTable("排放量", ("因子", "核算量", "设备累计", "小时数"), emissions))
    else:
        tables.append(ReportTable("有效传输率", ("说明",), [(figs.get("note", ""),)]))
    series = summary["hourly_series"]
    if series["labels"]:
        charts.append(Chart("line", "小时均值", series["labels"], series["values"]))
    events: list[tuple[Cell, ...]] = [
        (
            _when(a["raised_at"]),
            names.zh(names.KINDS, a["kind"]),
            names.factor(a["pollutant"]) if a.get("pollutant") else "",
            names.zh(names.STATES, a["state"]),
        )
        for a in summary["alarms"]
    ]
    tables.append(ReportTable("报警", (f"时间（{TIME_LABEL}）", "类型", "因子", "状态"), events))
    marks: list[tuple[Cell, ...]] = [
        (
            m["id"],
            m["kind"],
            _when(m["start"]),
            _when(m["end"]),
            m["state"],
            m.get("reviewed_by") or "",
        )
        for m in summary["mark_requests"]
    ]
    tables.append(
        ReportTable(
            "标记申请",
            ("编号", "类型", f"开始（{TIME_LABEL}）", f"结束（{TIME_LABEL}）", "状态", "审核人"),
            marks,
        )
    )
    tables += _case_tables(summary)
    notes = [
        (
            "本报告由证据包自动生成；原始报文、解析数值、哈希链与清单签名见包内文件，"
            "可用 `hj212 evidence verify` 离线核验。"
        ),
        (
            "依据：《湖北省污染源自动监控管理办法》第二十六条（证据链）；标记规则见"
            "《污染物排放自动监测设备标记规则》（生态环境部公告2022年第21号）。"
        ),
    ]
    return Report(
        f"自动监控数据证据报告 {station.get('name') or w['mn']}",
        f"{_local(start)} 至 {_local(end)}（{TIME_LABEL}）",
        tables,
        charts,
        notes,
    )


def to_html(report: Report) -> str:
    return render.to_html(report)


def _chart(chart: Chart) -> Drawing:
    drawing = Drawing(170 * mm, 70 * mm)
    plot: VerticalBarChart | HorizontalLineChart
    # a line needs two points (reportlab refuses fewer): one day is drawn as a bar
    bars = chart.kind == "bar" or len(chart.labels) < 2
    plot = VerticalBarChart() if bars else HorizontalLineChart()
    plot.x, plot.y, plot.width, plot.height = 30, 25, 150 * mm, 45 * mm
    factor = 100.0 if chart.unit == "%" else 1.0
    data = [[(v or 0.0) * factor for v in values] for values in chart.series.values()]
    plot.data = data or [[0.0]]
    plot.categoryAxis.categoryNames = chart.labels
    plot.categoryAxis.labels.fontName = FONT
    plot.categoryAxis.labels.fontSize = 6
    plot.categoryAxis.labels.angle = 30
    plot.categoryAxis.labels.boxAnchor = "ne"
    plot.valueAxis.valueMin = 0
    if chart.unit == "%":
        plot.valueAxis.valueMax = 100
    for i in range(len(data)):
        colour = SERIES_COLOURS[i % len(SERIES_COLOURS)]
        if isinstance(plot, VerticalBarChart):
            plot.bars[i].fillColor = colour
        else:
            plot.lines[i].strokeColor = colour
    drawing.add(plot)
    drawing.add(
        String(30, 62 * mm, chart.title + "  " + " ".join(chart.series), fontName=FONT, fontSize=9)
    )
    return drawing


def to_pdf(report: Report) -> bytes:
    """The report as PDF bytes (A4)."""
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    title = ParagraphStyle("t", fontName=FONT, fontSize=15, leading=20)
    body = ParagraphStyle("b", fontName=FONT, fontSize=9, leading=13)
    head = ParagraphStyle("h", fontName=FONT, fontSize=11, leading=16, spaceBefore=6)
    story: list[Any] = [Paragraph(report.title, title), Paragraph(report.subtitle, body)]
    story += [Spacer(1, 4 * mm)]
    for table in report.tables:
        story.append(Paragraph(table.name, head))
        cells = [
            list(table.columns),
            *[["" if c is None else str(c) for c in r] for r in table.rows],
        ]
        t = Table(cells, repeatRows=1)
        t.setStyle(
            TableStyle(
                [
                    ("FONT", (0, 0), (-1, -1), FONT, 8),
                    ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f0f3f7")),
                ]
            )
        )
        story.append(t)
    for chart in report.charts:
        if not chart.labels:  # a period or region with nothing in it: say so, draw nothing
            story += [Spacer(1, 4 * mm), Paragraph(f"{chart.title}: 无数据 (no data)", body)]
            continue
        story += [Spacer(1, 4 * mm), _chart(chart)]
    story += [Spacer(1, 4 * mm), *[Paragraph(n, body) for n in report.notes]]
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4, title=report.title, invariant=1).build(story)
    return out.getvalue()
