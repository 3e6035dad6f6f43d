"""What a report is, before it is rendered: titled tables and charts, plus notes."""

from __future__ import annotations

from dataclasses import dataclass, field

Cell = str | int | float | None


@dataclass(frozen=True)
class Table:
    name: str  # also the XLSX sheet name (<= 31 characters)
    columns: tuple[str, ...]
    rows: list[tuple[Cell, ...]]
    percent_columns: frozenset[str] = frozenset()  # rates in [0, 1], shown as %

    def column(self, name: str) -> list[Cell]:
        index = self.columns.index(name)
        return [row[index] for row in self.rows]


@dataclass(frozen=True)
class Chart:
    kind: str  # bar | line
    title: str
    labels: list[str]
    series: dict[str, list[float | None]]
    unit: str = ""
    threshold: float | None = None  # a reference line (the ETR threshold)


@dataclass(frozen=True)
class Report:
    title: str
    subtitle: str
    tables: list[Table]
    charts: list[Chart] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
