"""The SVG pictures: valid XML whatever the labels, the numbers where they belong, the dashed
reference lines of the loss curve, the heatmaps' cells and causal triangle, the health
charts, and the bigram baseline they draw."""
import math
import random
import re
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict

import pytest

from micrograd_gpt.training.data import bigram_loss
from micrograd_gpt.viz.plots import (AttentionMaps, BarChart, LineChart, PictureGrid,
                                     health_curves, loss_curve, weight_color)
from micrograd_gpt.training.baselines import reference_losses
from micrograd_gpt.training.data import prepare_data
from micrograd_gpt.training.settings import TrainConfig

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '<img src=x onerror=alert(1)> & "quotes" \'</svg>'


def parse(svg):
    return ET.fromstring(svg)  # fails on anything that is not well-formed XML


def texts(root):
    return ["".join(t.itertext()) for t in root.iter(SVG + "text")]


def test_a_reference_line_is_dashed_at_its_height_and_labelled():
    chart = LineChart("t", legend="lower left")
    chart.add([(0, 1.0), (10, 2.0)], "curve", "#000000")
    chart.add_reference(3.0, "three")
    root = parse(chart.to_svg())
    dashed = [line for line in root.iter(SVG + "line") if line.get("class") == "reference"]
    assert len(dashed) == 1 and dashed[0].get("stroke-dasharray")
    top_of_curve = min(float(p.split(",")[1]) for p in
                       next(root.iter(SVG + "polyline")).get("points").split())
    assert float(dashed[0].get("y1")) < top_of_curve      # 3.0 is above the curve's 2.0
    assert float(dashed[0].get("y1")) > chart.margin[2]   # and inside the plot: axis grew
    assert "three" in texts(root)


def test_the_loss_curve_has_the_uniform_and_bigram_lines():
    history = {"train": [[s, 3.3 - s / 100] for s in range(1, 101)], "val": [[0, 3.3], [100, 2.4]]}
    root = parse(loss_curve(history, "run", vocab_size=27, bigram=2.45).to_svg())
    labels = texts(root)
    assert "uniform guess:" in labels and f"ln 27 = {math.log(27):.2f}" in labels
    assert "bigram counts:" in labels and "2.45" in labels
    # beside the plot, right of its last x, never on a curve
    plot_right = max(float(x) for line in root.iter(SVG + "line") if line.get("class") == "reference"
                     for x in (line.get("x2"),))
    beside = [t for t in root.iter(SVG + "text") if t.text in ("uniform guess:", "2.45")]
    assert len(beside) == 2 and all(float(t.get("x")) > plot_right for t in beside)
    assert len([x for x in root.iter(SVG + "line") if x.get("class") == "reference"]) == 2
    plain = parse(loss_curve(history, "run").to_svg())
    assert not [x for x in plain.iter(SVG + "line") if x.get("class") == "reference"]


def test_every_label_is_escaped():
    chart = LineChart(HOSTILE, x_label=HOSTILE, y_label=HOSTILE, legend="right")
    chart.add([(0, 1), (1, 2)], HOSTILE, "#000000")
    chart.add_reference(1.5, HOSTILE)
    root = parse(chart.to_svg())
    assert texts(root).count(HOSTILE) == 5
    assert not list(root.iter(SVG + "img")) and not list(root.iter("img"))


def test_a_reference_label_goes_at_either_end():
    chart = LineChart("t", width=400)
    chart.add([(0, 1.0), (10, 2.0)], "curve", "#000000")
    chart.add_reference(1.5, "left one", label_at="left")
    chart.add_reference(1.2, "right one")
    labels = {t.text: t for t in parse(chart.to_svg()).iter(SVG + "text")}
    assert float(labels["left one"].get("x")) < 100 < 300 < float(labels["right one"].get("x"))
    with pytest.raises(ValueError, match="label_at"):
        chart.add_reference(1.0, "x", label_at="middle")


def test_a_chart_refuses_nothing_to_draw_and_an_unknown_legend_place():
    with pytest.raises(ValueError, match="no points"):
        LineChart("empty").to_svg()
    with pytest.raises(ValueError, match="legend"):
        LineChart("x", legend="middle")


# ---- attention heatmaps ----------------------------------------------------------------------

def random_attention(layers, heads, size, seed=0):
    rng = random.Random(seed)
    out = []
    for _ in range(layers):
        layer = []
        for _ in range(heads):
            rows = []
            for t in range(size):
                raw = [rng.random() for _ in range(t + 1)]
                rows.append([x / sum(raw) for x in raw])
            layer.append(rows)
        out.append(layer)
    return out


@pytest.mark.parametrize("layers, heads, size", [(1, 2, 5), (2, 4, 17), (1, 1, 1)])
def test_one_map_per_layer_and_head_with_every_weight(layers, heads, size):
    attention = random_attention(layers, heads, size)
    labels = ["BOS"] + [chr(97 + i % 26) for i in range(size - 1)]
    root = parse(AttentionMaps(attention, labels).to_svg())
    maps = [g for g in root.iter(SVG + "g") if g.get("class") == "attention-map"]
    assert len(maps) == layers * heads
    cells = [r for r in root.iter(SVG + "rect") if r.get("class") == "cell"]
    assert len(cells) == layers * heads * size * (size + 1) // 2      # the lower triangle
    for cell in cells:
        layer, head, t, s = (int(cell.get(f"data-{k}")) for k in ("layer", "head", "row", "col"))
        assert s <= t
        assert float(cell.get("data-weight")) == attention[layer][head][t][s]  # exact
        assert cell.get("fill") == weight_color(attention[layer][head][t][s])
        assert f"with weight {attention[layer][head][t][s]:.3f}" in "".join(cell.itertext())
    future = [r for r in root.iter(SVG + "rect") if r.get("fill") == "#e0e0e0"]
    assert len(future) == layers * heads * size * (size - 1) // 2     # the causal triangle


def test_heatmap_labels_are_escaped_and_shapes_checked():
    attention = random_attention(1, 1, 3)
    root = parse(AttentionMaps(attention, ["BOS", "<", "&"], title=HOSTILE).to_svg())
    assert HOSTILE in texts(root) and "<" in texts(root) and "&" in texts(root)
    with pytest.raises(ValueError, match="attention: every head needs 4 rows"):
        AttentionMaps(attention, ["BOS", "a", "b", "c"])
    with pytest.raises(ValueError, match="at least one layer"):
        AttentionMaps([], [])


def test_weight_colors_go_from_white_to_dark_blue():
    assert weight_color(0.0) == "#ffffff" and weight_color(1.0) == "#08306b"
    assert weight_color(-1) == "#ffffff" and weight_color(2) == "#08306b"
    darkness = [sum(int(weight_color(w)[i:i + 2], 16) for i in (1, 3, 5))
                for w in (0, 0.2, 0.4, 0.6, 0.8, 1.0)]
    assert darkness == sorted(darkness, reverse=True)


def test_pictures_show_in_jupyter_and_a_grid_holds_them_all():
    chart = LineChart("a", width=300, height=200)
    chart.add([(0, 1), (1, 2)], "x", "#000000")
    maps = AttentionMaps(random_attention(1, 2, 4), ["BOS", "a", "b", "c"])
    grid = PictureGrid([chart, maps, chart], columns=2)
    for picture in (chart, maps, grid):
        assert picture._repr_svg_() == picture.to_svg()
    root = parse(grid.to_svg())
    inner = root.findall(SVG + "svg")
    assert len(inner) == 3
    assert [(i.get("x"), i.get("y")) for i in inner] == [
        ("0", "0"), ("300", "0"), ("0", str(max(200, maps.height)))]
    assert int(root.get("width")) == 300 + maps.width


# ---- health charts -----------------------------------------------------------------------

def health_record(step, scale):
    return {"step": step, "lr": 0.01, "grad_norm": 1.0,
            "activations": {"wte": {"mean": 0.0, "std": 0.1 * scale},
                            "blocks.0": {"mean": 0.0, "std": 1.0 * scale},
                            "blocks.0.attn.wq": {"mean": 0.0, "std": 9.0},
                            "blocks.0.mlp.gelu": {"mean": 0.1, "std": 0.2, "saturated": 0.1,
                                                  "dead": 0.0}},
            "parameters": {"wte.weight": {"shape": [27, 16], "grad_norm": 0.5 * scale,
                                          "update_ratio": -2.5},
                           "ln_f.bias": {"shape": [16], "grad_norm": 0.1,
                                         "update_ratio": None}}}


def test_health_curves_draw_four_charts_of_the_right_things():
    history = {"health": [health_record(1, 1.0), health_record(100, 2.0)]}
    root = parse(health_curves(history).to_svg())
    charts = root.findall(SVG + "svg")
    assert len(charts) == 4
    legend = [texts(chart) for chart in charts]
    assert {"wte", "blocks.0", "blocks.0.mlp.gelu"} <= set(legend[0])
    assert "blocks.0.attn.wq" not in legend[0]          # a projection inside attention: left out
    assert {"blocks.0.mlp.gelu saturated", "blocks.0.mlp.gelu dead"} <= set(legend[1])
    assert "wte.weight" in legend[2] and "ln_f.bias" not in legend[2]   # matrices only
    assert "about -3: healthy (makemore)" in legend[3]
    with pytest.raises(ValueError, match="no health statistics"):
        health_curves({"train": [[1, 3.0]]})


def test_health_curves_of_a_model_without_blocks_show_its_modules():
    record = {"step": 1, "lr": 0.1, "grad_norm": 1.0,
              "activations": {"wte": {"mean": 0.0, "std": 1.0},
                              "hidden": {"mean": 0.0, "std": 0.6, "saturated": 0.2, "dead": 0.0},
                              "hidden.inner": {"mean": 0.0, "std": 2.0}},
              "parameters": {"hidden.weight": {"shape": [8, 4], "grad_norm": 0.3,
                                               "update_ratio": -2.0}}}
    charts = parse(health_curves({"health": [record]}).to_svg()).findall(SVG + "svg")
    assert {"wte", "hidden"} <= set(texts(charts[0])) and "hidden.inner" not in texts(charts[0])
    assert "hidden saturated" in texts(charts[1])


# ---- the bigram baseline ------------------------------------------------------------------------

def counted_bigram_loss(train, documents, vocab_size):
    """Chapter 8's way: Counters of pairs, +1 smoothing."""
    follows = defaultdict(Counter)
    for doc in train:
        for a, b in zip(doc, doc[1:]):
            follows[a][b] += 1
    losses = [-math.log((follows[a][b] + 1) / (sum(follows[a].values()) + vocab_size))
              for doc in documents for a, b in zip(doc, doc[1:])]
    return sum(losses) / len(losses)


def test_bigram_loss_by_hand_and_by_counting():
    # after 0 comes 1 twice and 2 once: p(1|0) = (2+1)/(3+3) = 1/2, p(2|0) = 2/6;
    # nothing ever follows 1, so p(0|1) = (0+1)/(0+3) = 1/3
    assert bigram_loss([[0, 1], [0, 1], [0, 2]], [[0, 1, 0, 2]], 3, smoothing=1.0) == \
        pytest.approx((-math.log(1 / 2) - math.log(1 / 3) - math.log(2 / 6)) / 3)
    rng = random.Random(0)
    docs = [[rng.randrange(6) for _ in range(rng.randrange(2, 9))] for _ in range(40)]
    assert bigram_loss(docs[:30], docs[30:], 6) == pytest.approx(
        counted_bigram_loss(docs[:30], docs[30:], 6), abs=1e-12)
    with pytest.raises(ValueError, match="documents"):
        bigram_loss(docs, [[1]], 6)


def test_reference_losses_of_the_names_run():
    config = TrainConfig.from_preset("tiny", eval_docs=300)
    references = reference_losses(config)
    data = prepare_data(config)
    assert references["uniform"] == math.log(27)
    assert references["bigram"] == pytest.approx(
        counted_bigram_loss(data.train, data.val[:300], 27), abs=1e-12)
    assert 2.2 < references["bigram"] < 2.6 < references["uniform"]


def test_svg_numbers_are_plain_decimals():
    chart = loss_curve({"val": [[0, 3.3], [500, 2.2]]}, vocab_size=27, bigram=2.4)
    assert not re.search(r"\d[eE][+-]?\d", chart.to_svg())   # no 1e-05 in coordinates


def _tick_heights(root):
    """{tick label: its y} of a chart's y axis (the labels right-aligned left of the axis)."""
    return {"".join(t.itertext()): float(t.get("y")) for t in root.iter(SVG + "text")
            if t.get("text-anchor") == "end"}


def test_a_logarithmic_axis_puts_equal_ratios_at_equal_distances():
    chart = LineChart("decay", y_log=True, legend="none")
    chart.add([(0, 0.1), (1, 0.01), (2, 0.001)], "g", "red", markers=True)
    root = parse(chart.to_svg())
    ticks = _tick_heights(root)
    assert {"0.1", "0.01", "0.001"} <= set(ticks)                    # powers of ten
    dots = [float(c.get("cy")) for c in root.iter(SVG + "circle")]
    assert dots[1] - dots[0] == pytest.approx(dots[2] - dots[1], abs=0.11)
    for dot, label in zip(dots, ("0.1", "0.01", "0.001")):          # each on its tick
        assert dot == pytest.approx(ticks[label] - 4, abs=0.11)


def test_a_logarithmic_axis_refuses_zero_naming_it():
    chart = LineChart("decay", y_log=True)
    chart.add([(0, 1.0), (1, 0.0)], "g", "red")
    with pytest.raises(ValueError, match="y_log: a point's y is 0"):
        chart.to_svg()


def test_bars_rise_from_y_from_in_proportion_with_their_values_written():
    chart = BarChart("losses", y_label="loss", y_from=2.0)
    for label, value in (("a", 2.4), ("b", 2.2), (HOSTILE, 2.1)):
        chart.add(label, value)
    chart.add_reference(2.3, "line")
    root = parse(chart.to_svg())
    bars = [r for r in root.iter(SVG + "rect") if r.get("class") == "bar"]
    heights = [float(r.get("height")) for r in bars]
    assert heights[0] / heights[1] == pytest.approx(0.4 / 0.2, rel=0.01)
    assert heights[1] / heights[2] == pytest.approx(0.2 / 0.1, rel=0.02)
    bottoms = {round(float(r.get("y")) + float(r.get("height")), 1) for r in bars}
    assert len(bottoms) == 1                                   # all stand on the axis
    assert {"2.400", "2.200", "2.100", HOSTILE, "line"} <= set(texts(root))
    line = next(l for l in root.iter(SVG + "line") if l.get("class") == "reference")
    top_of_b = float(bars[1].get("y"))
    assert float(bars[0].get("y")) < float(line.get("y1")) < top_of_b   # 2.4 > 2.3 > 2.2


@pytest.mark.parametrize("make, match", [
    (lambda: BarChart("t", y_from=2.0).add("a", 1.9), "value: 1.9 is not above y_from"),
    (lambda: BarChart("t").to_svg(), "no bars"),
    (lambda: BarChart("t", value_format="%d"), "value_format: '%d' is not a format"),
])
def test_bad_bars_are_one_clear_error(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("make, match", [
    (lambda: AttentionMaps("not a list", ["a"]), "attention: needs"),
    (lambda: AttentionMaps(random_attention(1, 1, 2), "ab"), "labels: must be a list"),
    (lambda: AttentionMaps(random_attention(1, 1, 2), ["a", 3]), r"labels\[1\]"),
    (lambda: PictureGrid([LineChart("a"), "svg"]), r"pictures\[1\]"),
    (lambda: PictureGrid([LineChart("a")], columns=0), "columns"),
    (lambda: loss_curve({"val": [[0, 3.0]]}, vocab_size=0), "vocab_size"),
    (lambda: loss_curve({"val": [[0, 3.0]]}, bigram=float("nan")), "bigram"),
    (lambda: health_curves([1, 2]), "history"),
    (lambda: LineChart("a").add_reference(float("inf"), "x"), "y"),
])
def test_bad_picture_input_is_one_clear_error(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("layers", [1, 3])
def test_the_heatmaps_end_below_their_last_row_of_maps(layers):
    maps = AttentionMaps(random_attention(layers, 2, 5), ["BOS", "a", "b", "c", "d"])
    root = parse(maps.to_svg())
    lowest = max(float(r.get("y")) + float(r.get("height")) for r in root.iter(SVG + "rect")
                 if r.get("width") != str(maps.width))
    assert maps.height - lowest == 10  # no empty band under the maps
