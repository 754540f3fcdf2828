"""A training run's loss curves as an SVG line chart, drawn with the standard library.

SVG is text: a chart is a few `<line>`s for the axes, `<text>` labels for the ticks, and
one `<polyline>` per curve whose points are the (step, loss) pairs scaled into the plot
area. The noisy per-step training loss is drawn faint, with its moving average on top.
`micrograd-gpt plot --checkpoint F -o loss.svg` calls `main_plot`.
"""
from __future__ import annotations

import math
import sys
from pathlib import Path
from xml.sax.saxutils import escape

__all__ = ["loss_curve_svg", "write_loss_plot", "moving_average"]

WIDTH, HEIGHT = 720, 420
MARGIN = {"left": 64, "right": 24, "top": 40, "bottom": 48}
COLORS = {"train": "#9ecae1", "train_avg": "#1f77b4", "val": "#d62728"}


def moving_average(values, window):
    """The mean of each value and the up to `window - 1` values before it."""
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


def _nice_ticks(low, high, count=5):
    """About `count` round numbers (1, 2 or 5 times a power of ten apart) in [low, high]."""
    if high <= low:
        return [low]
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(low / step) * step
    return [first + i * step for i in range(int((high - first) / step + 1e-9) + 1)]


def loss_curve_svg(history, title="loss"):
    """The SVG text of a chart of `history` ({"train": [[step, loss], ...], "val": [...]},
    as kept by `train` in its checkpoint): steps on x, loss on y."""
    train = history.get("train", [])
    val = history.get("val", [])
    if not train and not val:
        raise ValueError("history: has no losses to plot (train for at least one step)")
    window = max(1, len(train) // 50)
    smooth = list(zip([s for s, _ in train], moving_average([l for _, l in train], window)))
    points = train + val
    x_max = max(1, max(s for s, _ in points))
    y_low = min(l for _, l in points)
    y_high = max(l for _, l in points)
    pad = 0.05 * (y_high - y_low or 1.0)
    y_low, y_high = y_low - pad, y_high + pad

    left, top = MARGIN["left"], MARGIN["top"]
    plot_w = WIDTH - left - MARGIN["right"]
    plot_h = HEIGHT - top - MARGIN["bottom"]

    def x(step):
        return left + plot_w * step / x_max

    def y(loss):  # SVG's y grows downward, so high losses are near the top
        return top + plot_h * (y_high - loss) / (y_high - y_low)

    def polyline(pairs, color, width):
        pts = " ".join(f"{x(s):.1f},{y(l):.1f}" for s, l in pairs)
        return (f'<polyline points="{pts}" fill="none" stroke="{color}" '
                f'stroke-width="{width}"/>')

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{WIDTH / 2}" y="22" text-anchor="middle" font-size="15">{escape(title)}</text>',
        # axes
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
        'stroke="black"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="black"/>',
        f'<text x="{left + plot_w / 2}" y="{HEIGHT - 10}" text-anchor="middle">step</text>',
        f'<text x="16" y="{top + plot_h / 2}" text-anchor="middle" '
        f'transform="rotate(-90 16 {top + plot_h / 2})">cross-entropy loss</text>',
    ]
    for tick in _nice_ticks(0, x_max):
        parts.append(f'<line x1="{x(tick):.1f}" y1="{top + plot_h}" x2="{x(tick):.1f}" '
                     f'y2="{top + plot_h + 5}" stroke="black"/>')
        parts.append(f'<text x="{x(tick):.1f}" y="{top + plot_h + 18}" '
                     f'text-anchor="middle">{tick:g}</text>')
    for tick in _nice_ticks(y_low, y_high):
        parts.append(f'<line x1="{left}" y1="{y(tick):.1f}" x2="{left + plot_w}" '
                     f'y2="{y(tick):.1f}" stroke="#eeeeee"/>')
        parts.append(f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" '
                     f'text-anchor="end">{tick:.4g}</text>')
    legend = []
    if train and window > 1:
        parts.append(polyline(train, COLORS["train"], 1))
        parts.append(polyline(smooth, COLORS["train_avg"], 2))
        legend += [("train (each step)", COLORS["train"]),
                   (f"train (mean of {window} steps)", COLORS["train_avg"])]
    elif train:  # too few steps to be worth smoothing
        parts.append(polyline(train, COLORS["train_avg"], 2))
        legend.append(("train", COLORS["train_avg"]))
    if val:
        parts.append(polyline(val, COLORS["val"], 2))
        parts += [f'<circle cx="{x(s):.1f}" cy="{y(l):.1f}" r="3" fill="{COLORS["val"]}"/>'
                  for s, l in val]
        legend.append(("validation", COLORS["val"]))
    for i, (label, color) in enumerate(legend):
        ly = top + 12 + 18 * i
        parts.append(f'<line x1="{left + plot_w - 170}" y1="{ly}" x2="{left + plot_w - 145}" '
                     f'y2="{ly}" stroke="{color}" stroke-width="3"/>')
        parts.append(f'<text x="{left + plot_w - 140}" y="{ly + 4}">{escape(label)}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def write_loss_plot(history, path, title="loss"):
    """Write `loss_curve_svg(history, title)` to `path` (atomically); returns the path."""
    from .files import atomic_write_text
    return atomic_write_text(path, loss_curve_svg(history, title))


def main_plot(args):
    """`micrograd-gpt plot`: the loss curves of a checkpoint, as SVG."""
    from .checkpoint import load_checkpoint
    try:
        checkpoint = load_checkpoint(args.checkpoint)
        output = Path(args.output) if args.output else Path(args.checkpoint).with_suffix(".svg")
        if output.suffix.lower() != ".svg":
            raise ValueError(f"--output: the picture is SVG, so the name must end in .svg, "
                             f"got {str(output)!r}")
        title = f"{Path(args.checkpoint).name}: loss after {checkpoint.step} steps"
        write_loss_plot(checkpoint.history, output, title)
    except ValueError as e:
        print(f"micrograd-gpt plot: error: {e}", file=sys.stderr)
        return 2
    print(f"wrote {output}")
    return 0
