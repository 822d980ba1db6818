"""Line charts as SVG, written by hand (no plotting library): a few series of (x, y) points, targets drawn as
dashed horizontal lines, axes with round ticks. Used by report.py for docs/bench-*.svg."""

import math
from dataclasses import dataclass
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 640, 360
LEFT, RIGHT, TOP, BOTTOM = 64, 48, 48, 64  # margins around the plot area
COLOURS = ("#1f6fb2", "#d9480f", "#2b8a3e", "#7048e8")
TARGET_COLOUR = "#c92a2a"
REFERENCE_COLOUR = "#868e96"


@dataclass
class Series:
    name: str
    points: list[tuple[float, float]]  # (x, y), y None-free: callers leave unmeasured points out


@dataclass
class Target:
    label: str
    y: float
    colour: str = TARGET_COLOUR  # a reference (the physical limit, say) is drawn in grey: REFERENCE_COLOUR


def _nice_step(span: float, ticks: int = 5) -> float:
    """A round step (1, 2 or 5 × 10^k) that cuts `span` into about `ticks` intervals."""
    raw = span / ticks if span > 0 else 1.0
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power


def _label(value: float) -> str:
    return f"{value:g}" if abs(value) >= 1 or value == 0 else f"{value:.2g}"


def _value(value: float) -> str:
    """A measured point's label: three significant digits or so, never in exponent notation."""
    return f"{value:.0f}" if abs(value) >= 100 else f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"


def line_chart(
    series: list[Series],
    *,
    title: str,
    x_label: str,
    y_label: str,
    targets: list[Target] = (),
    caption: str = "",
    y_min: float = 0.0,
) -> str:
    """The SVG document of a line chart; x ticks at the measured x values."""
    xs = sorted({x for s in series for x, _ in s.points})
    ys = [y for s in series for _, y in s.points] + [t.y for t in targets]
    if not xs or not ys:
        raise ValueError("nothing to draw: no measured point")
    y_max = max(ys) * 1.1 if max(ys) > y_min else y_min + 1
    step = _nice_step(y_max - y_min)
    y_max = math.ceil(y_max / step) * step
    x_low, x_high = (xs[0], xs[-1]) if xs[0] != xs[-1] else (xs[0] - 1, xs[0] + 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(x: float) -> float:
        return LEFT + (x - x_low) / (x_high - x_low) * plot_w

    def py(y: float) -> float:
        return TOP + plot_h - (min(max(y, y_min), y_max) - y_min) / (y_max - y_min) * plot_h

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        'font-family="Helvetica, Arial, sans-serif" font-size="12">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
        f'<text x="{WIDTH / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">{escape(title)}</text>',
    ]
    tick = y_min
    while tick <= y_max + step / 1000:
        y = py(tick)
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#e9ecef"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{_label(tick)}</text>')
        tick += step
    for x in xs:
        out.append(
            f'<line x1="{px(x):.1f}" y1="{TOP + plot_h}" x2="{px(x):.1f}" y2="{TOP + plot_h + 5}" stroke="#495057"/>'
        )
        out.append(f'<text x="{px(x):.1f}" y="{TOP + plot_h + 18}" text-anchor="middle">{_label(x)}</text>')
    out.append(
        f'<polyline points="{LEFT},{TOP} {LEFT},{TOP + plot_h} {WIDTH - RIGHT},{TOP + plot_h}" fill="none" '
        'stroke="#495057"/>'
    )
    out.append(f'<text x="{LEFT + plot_w / 2}" y="{TOP + plot_h + 38}" text-anchor="middle">{escape(x_label)}</text>')
    out.append(
        f'<text x="16" y="{TOP + plot_h / 2}" text-anchor="middle" transform="rotate(-90 16 {TOP + plot_h / 2})">'
        f"{escape(y_label)}</text>"
    )
    for target in targets:
        y = py(target.y)
        out.append(
            f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="{target.colour}" '
            'stroke-width="1.5" stroke-dasharray="6 4"/>'
        )
        if target.colour == REFERENCE_COLOUR:  # under its line, on the right: clear of a target just above it
            x, y, anchor = WIDTH - RIGHT - 4, y + 14, "end"
        else:
            x, y, anchor = WIDTH - RIGHT - 4, y - 5, "end"
        out.append(
            f'<text x="{x}" y="{y:.1f}" text-anchor="{anchor}" fill="{target.colour}">{escape(target.label)}</text>'
        )
    for index, one in enumerate(series):
        colour = COLOURS[index % len(COLOURS)]
        points = sorted(one.points)
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in points)
        out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5"/>')
        for x, y in points:
            out.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="4" fill="{colour}"/>')
            anchor = "end" if x == xs[-1] else "start"  # the last point's label stays inside the chart
            out.append(
                f'<text x="{px(x) + (-6 if anchor == "end" else 6):.1f}" y="{py(y) - 8:.1f}" text-anchor="{anchor}" '
                f'fill="{colour}" font-size="11">{_value(y)}</text>'
            )
        legend_y = TOP + 4 + 16 * index
        out.append(
            f'<line x1="{LEFT + 10}" y1="{legend_y}" x2="{LEFT + 30}" y2="{legend_y}" stroke="{colour}" '
            'stroke-width="2.5"/>'
        )
        out.append(f'<text x="{LEFT + 36}" y="{legend_y + 4}">{escape(one.name)}</text>')
    if caption:
        out.append(
            f'<text x="{WIDTH / 2}" y="{HEIGHT - 8}" text-anchor="middle" fill="#495057" font-size="11">'
            f"{escape(caption)}</text>"
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"
