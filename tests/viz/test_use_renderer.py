"""use_renderer: a host without programs (the browser page) draws through a function."""
import pytest

from micrograd_gpt import Value, draw_dot
from micrograd_gpt.viz import graph
from micrograd_gpt.viz.tracing import trace_html


@pytest.fixture
def drawn():
    """Installs a renderer that records what it was asked to draw; removed afterwards."""
    asked = []

    def render(source, fmt):
        asked.append((source, fmt))
        return f"<svg><!-- {len(asked)} --></svg>".encode()

    graph.use_renderer(render)
    yield asked
    graph.use_renderer(None)


def small_graph():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    out = (a * b).tanh()
    out.backward()
    return draw_dot(out)


def test_every_way_of_drawing_goes_through_the_renderer(drawn, tmp_path):
    dot = small_graph()
    assert graph.renderer_available()
    assert graph.pipe_graph(dot, "svg") == b"<svg><!-- 1 --></svg>"
    assert drawn[0] == (dot.source, "svg")
    path = graph.render_graph(dot, tmp_path / "g.svg")
    assert path.read_bytes() == b"<svg><!-- 2 --></svg>"
    assert dot._repr_mimebundle_() == {"image/svg+xml": "<svg><!-- 3 --></svg>"}
    a = Value(1.0, label="a")
    page = trace_html((a * a).tanh())
    assert "<!-- 4 -->" in page and len(drawn) == 4


def test_none_goes_back_to_the_programs_and_bad_renderers_are_refused():
    graph.use_renderer(None)
    assert graph._renderer is None
    with pytest.raises(ValueError, match="render: must be a function"):
        graph.use_renderer("dot")
