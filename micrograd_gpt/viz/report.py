"""One HTML page that shows what a trained model does with a text (`micrograd-gpt inspect`).

The page holds, in this order: the table of next-token predictions, the attention
heatmaps (point at a cell to read its weight), the loss curve with its two dashed
reference lines, and the training-health curves when the run recorded them. It is one
self-contained file: the pictures are inline SVG, the few lines of JavaScript are inline,
nothing is fetched from the network, and the recorded numbers travel with the page as
JSON (`<script id="inspection-data">`) for anyone who wants to read them.

Everything that comes from outside (the text, the characters of the vocabulary, the
title) is escaped for the place it goes: HTML text and attributes with `html.escape`,
the JSON with `script_json` (so `</script>` inside a string cannot end the script).
"""
from __future__ import annotations

import html
import json
import re
from pathlib import Path

from ..common.checks import check_str
from ..common.files import atomic_write_text
from .inspection import Inspection
from .plots import health_curves, loss_curve

__all__ = ["inspection_page", "save_inspection_page", "script_json"]


def script_json(data):
    """`data` as JSON that is safe inside an HTML <script> element: every <, > and & is
    written as a \\u escape (so no "</script>" or "<!--" can appear), and so is every
    non-ASCII character, U+2028 and U+2029 included (JavaScript once read those as line
    ends). A JSON parser reads back exactly `data`."""
    text = json.dumps(data, ensure_ascii=True, allow_nan=False)
    for char, code in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, code)
    return text


def inspection_page(inspection, *, history=None, title=None, facts="", vocab_size=None,
                    bigram=None):
    """The HTML page (a string) for `inspection` (from `inspection.inspect_text`).

    history: the run's history from its checkpoint, for the loss and health curves
    (None: those sections say there is nothing to show); facts: one line about the model
    under the title; vocab_size, bigram: the loss curve's dashed reference lines.
    """
    if not isinstance(inspection, Inspection):
        raise ValueError(f"inspection: must come from inspect_text, got "
                         f"{type(inspection).__name__}")
    check_str("title", title, none_ok=True, empty_ok=True)
    check_str("facts", facts, empty_ok=True)
    title = title or f"Inside the model: reading {inspection.text!r}"
    parts = {
        "TITLE": html.escape(title),
        "FACTS": html.escape(facts),
        "PREDICTIONS": inspection.prediction_table().to_html(),
        "ATTENTION": _attention_section(inspection),
        "LOSS": _loss_section(history, vocab_size, bigram),
        "HEALTH": _health_section(history),
        "DATA": script_json(inspection.to_dict()),
    }
    # one pass over the template: text put in is never searched for {{...}} again
    return re.sub(r"\{\{([A-Z]+)\}\}", lambda m: parts[m.group(1)], _template())


def save_inspection_page(path, inspection, **options):
    """Write `inspection_page(inspection, **options)` to `path` atomically; returns the
    Path."""
    return atomic_write_text(Path(path), inspection_page(inspection, **options))


def _attention_section(inspection):
    if not inspection.attention:
        return _note("This model has no attention: it reads the past another way.")
    maps = inspection.attention_maps(f"attention while reading {inspection.text!r}")
    return ('<div id="cell-info">Point at a cell (or click it) to see its weight.</div>'
            + maps.to_svg())


def _loss_section(history, vocab_size, bigram):
    if not history or not (history.get("train") or history.get("val")):
        return _note("No loss history: this model was not trained by micrograd-gpt train.")
    return loss_curve(history, "loss during training", vocab_size, bigram).to_svg()


HEALTH_NOT_RECORDED = (
    "Not recorded for this run. `micrograd-gpt train` records it with the Value engine "
    "unless given --no-health (the torch engine cannot: it has no nodes to look at); in "
    "Python, TrainConfig(record_health=True).")


def _health_section(history):
    if not history or not history.get("health"):
        return _note(HEALTH_NOT_RECORDED)
    # one SVG per chart, so that a narrow screen stacks them instead of shrinking a grid
    charts = "".join(f'<div class="chart">{chart.to_svg()}</div>'
                     for chart in health_curves(history).pictures)
    note = _last_step_note(history["health"])
    return f'<div class="charts">{charts}</div>' + (_note(note) if note else "")


def _last_step_note(records):
    """Why the update / data ratio drops at the end, when it is because the learning rate
    has decayed (nearly) to 0 by the last recorded step: every step's update is
    proportional to the rate, so the ratio falls with it, as the schedule plans."""
    rated = [r for r in records if r.get("lr") is not None]
    if len(rated) < 2:
        return None
    peak, last = max(rated, key=lambda r: r["lr"]), rated[-1]
    if peak["lr"] <= 0 or last["lr"] > 0.1 * peak["lr"]:
        return None
    return (f"The update / data ratio falls at step {last['step']}: the learning rate there "
            f"is {last['lr']:.2g}, against {peak['lr']:.2g} at step {peak['step']} (the "
            "schedule takes it down to 0 at the end), and a step changes the weights in "
            "proportion to it. Nothing went wrong: the last steps are meant to be small.")


def _note(text):
    return f'<p class="note">{html.escape(text)}</p>'


def _template():
    """The page's HTML, CSS and JavaScript, kept in a file of their own next to this one."""
    return Path(__file__).with_name("_inspect_template.html").read_text(encoding="utf-8")
