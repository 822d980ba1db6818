"""Server-rendered SVG line charts: pure geometry, turned into <svg> by a template (no JS, CSP-safe)."""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

# Distinct in light and dark themes (Okabe–Ito, colour-blind safe).
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#d55e00", "#56b4e9", "#b59a00", "#7f7f7f")


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str


@dataclass(frozen=True)
class Series:
    name: str
    color: str
    points: list[Point]
    total: str

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x},{p.y}" for p in self.points)


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    left: int
    top: int
    right: int
    bottom: int
    series: list[Series]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    title: str
    empty: bool

    @property
    def plot_right(self) -> int:
        return self.width - self.right

    @property
    def plot_bottom(self) -> int:
        return self.height - self.bottom


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10ⁿ at or above `value` (a readable top for the y axis)."""
    if value <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude


def line_chart(
    *,
    days: Sequence[date],
    series: Mapping[str, Mapping[date, float | Decimal]],
    title: str,
    format_value,
    width: int = 960,
    height: int = 280,
) -> LineChart:
    """One line per series over `days` (missing days count as zero)."""
    left, right, top, bottom = 64, 12, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [float(v) for points in series.values() for v in points.values()]
    top_value = nice_ceiling(max(values, default=0.0))
    step_x = plot_w / max(len(days) - 1, 1)

    def y_of(value: float) -> float:
        return top + plot_h - (value / top_value) * plot_h

    lines = []
    for i, (name, points) in enumerate(sorted(series.items())):
        total = sum((Decimal(str(v)) for v in points.values()), Decimal("0"))
        lines.append(
            Series(
                name=name,
                color=PALETTE[i % len(PALETTE)],
                total=format_value(total),
                points=[
                    Point(
                        x=round(left + d * step_x, 1),
                        y=round(y_of(float(points.get(day, 0))), 1),
                        label=f"{day.isoformat()} · {name}: {format_value(points.get(day, 0))}",
                    )
                    for d, day in enumerate(days)
                ],
            )
        )
    y_ticks = [
        Tick(position=round(y_of(top_value * k / 4), 1), label=format_value(top_value * k / 4)) for k in range(5)
    ]
    every = max(len(days) // 6, 1)
    last = len(days) - 1
    x_ticks = [
        Tick(position=round(left + d * step_x, 1), label=day.strftime("%b %d"))
        for d, day in enumerate(days)
        if (d % every == 0 and last - d >= every // 2) or d == last
    ]
    return LineChart(
        width=width,
        height=height,
        left=left,
        top=top,
        right=right,
        bottom=bottom,
        series=lines,
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        title=title,
        empty=not any(values),
    )
