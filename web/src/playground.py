"""The playground's Python, in the page's Web Worker: each function is one thing the page asks.

They call the library as the command line does (the expression parser and `draw_dot` as
`graph`, the trace page as `trace --html`, `TrainingRun` as `train`, the inspection page
as `inspect`, `sample`, the step picture as `graph --gpt`) and answer in JSON. Errors come
back as the one line the library wrote.
"""
import io
import json
import random
import time
from pathlib import Path

HOME = Path("/home/pyodide")
CHECKPOINT = HOME / "playground.json"   # the checkpoint file the page downloads and loads
PASTED = HOME / "pasted.txt"            # text the learner pasted to train on
CURVE_SECONDS = 1.0                     # how often the loss curve is redrawn while training

# What the page trained or loaded: the run (while training) or the checkpoint's model.
state = {"run": None, "log": None, "model": None, "tokenizer": None, "history": None,
         "text_mode": False, "name": "", "samples_at": -1}


def answer(**fields):
    return json.dumps(fields)


def failed(error):
    """The library's one-line message for `error`."""
    text = str(error).strip().split("\n")[0]
    return answer(error=f"{type(error).__name__}: {text}" if text else type(error).__name__)


# ---------------------------------------------------------------------------------------
# The expression explorer
# ---------------------------------------------------------------------------------------
def expression(text, values, edge_labels=False):
    """The graph of `text` at `values` after backward() (SVG), the trace page that steps
    through its backward pass (HTML), and every input's gradient."""
    from micrograd_gpt.autograd.value import topological_order
    from micrograd_gpt.viz.expression import build_expression, parse_values
    from micrograd_gpt.viz.graph import draw_dot, format_number, pipe_graph
    from micrograd_gpt.viz.tracing import trace_html
    try:
        numbers = parse_values(values)
        root, leaves = build_expression(text, numbers)
        root.backward()
        svg = pipe_graph(draw_dot(root, edge_labels=bool(edge_labels)), "svg").decode("utf-8")
        fresh, _ = build_expression(text, numbers)
        page = trace_html(fresh, title=f"Backpropagation through {text}")
    except ValueError as error:
        return failed(error)
    grads = {name: format_number(leaf.grad) for name, leaf in leaves.items()}
    return answer(svg=svg, trace=page, grads=grads, nodes=len(topological_order(root)),
                  output=format_number(root.data))


# ---------------------------------------------------------------------------------------
# Training in the tab, a slice at a time
# ---------------------------------------------------------------------------------------
def presets():
    """The presets the page offers: (name, model kind), the Value engine's only."""
    from micrograd_gpt.training.presets import PRESETS, needs_torch, preset_kind
    names = [n for n in PRESETS if not needs_torch(n)]
    first = [n for n in ("microgpt", "tiny", "bigram", "mlp", "rnn") if n in names]
    return json.dumps([[n, preset_kind(n)] for n in first + [n for n in names
                                                              if n not in first]])


def train_start(preset, data, pasted=""):
    """Start a run of `preset` on "names", "text" (the sonnets) or "pasted" text."""
    from micrograd_gpt.training.baselines import reference_losses
    from micrograd_gpt.training.settings import TrainConfig
    from micrograd_gpt.training.sliced import TrainingRun
    try:
        if data == "pasted":
            PASTED.write_text(pasted, encoding="utf-8")
            data = str(PASTED)
        config = TrainConfig.from_preset(preset, data=data)
        state["log"] = io.StringIO()
        run = TrainingRun(config, stream=state["log"])
    except ValueError as error:
        return failed(error)
    references = reference_losses(run.config, run.data)  # the curve's dashed lines
    state.update(run=run, model=run.model, tokenizer=run.tokenizer, history=run.history,
                 text_mode=run.data.text_mode, name=f"{Path(data).stem}_{preset}",
                 samples_at=-1, bigram=references["bigram"])
    return answer(steps=run.config.steps, log=_new_log(), **references)


def _new_log():
    text = state["log"].getvalue()
    state["log"].seek(0)
    state["log"].truncate()
    return text


def train_slice(seconds=0.25):
    """Train for about `seconds`; then where the run is: step, losses, speed, time left,
    the loss curve, and samples when a validation loss has just come in."""
    run = state["run"]
    if run is None:
        return answer(error="nothing is training: press Start")
    try:
        run.advance(seconds)
    except (ValueError, ArithmeticError) as error:
        return failed(error)
    return answer(**_progress(run))


def _progress(run):
    history = run.history
    times = run.step_times[-50:]
    per_step = sum(times) / len(times) if times else 0.0
    progress = dict(step=run.step, steps=run.config.steps, done=run.done,
                    loss=history["train"][-1][1] if history["train"] else None,
                    val=history["val"][-1][1] if history["val"] else None,
                    ms_per_step=1000 * per_step,
                    seconds_left=per_step * (run.config.steps - run.step), log=_new_log())
    if run.done or time.perf_counter() - state.get("curve_at", 0.0) > CURVE_SECONDS:
        state["curve_at"] = time.perf_counter()   # redrawn once a second: it costs a step
        progress["curve"] = _curve(history, run.tokenizer.vocab_size)
    if history["val"] and history["val"][-1][0] != state["samples_at"]:
        state["samples_at"] = history["val"][-1][0]
        progress["samples"] = _samples(run.model, run.tokenizer, 8, seed=run.step)
    return progress


def _curve(history, vocab_size):
    from micrograd_gpt.viz.plots import loss_curve
    bigram = state.get("bigram")
    return loss_curve(history, "loss", vocab_size, bigram).to_svg()


def train_stop():
    """End the run where it is (as `train` does at its end): final losses, checkpoint."""
    run = state["run"]
    if run is None:
        return answer(error="nothing is training")
    result = run.finish()
    run.save(CHECKPOINT)
    state.update(run=None, model=result.model, history=dict(result.history))
    return answer(step=result.step, train_loss=result.train_loss, val_loss=result.val_loss,
                  summary=result.summary().replace(f", checkpoint {CHECKPOINT}", ""),
                  curve=_curve(result.history, result.tokenizer.vocab_size),
                  samples=_samples(result.model, result.tokenizer, 8, seed=result.step))


def _samples(model, tokenizer, num, seed=0, **knobs):
    from micrograd_gpt.training.sampling import default_text_length, sample
    length = default_text_length(model) if state["text_mode"] else None
    return sample(model, tokenizer, num, rng=random.Random(seed), max_new_tokens=length,
                  stop_at_bos=not state["text_mode"], **knobs)


# ---------------------------------------------------------------------------------------
# Checkpoints: the command line's file format, both ways
# ---------------------------------------------------------------------------------------
def checkpoint_text():
    """The checkpoint of what the page holds, as the text of the .json file `train` writes."""
    if state["run"] is not None:
        state["run"].save(CHECKPOINT)
    if not CHECKPOINT.exists():
        return answer(error="nothing trained or loaded yet: train a model first")
    return answer(name=f"{state['name'] or 'playground'}.json",
                  text=CHECKPOINT.read_text(encoding="utf-8"))


def checkpoint_load(text, name="checkpoint.json"):
    """Load a checkpoint file (from `micrograd-gpt train`, either engine, or this page)."""
    from micrograd_gpt.training.checkpoint import load_checkpoint
    from micrograd_gpt.training.baselines import saved_reference_losses
    from micrograd_gpt.training.sampling import saved_text_mode
    CHECKPOINT.write_text(text, encoding="utf-8")
    try:
        saved = load_checkpoint(CHECKPOINT)
    except ValueError as error:
        CHECKPOINT.unlink()
        return failed(error)
    try:
        bigram = saved_reference_losses(saved)["bigram"]
    except ValueError:  # its data is not here (a file of the learner's): no bigram line
        bigram = None
    state.update(run=None, model=saved.model, tokenizer=saved.tokenizer,
                 history=saved.history, text_mode=saved_text_mode(saved),
                 name=Path(name).stem, bigram=bigram)
    model = saved.model
    return answer(summary=f"{type(model).__name__}({model.extra_repr()}), trained "
                          f"{saved.step} steps", step=saved.step,
                  curve=_curve(saved.history, saved.tokenizer.vocab_size)
                  if saved.history and saved.history.get("train") else None,
                  samples=_samples(model, saved.tokenizer, 8, seed=saved.step))


# ---------------------------------------------------------------------------------------
# Looking inside what was trained
# ---------------------------------------------------------------------------------------
def _trained():
    if state["model"] is None:
        raise ValueError("no model yet: train one (or load a checkpoint) first")
    return state["model"], state["tokenizer"]


def inspect(text):
    """`micrograd-gpt inspect`'s page for the model reading `text`: the next-token table,
    every head's attention map, the loss curve."""
    from micrograd_gpt.viz.inspection import inspect_text
    from micrograd_gpt.viz.report import inspection_page
    try:
        model, tokenizer = _trained()
        result = inspect_text(model, tokenizer, text, whole_document=not state["text_mode"],
                              top_k=min(5, tokenizer.vocab_size))
        page = inspection_page(result, history=state["history"],
                               title=f"Inside the model: reading {text!r}",
                               facts=f"{type(model).__name__}({model.extra_repr()})",
                               vocab_size=tokenizer.vocab_size)
    except ValueError as error:
        return failed(error)
    heads = (result.num_layers * result.num_heads) if result.attention else 0
    return answer(page=page, table=str(result.prediction_table()), heads=heads)


def next_token(text, temperature=1.0, top_k=0, top_p=1.0, num=6, seed=0):
    """After reading `text`: every token's probability with these knobs, and `num` samples
    that start with `text` drawn with them."""
    from micrograd_gpt.models.generation import token_probabilities
    from micrograd_gpt.viz.inspection import token_labels
    try:
        model, tokenizer = _trained()
        knobs = dict(temperature=float(temperature), top_k=int(top_k) or None,
                     top_p=float(top_p) if float(top_p) < 1.0 else None)
        context = [tokenizer.bos] + tokenizer.encode(text)
        fast = model.float_copy()
        logits = fast.forward(context[-model.max_context:] if model.max_context
                              else context)[-1]
        probabilities = token_probabilities(logits, **knobs)
        samples = _samples(model, tokenizer, int(num), seed=int(seed), prompt=text, **knobs)
    except ValueError as error:
        return failed(error)
    return answer(tokens=list(token_labels(tokenizer)), probabilities=probabilities,
                  samples=samples)


def step_graph():
    """One training step of the model the page holds, one box per module (as `micrograd-gpt
    graph --gpt --checkpoint` draws it), for the small models."""
    from micrograd_gpt.viz.training_step import training_step_graph
    from micrograd_gpt.viz.graph import draw_modules, module_summary, pipe_graph
    try:
        if state["model"] is None:
            raise ValueError("no model yet: train one (or load a checkpoint) first")
        if len(state["model"].parameters()) > 20_000:
            raise ValueError("this model is too big to draw a step of in the page: pick "
                             "bigram, microgpt or tiny")
        checkpoint_text()
        loss, model, batch = training_step_graph(checkpoint=CHECKPOINT, batch_size=1)
        summary = module_summary(loss, names=model.named_parameters())
        title = (f"One training step of {type(model).__name__} on one document: "
                 f"{summary.nodes:,} nodes in {len(summary.ops)} module boxes\\l")
        svg = pipe_graph(draw_modules(summary, rankdir="TB", title=title), "svg")
    except ValueError as error:
        return failed(error)
    return answer(svg=svg.decode("utf-8"), nodes=summary.nodes)
