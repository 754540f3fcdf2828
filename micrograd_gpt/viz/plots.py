"""Pictures as SVG, drawn with the standard library: line charts, attention heatmaps, grids.

SVG is text: a chart is a few `<line>`s for the axes, `<text>` labels for the ticks, and
one `<polyline>` per curve whose points are the (x, y) pairs scaled into the plot area; a
heatmap is one `<rect>` per cell, its colour saying how big the number is. Every picture
here has `to_svg()`, `save(path)` (atomic) and `_repr_svg_()`, so it shows itself inline
in Jupyter.

* `LineChart`: curves over shared axes, with dashed horizontal reference lines, and a
  logarithmic y axis on request (`y_log=True`);
* `BarChart`: one bar per label, its value written above it, with reference lines;
* `loss_curve(history)`: a run's training and validation loss, with the uniform guess
  (ln |V|) and the bigram baseline as dashed lines;
* `AttentionMaps`: one heatmap per layer and head, the characters on both axes;
* `health_curves(history)`: the training-health statistics (health.py) over the steps;
* `PictureGrid`: several pictures side by side, as one SVG.

Every text that comes from outside (titles, labels, characters) is escaped.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from html import escape

from ..common.checks import (check_bool, check_choice, check_instance, check_int, check_number,
                     check_numbers, check_str)
from ..common.files import atomic_write_text

__all__ = ["LineChart", "BarChart", "loss_curve", "write_loss_plot", "moving_average", "thin",
           "spread", "MAX_DRAWN_POINTS", "MAX_DRAWN_RECORDS", "nice_ticks", "AttentionMaps",
           "health_curves", "PictureGrid", "weight_color", "PALETTE"]

COLORS = {"train": "#9ecae1", "train_avg": "#1f77b4", "val": "#d62728",
          "uniform": "#7f7f7f", "bigram": "#ff7f0e"}
# ten colours that stay apart from each other (matplotlib's "tab10")
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf"]
LEGENDS = ("upper right", "lower left", "right", "none")


# a curve is drawn with at most this many points, and a health chart from at most this
# many records: a screen has about a thousand columns of pixels, so more points add
# nothing to the picture but time and bytes (a long run's history holds one per step)
MAX_DRAWN_POINTS = 2000
MAX_DRAWN_RECORDS = 200


def thin(points, most=MAX_DRAWN_POINTS):
    """At most `most` of `points` (a list of (x, y), kept in order), for drawing. When
    there are more, the list is cut into most/2 runs of neighbours and each run keeps its
    lowest and its highest point, so a noisy curve keeps the band it fills when drawn
    with every point.

    >>> thin([(0, 3.0), (1, 2.0), (2, 2.5), (3, 1.0), (4, 1.5), (5, 1.2)], most=4)
    [(0, 3.0), (1, 2.0), (3, 1.0), (4, 1.5)]
    """
    check_int("most", most, 2)
    if len(points) <= most:
        return list(points)
    runs, kept = most // 2, []
    for r in range(runs):
        run = points[r * len(points) // runs:(r + 1) * len(points) // runs]
        ys = [point[1] for point in run]
        low, high = ys.index(min(ys)), ys.index(max(ys))
        kept += [run[i] for i in sorted({low, high})]
    return kept


def spread(items, most=MAX_DRAWN_RECORDS):
    """At most `most` of `items`, evenly spread, the first and the last always among them."""
    check_int("most", most, 2)
    if len(items) <= most:
        return list(items)
    return [items[round(i * (len(items) - 1) / (most - 1))] for i in range(most)]


def moving_average(values, window):
    """The mean of each value and the up to `window - 1` values before it.

    With running sums S[i] = values[0] + ... + values[i - 1], the mean ending at i is
    (S[i + 1] - S[i + 1 - window]) / window: one pass, however wide the window."""
    check_int("window", window, 1)
    sums = list(itertools.accumulate(values, initial=0.0))
    first = [sums[i] / i for i in range(1, min(window, len(values)) + 1)]
    return first + [(after - before) / window
                    for after, before in zip(sums[window + 1:], sums[1:])]


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


class _Picture:
    """What every picture shares: `to_svg()` is its own; saving and showing come from here."""

    def save(self, path):
        """Write the SVG to `path` atomically; returns the Path."""
        return atomic_write_text(path, self.to_svg())

    def _repr_svg_(self):  # Jupyter shows the picture inline
        return self.to_svg()


def _attribute(text):
    """`text` made safe inside a double-quoted attribute: no quote or bracket can end it
    early (a colour or a dash pattern comes from the caller)."""
    return escape(text, quote=True)


def _svg_open(width, height, title):
    """The start of a picture: the <svg> element, a white background and the title."""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">\n'
            f'<rect width="{width}" height="{height}" fill="white"/>\n'
            f'<text x="{width / 2}" y="22" text-anchor="middle" font-size="15">'
            f'{escape(title)}</text>')


def _halo_text(x, y, text, anchor="start", extra=""):
    """A label with a white outline, readable on top of lines."""
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" stroke="white" '
            f'stroke-width="3" paint-order="stroke"{extra}>{escape(text)}</text>')


# -------------------------------------------------------------------------------------
# Line charts
# -------------------------------------------------------------------------------------
@dataclass
class _Curve:
    points: list      # [(x, y), ...]
    label: str
    color: str
    width: float
    markers: bool
    dash: str | None  # an SVG stroke-dasharray such as "6 4"; None for a solid line


@dataclass
class _Reference:
    y: float
    label: str
    color: str
    label_at: str     # "right" or "left": which end of the line carries the label;
                      # "outside": beside the plot, right of it, clear of every curve


@dataclass
class LineChart(_Picture):
    """Curves over a shared pair of axes, drawn as SVG by `to_svg()`.

    >>> chart = LineChart("loss", x_label="step", y_label="loss")
    >>> chart.add([(0, 3.3), (100, 2.5)], "validation", "#d62728", markers=True)
    >>> chart.add_reference(3.2958, "uniform guess")      # a dashed horizontal line
    >>> svg = chart.to_svg()

    `legend` is where the legend goes: "upper right", "lower left" (inside the plot),
    "right" (beside it, for many curves) or "none". With `y_log=True` the y axis is
    logarithmic: equal ratios are equal distances, so numbers that shrink by the same
    factor at every step lie on a straight line (every y must then be above 0).
    """

    title: str
    x_label: str = "x"
    y_label: str = "y"
    width: int = 720
    height: int = 420
    curves: list = field(default_factory=list)
    references: list = field(default_factory=list)
    legend: str = "upper right"
    y_include: tuple = ()   # values the y axis must reach even without a point there
    margin: tuple = (64, 24, 40, 48)   # left, right, top, bottom
    y_log: bool = False

    def __post_init__(self):
        for name in ("title", "x_label", "y_label"):
            check_str(name, getattr(self, name), empty_ok=True)
        check_choice("legend", self.legend, LEGENDS)
        check_bool("y_log", self.y_log)
        left, right, top, bottom = self.margin
        check_int("width", self.width, left + right + 10)   # room for the plot itself
        check_int("height", self.height, top + bottom + 10)

    def add(self, points, label, color, width=2, markers=False, dash=None):
        """Add one curve: `points` is a list of (x, y) pairs of finite numbers, in order of
        x; `color` is any SVG colour ("#1f77b4", "red"); `dash` an SVG dash pattern
        ("5 3") or None for a solid line."""
        if isinstance(points, (str, bytes, dict)) or not hasattr(points, "__iter__"):
            raise ValueError(f"points: must be a list of (x, y) pairs, got "
                             f"{type(points).__name__}")
        points = [tuple(check_numbers(f"points[{i}]", p, length=2))
                  for i, p in enumerate(points)]
        check_str("label", label, empty_ok=True)
        self.curves.append(_Curve(points, label, _attribute(check_str("color", color)),
                                  check_number("width", width, 0, low_open=True),
                                  check_bool("markers", markers),
                                  None if dash is None else _attribute(check_str("dash", dash))))

    def add_reference(self, y, label, color="#7f7f7f", label_at="right"):
        """A dashed horizontal line at height `y` across the whole chart, labelled at its
        right (or left) end, or "outside" the plot, right of it (the chart keeps room for
        the label there, so it never sits on a curve)."""
        y = check_number("y", y)
        check_str("label", label, empty_ok=True)
        check_choice("label_at", label_at, ("right", "left", "outside"))
        self.references.append(_Reference(y, label, _attribute(check_str("color", color)),
                                          label_at))

    def to_svg(self):
        """The chart as the text of an SVG file."""
        if self.legend not in LEGENDS:
            raise ValueError(f"legend: must be one of {', '.join(LEGENDS)}, got {self.legend!r}")
        points = [p for curve in self.curves for p in curve.points]
        if not points:
            raise ValueError("chart: has no points to draw")
        if self.y_log:
            _check_positive(points, self.references, self.y_include)
        frame = _Frame(self, points)
        parts = [frame.header(self.title), *frame.axes(self.x_label, self.y_label)]
        for reference in self.references:
            parts.append(frame.reference_line(reference))
        for curve in self.curves:
            parts += frame.curve(curve)
        for reference in self.references:  # on top of the curves, to stay readable
            parts.append(frame.reference_label(reference))
        parts += frame.legend(self.curves)
        return "\n".join(parts + ["</svg>"]) + "\n"


def _check_positive(points, references, y_include):
    """A logarithmic axis has no place for 0 or below: say which number is the trouble."""
    ys = [("a point's y", y) for _, y in points] + [("a reference line", r.y)
                                                    for r in references]
    for what, y in ys + [("y_include", y) for y in y_include]:
        if y <= 0:
            raise ValueError(f"y_log: {what} is {y:g}, and a logarithmic axis shows only "
                             "numbers above 0 (leave them out, or draw without y_log)")


def _lines(label):
    """A label beside a chart, "uniform guess: ln 27 = 3.30", as its two lines."""
    name, colon, value = label.partition(": ")
    return [name + ":", value] if colon else [label]


def _legend_width(curves):
    longest = max((len(c.label) for c in curves), default=0)
    return 44 + 6.6 * longest  # a sample line, then the text at ~6.6 px a character


class _Frame:
    """The arithmetic of one drawing: data coordinates -> SVG coordinates, and the pieces."""

    def __init__(self, chart, points):
        self.chart = chart
        left, right, top, bottom = chart.margin
        if chart.legend == "right":
            right += _legend_width(chart.curves)
        outside = [r for r in chart.references if r.label_at == "outside"]
        if outside:  # room for the labels beside the plot (~6.6 px a character)
            right += 10 + 6.6 * max(len(line) for r in outside for line in _lines(r.label))
        self.left, self.top = left, top
        self.plot_w = chart.width - left - right
        self.plot_h = chart.height - top - bottom
        self.x_min = min(0.0, min(x for x, _ in points))
        self.x_max = max(self.x_min + 1.0, max(x for x, _ in points))
        self.log = chart.y_log   # then the frame works with log10(y) throughout
        ys = [self.scaled(y) for y in [y for _, y in points] + [r.y for r in chart.references]
              + list(chart.y_include)]
        y_low, y_high = min(ys), max(ys)
        pad = 0.05 * (y_high - y_low or 1.0)
        self.y_low, self.y_high = y_low - pad, y_high + pad

    def scaled(self, value):
        return math.log10(value) if self.log else value

    def x(self, value):
        return self.left + self.plot_w * (value - self.x_min) / (self.x_max - self.x_min)

    def y(self, value):  # SVG's y grows downward, so high values are near the top
        return self.top + self.plot_h * (self.y_high - self.scaled(value)) / (
            self.y_high - self.y_low)

    def y_ticks(self):
        """(value, label) of the y axis's ticks: round numbers, or powers of ten on a
        logarithmic axis."""
        if not self.log:
            return [(tick, f"{tick:.4g}") for tick in nice_ticks(self.y_low, self.y_high)]
        decades = range(math.ceil(self.y_low), math.floor(self.y_high) + 1)
        return [(10.0 ** k, f"{10.0 ** k:g}") for k in decades]

    def header(self, title):
        return _svg_open(self.chart.width, self.chart.height, title)

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
        for tick in nice_ticks(self.x_min, self.x_max):
            x = self.x(tick)
            parts.append(f'<line x1="{x:.1f}" y1="{bottom}" x2="{x:.1f}" y2="{bottom + 5}" '
                         f'stroke="black"/>')
            parts.append(f'<text x="{x:.1f}" y="{bottom + 18}" text-anchor="middle">'
                         f'{tick:g}</text>')
        for tick, label in self.y_ticks():
            y = self.y(tick)
            parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" '
                         f'stroke="#eeeeee"/>')
            parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">'
                         f'{label}</text>')
        return parts

    def reference_line(self, ref):
        y, right = self.y(ref.y), self.left + self.plot_w
        return (f'<line class="reference" x1="{self.left}" y1="{y:.1f}" x2="{right}" '
                f'y2="{y:.1f}" stroke="{ref.color}" stroke-width="1.5" stroke-dasharray="6 4"/>')

    def reference_label(self, ref):
        if ref.label_at == "outside":  # "name: value" on two lines, centred on the line
            lines = _lines(ref.label)
            top = self.y(ref.y) + 4 - 7 * (len(lines) - 1)
            return "\n".join(_halo_text(self.left + self.plot_w + 8, top + 14 * i, line,
                                         "start", f' fill="{ref.color}"')
                              for i, line in enumerate(lines))
        if ref.label_at == "left":
            return _halo_text(self.left + 4, self.y(ref.y) - 5, ref.label, "start",
                              f' fill="{ref.color}"')
        return _halo_text(self.left + self.plot_w - 4, self.y(ref.y) - 5, ref.label, "end",
                          f' fill="{ref.color}"')

    def curve(self, curve):
        pts = " ".join(f"{self.x(x):.1f},{self.y(y):.1f}" for x, y in curve.points)
        dash = f' stroke-dasharray="{curve.dash}"' if curve.dash else ""
        parts = [f'<polyline points="{pts}" fill="none" stroke="{curve.color}" '
                 f'stroke-width="{curve.width}"{dash}/>']
        if curve.markers:
            parts += [f'<circle cx="{self.x(x):.1f}" cy="{self.y(y):.1f}" r="3" '
                      f'fill="{curve.color}"/>' for x, y in curve.points]
        return parts

    def legend(self, curves):
        if not curves or self.chart.legend == "none":
            return []
        width, height = _legend_width(curves), 18 * len(curves) + 6
        where = self.chart.legend
        x = {"upper right": self.left + self.plot_w - width - 6, "lower left": self.left + 8,
             "right": self.left + self.plot_w + 12}[where]
        y = self.top + self.plot_h - height - 6 if where == "lower left" else self.top + 4
        parts = [f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height}" '
                 f'fill="white" fill-opacity="0.85" stroke="#dddddd"/>']
        for i, curve in enumerate(curves):
            row = y + 14 + 18 * i
            dash = f' stroke-dasharray="{curve.dash}"' if curve.dash else ""
            parts.append(f'<line x1="{x + 8:.1f}" y1="{row - 4:.1f}" x2="{x + 33:.1f}" '
                         f'y2="{row - 4:.1f}" stroke="{curve.color}" stroke-width="3"{dash}/>')
            parts.append(f'<text x="{x + 38:.1f}" y="{row:.1f}">{escape(curve.label)}</text>')
        return parts


# -------------------------------------------------------------------------------------
# The loss curve of a run
# -------------------------------------------------------------------------------------
def loss_curve(history, title="loss", vocab_size=None, bigram=None):
    """The chart of a run's losses: `history` is {"train": [[step, loss], ...], "val":
    [...]}, as `train` keeps it in its checkpoint. Steps on x, loss on y.

    Two dashed lines say what the numbers mean: with `vocab_size`, the loss of guessing
    uniformly, ln |V| (where a fresh model starts); with `bigram`, the loss of counting
    which character follows which (see `training.baselines.reference_losses`), which a model must beat
    to show that it uses more than the previous character.
    """
    check_instance("history", history, dict, 'a dict {"train": [[step, loss], ...], "val": [...]}')
    train = history.get("train", [])
    val = history.get("val", [])
    if not train and not val:
        raise ValueError("history: has no losses to plot (train for at least one step)")
    chart = LineChart(title, x_label="step", y_label="cross-entropy loss", legend="lower left")
    window = max(1, len(train) // 50)
    if train and window > 1:
        steps, losses = [s for s, _ in train], [loss for _, loss in train]
        chart.add(thin(train), "train (each step)", COLORS["train"], width=1)
        chart.add(thin(list(zip(steps, moving_average(losses, window)))),
                  f"train (mean of {window} steps)", COLORS["train_avg"])
    elif train:  # too few steps to be worth smoothing
        chart.add(train, "train", COLORS["train_avg"])
    if val:  # measured every eval interval only: dots, joined by a dashed line
        chart.add(spread(val, MAX_DRAWN_POINTS), "validation (measured at the dots)",
                  COLORS["val"], markers=True, dash="6 4")
    check_int("vocab_size", vocab_size, 1, none_ok=True)
    check_number("bigram", bigram, 0, none_ok=True)
    if vocab_size is not None:
        uniform = math.log(vocab_size)
        chart.add_reference(uniform, f"uniform guess: ln {vocab_size} = {uniform:.2f}",
                            COLORS["uniform"], label_at="outside")
    if bigram is not None:
        chart.add_reference(bigram, f"bigram counts: {bigram:.2f}", COLORS["bigram"],
                            label_at="outside")
    return chart


def write_loss_plot(history, path, title="loss", vocab_size=None, bigram=None):
    """Write `loss_curve(...)` to `path` (atomically); returns the path."""
    return loss_curve(history, title, vocab_size, bigram).save(path)


# -------------------------------------------------------------------------------------
# Bar charts
# -------------------------------------------------------------------------------------
@dataclass
class BarChart(_Picture):
    """One bar per label, its value written above it, with dashed reference lines.

    >>> chart = BarChart("validation loss", y_label="loss", y_from=2.0)
    >>> chart.add("bigram", 2.376, "#ff7f0e")
    >>> chart.add("mlp", 2.153)
    >>> chart.add_reference(2.376, "bigram counts")     # a dashed line across the bars
    >>> svg = chart.to_svg()

    Bars start at `y_from` (0 by default). Numbers that differ only in their second
    decimal are invisible on bars from 0; start them just below the smallest, and the y
    axis says where they start.
    """

    title: str
    y_label: str = "y"
    y_from: float = 0.0
    value_format: str = ".3f"          # how each bar's value is written above it
    width: int = 720
    height: int = 400
    bars: list = field(default_factory=list)          # (label, value, color)
    references: list = field(default_factory=list)
    margin: tuple = (64, 24, 40, 56)   # left, right, top, bottom

    def __post_init__(self):
        for name in ("title", "y_label", "value_format"):
            check_str(name, getattr(self, name), empty_ok=name != "value_format")
        check_number("y_from", self.y_from)
        try:                             # a bad format fails here, not when drawing
            format(1.0, self.value_format)
        except ValueError:
            raise ValueError(f"value_format: {self.value_format!r} is not a format for a "
                             "number; give one such as '.3f' or '.1%'") from None

    def add(self, label, value, color=PALETTE[0]):
        """One bar: its label under it, its height `value` (a finite number above y_from)."""
        check_str("label", label, empty_ok=True)
        value = check_number("value", value)
        if value <= self.y_from:
            raise ValueError(f"value: {value:g} is not above y_from = {self.y_from:g}, where "
                             "the bars start (give a lower y_from)")
        self.bars.append((label, value, _attribute(check_str("color", color))))

    def add_reference(self, y, label, color="#7f7f7f", label_at="right"):
        """A dashed horizontal line at height `y` across the bars, labelled at one end."""
        check_choice("label_at", label_at, ("right", "left"))
        self.references.append(_Reference(check_number("y", y), check_str("label", label,
                                          empty_ok=True), _attribute(check_str("color", color)),
                                          label_at))

    def to_svg(self):
        """The chart as the text of an SVG file."""
        if not self.bars:
            raise ValueError("chart: has no bars to draw")
        # a LineChart with no curve of its own lends its axes and reference lines
        frame = _Frame(self._axes(), [(0, y) for y in [self.y_from]
                                      + [value for _, value, _ in self.bars]])
        frame.y_low = self.y_from                     # the bars stand on the x axis
        parts = [frame.header(self.title), *self._y_axis(frame)]
        parts += [frame.reference_line(r) for r in self.references]
        slot = frame.plot_w / len(self.bars)
        for i, (label, value, color) in enumerate(self.bars):
            parts += self._bar(frame, frame.left + slot * (i + 0.5), slot * 0.6, label, value,
                               color)
        parts += [frame.reference_label(r) for r in self.references]
        return "\n".join(parts + ["</svg>"]) + "\n"

    def _axes(self):
        chart = LineChart(self.title, x_label="", y_label=self.y_label, width=self.width,
                          height=self.height, legend="none", margin=self.margin)
        chart.references = self.references
        return chart

    def _y_axis(self, frame):
        left, bottom = frame.left, frame.top + frame.plot_h
        middle = frame.top + frame.plot_h / 2
        parts = [f'<line x1="{left}" y1="{bottom}" x2="{left + frame.plot_w}" y2="{bottom}" '
                 'stroke="black"/>',
                 f'<line x1="{left}" y1="{frame.top}" x2="{left}" y2="{bottom}" stroke="black"/>',
                 f'<text x="16" y="{middle}" text-anchor="middle" '
                 f'transform="rotate(-90 16 {middle})">{escape(self.y_label)}</text>']
        for tick, label in frame.y_ticks():
            y = frame.y(tick)
            parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + frame.plot_w}" '
                         f'y2="{y:.1f}" stroke="#eeeeee"/>')
            parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{label}</text>')
        return parts

    def _bar(self, frame, middle, width, label, value, color):
        top, bottom = frame.y(value), frame.top + frame.plot_h
        return [f'<rect class="bar" x="{middle - width / 2:.1f}" y="{top:.1f}" '
                f'width="{width:.1f}" height="{bottom - top:.1f}" fill="{color}"/>',
                f'<text x="{middle:.1f}" y="{top - 5:.1f}" text-anchor="middle">'
                f'{format(value, self.value_format)}</text>',
                f'<text x="{middle:.1f}" y="{bottom + 18:.1f}" text-anchor="middle">'
                f'{escape(label)}</text>']


# -------------------------------------------------------------------------------------
# Attention heatmaps
# -------------------------------------------------------------------------------------
# white -> dark blue: the colour of an attention weight between 0 and 1
_BLUES = [(0.0, (255, 255, 255)), (0.25, (198, 219, 239)), (0.5, (107, 174, 214)),
          (0.75, (33, 113, 181)), (1.0, (8, 48, 107))]
FUTURE_COLOR = "#e0e0e0"  # the cells a position cannot see


def weight_color(weight):
    """The colour of a weight in [0, 1] (clamped): white for 0, dark blue for 1."""
    w = min(1.0, max(0.0, float(weight)))
    for (w0, c0), (w1, c1) in zip(_BLUES, _BLUES[1:]):
        if w <= w1:
            f = (w - w0) / (w1 - w0)
            return "#" + "".join(f"{round(a + f * (b - a)):02x}" for a, b in zip(c0, c1))
    return "#08306b"


class AttentionMaps(_Picture):
    """One heatmap per layer (rows of the picture) and head (columns).

    In each map, row t is the position reading and column s the position it looks at:
    the cell's colour is the weight attention[layer][head][t][s], white for 0, dark blue
    for 1 (each row sums to 1). Cells right of the diagonal are grey: the future, which
    causal attention never sees. Each cell carries its numbers (`data-weight`, and a
    `<title>` a browser shows on hover).

    attention: [layer][head][t][s <= t], as `inspection.record_forward` returns it;
    labels: [T] the character (or "BOS") at each position.
    """

    def __init__(self, attention, labels, title="attention"):
        if not isinstance(attention, list) or not attention or not attention[0]:
            raise ValueError("attention: needs at least one layer with one head "
                             "([layer][head][t][s], as inspection.record_forward gives it)")
        if not isinstance(labels, (list, tuple)):
            raise ValueError(f"labels: must be a list of strings, got {type(labels).__name__}")
        for i, label in enumerate(labels):
            check_str(f"labels[{i}]", label, empty_ok=True)
        self.attention, self.labels = attention, list(labels)
        self.title = check_str("title", title, empty_ok=True)
        size = len(self.labels)
        for layer in attention:
            for head in layer:
                if len(head) != size or any(len(row) != t + 1 for t, row in enumerate(head)):
                    raise ValueError(f"attention: every head needs {size} rows (one per "
                                     "label), row t holding t + 1 weights")
        self.cell = max(10, min(36, 300 // size))
        self.gap, self.left, self.top = 34, 40, 86
        self.map_size = self.cell * size

    @property
    def width(self):
        heads = len(self.attention[0])
        return max(440, self.left + heads * (self.map_size + self.gap) + 10)

    @property
    def height(self):  # each layer's row of maps (26: their titles), gaps between rows only
        layers = len(self.attention)
        return self.top + layers * (self.map_size + 26) + (layers - 1) * self.gap + 10

    def to_svg(self):
        """The heatmaps as the text of an SVG file."""
        w, h = self.width, self.height
        parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
                 f'viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="12">',
                 f'<rect width="{w}" height="{h}" fill="white"/>',
                 f'<text x="10" y="20" font-size="15">{escape(self.title)}</text>',
                 '<text x="10" y="40" fill="#555555">row: the position reading</text>',
                 '<text x="10" y="56" fill="#555555">column: the position it looks at</text>',
                 '<text x="10" y="72" fill="#555555">grey: the future, never seen</text>',
                 *self._color_key(w - 180, 44)]
        for layer, heads in enumerate(self.attention):
            for head, rows in enumerate(heads):
                x = self.left + head * (self.map_size + self.gap)
                y = self.top + layer * (self.map_size + self.gap + 26)
                parts += self._one_map(layer, head, rows, x, y)
        return "\n".join(parts + ["</svg>"]) + "\n"

    def _one_map(self, layer, head, rows, x, y):
        c, labels = self.cell, self.labels
        top = y + 26  # room for the map's title and the column labels
        parts = [f'<g class="attention-map" data-layer="{layer}" data-head="{head}">',
                 f'<text x="{x}" y="{y + 4}" font-weight="bold">layer {layer}, head {head}'
                 '</text>']
        parts += self._axis_labels(x, top)
        for t, row in enumerate(rows):
            for s in range(len(labels)):
                cx, cy = x + s * c, top + t * c
                if s > t:
                    parts.append(f'<rect x="{cx}" y="{cy}" width="{c}" height="{c}" '
                                 f'fill="{FUTURE_COLOR}"/>')
                    continue
                parts.append(self._cell(layer, head, t, s, row[s], cx, cy))
        return parts + ["</g>"]

    def _cell(self, layer, head, t, s, weight, x, y):
        c, labels = self.cell, self.labels
        tip = (f"layer {layer}, head {head}: {labels[t]} (position {t}) looks at "
               f"{labels[s]} (position {s}) with weight {weight:.3f}")
        return (f'<rect class="cell" x="{x}" y="{y}" width="{c}" height="{c}" '
                f'fill="{weight_color(weight)}" stroke="white" stroke-width="0.5" '
                f'data-layer="{layer}" data-head="{head}" data-row="{t}" data-col="{s}" '
                f'data-weight="{weight!r}"><title>{escape(tip)}</title></rect>')

    def _axis_labels(self, x, top):
        c = self.cell
        font = max(7, min(11, c - 6))
        rotate = c < 18 and any(len(label) > 1 for label in self.labels)
        parts = []
        for i, label in enumerate(self.labels):
            middle = i * c + c / 2
            parts.append(f'<text x="{x - 4}" y="{top + middle + font / 3:.1f}" '
                         f'text-anchor="end" font-size="{font}">{escape(label)}</text>')
            cx, cy = x + middle, top - 4
            turn = f' transform="rotate(-90 {cx:.1f} {cy})"' if rotate else ""
            anchor = "start" if rotate else "middle"
            parts.append(f'<text x="{cx:.1f}" y="{cy}" text-anchor="{anchor}" '
                         f'font-size="{font}"{turn}>{escape(label)}</text>')
        return parts

    def _color_key(self, x, y):
        parts = [f'<rect x="{x + 15 * i}" y="{y}" width="15" height="10" '
                 f'fill="{weight_color(i / 9)}" stroke="#cccccc" stroke-width="0.5"/>'
                 for i in range(10)]
        return parts + [f'<text x="{x - 4}" y="{y + 9}" text-anchor="end">0</text>',
                        f'<text x="{x + 154}" y="{y + 9}">1</text>']


# -------------------------------------------------------------------------------------
# Several pictures as one
# -------------------------------------------------------------------------------------
class PictureGrid(_Picture):
    """Pictures side by side, `columns` to a row, as one SVG (each keeps its own size)."""

    def __init__(self, pictures, columns=2):
        self.pictures = list(pictures)
        if not self.pictures:
            raise ValueError("pictures: need at least one picture")
        for i, picture in enumerate(self.pictures):
            if not all(hasattr(picture, a) for a in ("to_svg", "width", "height")):
                raise ValueError(f"pictures[{i}]: must be a picture of this module (a "
                                 f"LineChart, AttentionMaps...), got {type(picture).__name__}")
        self.columns = check_int("columns", columns, 1)

    def _rows(self):
        return [self.pictures[i:i + self.columns]
                for i in range(0, len(self.pictures), self.columns)]

    def to_svg(self):
        """All the pictures as one SVG, each in its own nested <svg>."""
        parts, y, width = [], 0, 0
        for row in self._rows():
            x = 0
            for picture in row:
                inner = picture.to_svg().strip()
                parts.append(inner.replace("<svg ", f'<svg x="{x}" y="{y}" ', 1))
                x += picture.width
            width = max(width, x)
            y += max(picture.height for picture in row)
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{y}" '
                f'viewBox="0 0 {width} {y}">\n' + "\n".join(parts) + "\n</svg>\n")


# -------------------------------------------------------------------------------------
# Training health over the steps
# -------------------------------------------------------------------------------------
def health_curves(history):
    """Four charts of a run's training-health statistics (`history["health"]`, recorded
    with `TrainConfig(record_health=True)`, see health.py), as one PictureGrid:

    * the spread (std) of the activations: embeddings, attention and MLP outputs, the
      nonlinearity and the residual stream after each block;
    * the share of saturated and dead units of each nonlinearity;
    * the length of each weight matrix's gradient (log10);
    * the update-to-data ratio of each weight matrix (log10), with makemore's rule of
      thumb, about -3, as a dashed line.
    """
    check_instance("history", history, dict, 'a run\'s history, with "health" records')
    records = history.get("health") or []
    if not records:
        raise ValueError("history: has no health statistics (train with "
                         "record_health=True, or `micrograd-gpt train` with the Value engine)")
    records = spread(records)  # a marker per record: a few hundred at most
    activations = _activation_names(records[-1]["activations"])
    matrices = [name for name, p in records[-1]["parameters"].items() if len(p["shape"]) == 2]
    charts = [
        _health_chart(records, "activations", activations, "std", "spread of the activations",
                      "std"),
        _saturation_chart(records),
        _health_chart(records, "parameters", matrices, "grad_norm", "gradient length",
                      "log10 |grad|", log=True),
        _health_chart(records, "parameters", matrices, "update_ratio",
                      "update / data ratio", "log10 |update| / |weight|"),
    ]
    charts[3].add_reference(-3, "about -3: healthy (makemore)", label_at="left")
    return PictureGrid(charts, columns=2)


_SHOWN_ACTIVATIONS = ("attn", "mlp", "gelu", "relu", "tanh")


def _activation_names(activations):
    """The activations worth a curve: for a GPT the embeddings, the outputs of attention
    and MLP, the nonlinearities, and the residual stream after each block ("blocks.0");
    for another model its top-level modules."""
    def shown(parts):
        return (parts[-1] in _SHOWN_ACTIVATIONS            # attention, MLP, nonlinearity
                or parts in (["wte"], ["wpe"])               # the embeddings
                or (len(parts) == 2 and parts[0] == "blocks"))  # a block's output
    if not any(name.startswith("blocks.") for name in activations):  # not a GPT: its
        return [name for name in activations if "." not in name]    # top-level modules
    return [name for name in activations if shown(name.split("."))]


def _new_health_chart(title, y_label):
    return LineChart(title, x_label="step", y_label=y_label, width=560, height=320,
                     legend="right", margin=(64, 12, 40, 48))


def _health_chart(records, part, names, key, title, y_label, log=False):
    chart = _new_health_chart(title, y_label)
    for i, name in enumerate(names):
        points = [(r["step"], r[part][name][key]) for r in records
                  if name in r[part] and r[part][name].get(key) is not None]
        if log:
            points = [(s, math.log10(v)) for s, v in points if v > 0]
        if points:
            chart.add(points, name, PALETTE[i % 10], markers=True,
                      dash=None if i < 10 else "5 3")
    if not chart.curves:
        chart.add([(r["step"], 0.0) for r in records], "(nothing recorded)", "#cccccc")
    return chart


def _saturation_chart(records):
    chart = _new_health_chart("saturated and dead units", "share of the units")
    chart.y_include = (0.0, 0.05)  # a share: from 0, and a flat 0 drawn as small
    last = records[-1]["activations"]
    nonlinear = [name for name, stats in last.items() if "saturated" in stats]
    for i, name in enumerate(nonlinear):
        for key, dash in (("saturated", None), ("dead", "5 3")):
            points = [(r["step"], r["activations"][name][key]) for r in records
                      if name in r["activations"]]
            chart.add(points, f"{name} {key}", PALETTE[i % 10], markers=True, dash=dash)
    if not chart.curves:
        chart.add([(r["step"], 0.0) for r in records], "(no nonlinearity)", "#cccccc")
    return chart
