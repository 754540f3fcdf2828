"""Charts as SVG, drawn with the standard library: the loss curves of a training run.

SVG is text: a chart is a few `<line>`s for the axes, `<text>` labels for the ticks, and
one `<polyline>` per curve whose points are the (x, y) pairs scaled into the plot area.
`LineChart` does that for any curves; `loss_curve(history)` makes the chart of a run's
training and validation loss (the noisy per-step training loss drawn faint, with its
moving average on top). A chart shows itself in Jupyter (it has `_repr_svg_`), and
`chart.save("loss.svg")` writes it atomically.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from .checks import (check_bool, check_instance, check_int, check_number, check_numbers,
                     check_str)
from .files import atomic_write_text

__all__ = ["LineChart", "loss_curve", "loss_curve_svg", "write_loss_plot", "moving_average",
           "nice_ticks"]

COLORS = {"train": "#9ecae1", "train_avg": "#1f77b4", "val": "#d62728"}


def moving_average(values, window):
    """The mean of each value and the up to `window - 1` values before it."""
    check_int("window", window, 1)
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


def nice_ticks(low, high, count=5):
    """About `count` round numbers (1, 2 or 5 times a power of ten apart) in [low, high]."""
    low, high = check_number("low", low), check_number("high", high)
    check_int("count", count, 1)
    if high <= low:
        return [low]
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(low / step) * step
    return [first + i * step for i in range(int((high - first) / step + 1e-9) + 1)]


@dataclass
class _Curve:
    points: list      # [(x, y), ...]
    label: str
    color: str
    width: float
    markers: bool


@dataclass
class LineChart:
    """Curves over a shared pair of axes, drawn as SVG by `to_svg()`.

    >>> chart = LineChart("loss", x_label="step", y_label="loss")
    >>> chart.add([(0, 3.3), (100, 2.5)], "validation", "#d62728", markers=True)
    >>> svg = chart.to_svg()
    """

    title: str
    x_label: str = "x"
    y_label: str = "y"
    width: int = 720
    height: int = 420
    curves: list = field(default_factory=list)
    margin: tuple = (64, 24, 40, 48)   # left, right, top, bottom

    def __post_init__(self):
        for name in ("title", "x_label", "y_label"):
            check_str(name, getattr(self, name), empty_ok=True)
        left, right, top, bottom = self.margin
        check_int("width", self.width, left + right + 10)   # room for the plot itself
        check_int("height", self.height, top + bottom + 10)

    def add(self, points, label, color, width=2, markers=False):
        """Add one curve: `points` is a list of (x, y) pairs of finite numbers, in order of
        x; `color` is any SVG colour ("#1f77b4", "red")."""
        if isinstance(points, (str, bytes, dict)) or not hasattr(points, "__iter__"):
            raise ValueError(f"points: must be a list of (x, y) pairs, got "
                             f"{type(points).__name__}")
        points = [tuple(check_numbers(f"points[{i}]", p, length=2))
                  for i, p in enumerate(points)]
        check_str("label", label, empty_ok=True)
        # the colour goes inside an attribute: no quote or bracket may end it early
        color = escape(check_str("color", color), {'"': "&quot;"})
        self.curves.append(_Curve(points, label, color,
                                  check_number("width", width, 0, low_open=True),
                                  check_bool("markers", markers)))

    def to_svg(self):
        """The chart as the text of an SVG file."""
        points = [p for curve in self.curves for p in curve.points]
        if not points:
            raise ValueError("chart: has no points to draw")
        frame = _Frame(self, points)
        parts = [frame.header(self.title), *frame.axes(self.x_label, self.y_label)]
        for curve in self.curves:
            parts += frame.curve(curve)
        parts += frame.legend(self.curves)
        return "\n".join(parts + ["</svg>"]) + "\n"

    def save(self, path):
        """Write the SVG to `path` atomically; returns the Path."""
        return atomic_write_text(path, self.to_svg())

    def _repr_svg_(self):  # Jupyter shows the chart inline
        return self.to_svg()


class _Frame:
    """The arithmetic of one drawing: data coordinates -> SVG coordinates, and the pieces."""

    def __init__(self, chart, points):
        self.chart = chart
        left, right, top, bottom = chart.margin
        self.left, self.top = left, top
        self.plot_w = chart.width - left - right
        self.plot_h = chart.height - top - bottom
        self.x_max = max(1.0, max(x for x, _ in points))
        y_low, y_high = min(y for _, y in points), max(y for _, y in points)
        pad = 0.05 * (y_high - y_low or 1.0)
        self.y_low, self.y_high = y_low - pad, y_high + pad

    def x(self, value):
        return self.left + self.plot_w * value / self.x_max

    def y(self, value):  # SVG's y grows downward, so high values are near the top
        return self.top + self.plot_h * (self.y_high - value) / (self.y_high - self.y_low)

    def header(self, title):
        w, h = self.chart.width, self.chart.height
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
                f'viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">\n'
                f'<rect width="{w}" height="{h}" fill="white"/>\n'
                f'<text x="{w / 2}" y="22" text-anchor="middle" font-size="15">'
                f'{escape(title)}</text>')

    def axes(self, x_label, y_label):
        left, top, bottom = self.left, self.top, self.top + self.plot_h
        right, middle_y = left + self.plot_w, top + self.plot_h / 2
        parts = [
            f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="black"/>',
            f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="black"/>',
            f'<text x="{left + self.plot_w / 2}" y="{self.chart.height - 10}" '
            f'text-anchor="middle">{escape(x_label)}</text>',
            f'<text x="16" y="{middle_y}" text-anchor="middle" '
            f'transform="rotate(-90 16 {middle_y})">{escape(y_label)}</text>',
        ]
        for tick in nice_ticks(0, self.x_max):
            x = self.x(tick)
            parts.append(f'<line x1="{x:.1f}" y1="{bottom}" x2="{x:.1f}" y2="{bottom + 5}" '
                         f'stroke="black"/>')
            parts.append(f'<text x="{x:.1f}" y="{bottom + 18}" text-anchor="middle">'
                         f'{tick:g}</text>')
        for tick in nice_ticks(self.y_low, self.y_high):
            y = self.y(tick)
            parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" '
                         f'stroke="#eeeeee"/>')
            parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
                         f'{tick:.4g}</text>')
        return parts

    def curve(self, curve):
        pts = " ".join(f"{self.x(x):.1f},{self.y(y):.1f}" for x, y in curve.points)
        parts = [f'<polyline points="{pts}" fill="none" stroke="{curve.color}" '
                 f'stroke-width="{curve.width}"/>']
        if curve.markers:
            parts += [f'<circle cx="{self.x(x):.1f}" cy="{self.y(y):.1f}" r="3" '
                      f'fill="{curve.color}"/>' for x, y in curve.points]
        return parts

    def legend(self, curves):
        parts, right = [], self.left + self.plot_w
        for i, curve in enumerate(curves):
            y = self.top + 12 + 18 * i
            parts.append(f'<line x1="{right - 170}" y1="{y}" x2="{right - 145}" y2="{y}" '
                         f'stroke="{curve.color}" stroke-width="3"/>')
            parts.append(f'<text x="{right - 140}" y="{y + 4}">{escape(curve.label)}</text>')
        return parts


def loss_curve(history, title="loss"):
    """The chart of a run's losses: `history` is {"train": [[step, loss], ...], "val":
    [...]}, as `train` keeps it in its checkpoint. Steps on x, loss on y."""
    check_instance("history", history, dict, 'a dict {"train": [[step, loss], ...], "val": [...]}')
    train = history.get("train", [])
    val = history.get("val", [])
    if not train and not val:
        raise ValueError("history: has no losses to plot (train for at least one step)")
    chart = LineChart(title, x_label="step", y_label="cross-entropy loss")
    window = max(1, len(train) // 50)
    if train and window > 1:
        steps, losses = [s for s, _ in train], [loss for _, loss in train]
        chart.add(train, "train (each step)", COLORS["train"], width=1)
        chart.add(zip(steps, moving_average(losses, window)),
                  f"train (mean of {window} steps)", COLORS["train_avg"])
    elif train:  # too few steps to be worth smoothing
        chart.add(train, "train", COLORS["train_avg"])
    if val:
        chart.add(val, "validation", COLORS["val"], markers=True)
    return chart


def loss_curve_svg(history, title="loss"):
    """The SVG text of `loss_curve(history, title)`."""
    return loss_curve(history, title).to_svg()


def write_loss_plot(history, path, title="loss"):
    """Write `loss_curve(history, title)` to `path` (atomically); returns the path."""
    return loss_curve(history, title).save(path)
