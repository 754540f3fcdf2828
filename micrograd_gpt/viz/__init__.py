"""The looking layer: pictures of what the lower layers computed, never a second copy of them.

`graph` draws a computation graph (`draw_dot`, `render_graph`); `tracing` replays backward one
step at a time; `expression` turns a typed formula into Values; `plots` draws curves and
heatmaps as SVG; `inspection` reads a trained model's predictions and attention; `report`
puts them on one HTML page; `training_step` builds the graph of one training step to draw.
"""
from ..common.lazy import lazy_exports

_EXPORTS = {
    "draw_dot": ".graph", "render_graph": ".graph", "draw_modules": ".graph",
    "GraphvizNotInstalled": ".graph",
    "trace": ".tracing", "print_trace": ".tracing", "save_trace_html": ".tracing",
    "build_expression": ".expression",
    "loss_curve": ".plots", "inspect_text": ".inspection",
    "save_inspection_page": ".report", "training_step_graph": ".training_step",
}
__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
