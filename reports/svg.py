"""Charts as inline SVG text (no scripts, no CDN): grouped bars and lines.

Rates (unit ``%``) are given in [0, 1] and drawn on a 0-100 axis; other units on an axis
from 0 to a rounded maximum, its figures in 万 (10⁴) and 亿 (10⁸) as Chinese readers count.
A threshold, if given, is a dashed red line. Category labels lie flat while they fit under
their bar group and turn 40° when there are many; a handful of bars carry their figures.
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


def number(value: float) -> str:
    """A figure for an axis or a bar: 3亿, 2.4亿, 6000万, 1.2万, 4800, 37.06."""
    for unit, size in (("亿", 1e8), ("万", 1e4)):
        if abs(value) >= size:
            return f"{value / size:.4g}{unit}"
    return f"{value:.4g}"


def _figure(chart: Chart, value: float) -> str:
    return f"{value:.2f}%" if chart.unit == "%" else number(value)


def _text_width(text: str, size: float) -> float:
    """Rough width in px: CJK characters a full em, others about 0.6 em."""
    return sum(size if ord(ch) > 0x2E80 else size * 0.6 for ch in text)


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
        label = f"{value:g}%" if chart.unit == "%" else number(value)
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
    y = HEIGHT - BOTTOM + 14
    if all(_text_width(label, 11) <= step * 0.95 for label in labels):
        return [
            f'<text x="{LEFT + offset + i * step:.1f}" y="{y}" font-size="11" '
            f'text-anchor="middle">{escape(label)}</text>'
            for i, label in enumerate(labels)
        ]
    every = max(1, math.ceil(len(labels) / 31))
    out = []
    for i, label in enumerate(labels):
        if i % every:
            continue
        x = LEFT + offset + i * step
        out.append(
            f'<text x="{x:.1f}" y="{y - 2}" font-size="10" text-anchor="end" '
            f'transform="rotate(-40 {x:.1f} {y - 2})">{escape(label[:24])}</text>'
        )
    return out


def bars(chart: Chart) -> list[str]:
    factor, top = _scale(chart)
    out = _axes(chart, top, factor)
    n = max(1, len(chart.labels))
    step = (WIDTH - LEFT - RIGHT) / n
    width = step * 0.8 / max(1, len(chart.series))
    figures = width >= 32  # room for a figure over each bar
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
            if figures:
                figure = escape(_figure(chart, value * factor))
                out.append(
                    f'<text class="figure" x="{x + width / 2:.1f}" y="{y - 3:.1f}" '
                    f'font-size="10" text-anchor="middle">{figure}</text>'
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
