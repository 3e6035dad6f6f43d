"""Charts as inline SVG text (no scripts, no CDN): grouped bars and lines.

Rates (unit ``%``) are given in [0, 1] and drawn on a 0-100 axis; other units on an axis
from 0 to a rounded maximum. A threshold, if given, is a dashed red line.
"""

from __future__ import annotations

import math
from html import escape

from reports.model import Chart

WIDTH, HEIGHT = 760, 320
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 36, 72
COLOURS = ("#2f6db3", "#e08a1e", "#3a9a5b", "#8e5bb5", "#c0392b", "#7f8c8d")


def _scale(chart: Chart) -> tuple[float, float]:
    """(factor applied to values, axis maximum)."""
    if chart.unit == "%":
        return 100.0, 100.0
    values = [v for series in chart.series.values() for v in series if v is not None]
    top = max([*values, 0.0])
    if top <= 0:
        return 1.0, 1.0
    magnitude = 10 ** math.floor(math.log10(top))
    return 1.0, math.ceil(top / magnitude) * magnitude


def _y(value: float, top: float) -> float:
    return TOP + (HEIGHT - TOP - BOTTOM) * (1 - min(value, top) / top)


def _axes(chart: Chart, top: float, factor: float) -> list[str]:
    title = escape(chart.title)
    out = [f'<text x="{WIDTH / 2}" y="20" text-anchor="middle" font-size="14">{title}</text>']
    for i in range(6):
        value = top * i / 5
        y = _y(value, top)
        out.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#ddd"/>'
        )
        label = f"{value:g}{'%' if chart.unit == '%' else ''}"
        out.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" '
            f'font-size="11">{escape(label)}</text>'
        )
    if chart.threshold is not None:
        y = _y(chart.threshold * factor, top)
        out.append(
            f'<line class="threshold" x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" '
            f'y2="{y:.1f}" stroke="#c0392b" stroke-dasharray="6 4"/>'
        )
    return out


def _legend(chart: Chart) -> list[str]:
    out = []
    for i, name in enumerate(chart.series):
        x = LEFT + i * 140
        colour = COLOURS[i % len(COLOURS)]
        out.append(f'<rect x="{x}" y="{HEIGHT - 18}" width="10" height="10" fill="{colour}"/>')
        out.append(f'<text x="{x + 14}" y="{HEIGHT - 9}" font-size="11">{escape(name)}</text>')
    return out


def _x_labels(labels: list[str], step: float, offset: float) -> list[str]:
    every = max(1, math.ceil(len(labels) / 31))
    out = []
    for i, label in enumerate(labels):
        if i % every:
            continue
        x = LEFT + offset + i * step
        y = HEIGHT - BOTTOM + 12
        out.append(
            f'<text x="{x:.1f}" y="{y}" font-size="10" text-anchor="end" '
            f'transform="rotate(-40 {x:.1f} {y})">{escape(label[:24])}</text>'
        )
    return out


def bars(chart: Chart) -> list[str]:
    factor, top = _scale(chart)
    out = _axes(chart, top, factor)
    n = max(1, len(chart.labels))
    step = (WIDTH - LEFT - RIGHT) / n
    width = step * 0.8 / max(1, len(chart.series))
    for s, (name, values) in enumerate(chart.series.items()):
        colour = COLOURS[s % len(COLOURS)]
        for i, value in enumerate(values):
            if value is None:
                continue
            x = LEFT + i * step + step * 0.1 + s * width
            y = _y(value * factor, top)
            height = HEIGHT - BOTTOM - y
            tip = f"{chart.labels[i]} {name}: {value * factor:.2f}{chart.unit}"
            out.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" '
                f'fill="{colour}"><title>{escape(tip)}</title></rect>'
            )
    return out + _x_labels(chart.labels, step, step / 2) + _legend(chart)


def lines(chart: Chart) -> list[str]:
    factor, top = _scale(chart)
    out = _axes(chart, top, factor)
    n = max(1, len(chart.labels) - 1)
    step = (WIDTH - LEFT - RIGHT) / n
    for s, (name, values) in enumerate(chart.series.items()):
        colour = COLOURS[s % len(COLOURS)]
        points = [
            (LEFT + i * step, _y(v * factor, top)) for i, v in enumerate(values) if v is not None
        ]
        if points:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            out.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" '
                f'stroke-width="2"><title>{escape(name)}</title></polyline>'
            )
        out += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{colour}"/>' for x, y in points]
    return out + _x_labels(chart.labels, step, 0) + _legend(chart)


def render(chart: Chart) -> str:
    body = bars(chart) if chart.kind == "bar" else lines(chart)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{escape(chart.title)}" '
        'font-family="sans-serif">' + "".join(body) + "</svg>"
    )
