"""Checks exercise 14: diagnose six training runs from their recorded health numbers.

Each run is the `tiny` preset with one knob changed, or none (`RUNS`); the stub shows
what `health_table()` prints for them (the first 20 steps: the validation loss, the
spread of the residual stream, the share of saturated GELU inputs, the update-to-data
ratio, the gradient's length), without saying which knob. The learner names the
diagnosis of each run; a wrong one gets a pointer to the numbers that tell, and the
right one only with `--show`.

The table in the stub is what `health_table()` prints, never typed in by hand; a test
of the slow tier runs the six runs again and compares (about a minute):

    python -c "from micrograd_gpt.teaching.exercises.diagnose_the_run import health_table; print(health_table())"
"""
from __future__ import annotations

from ...training import TrainConfig, train
from .tutor import NotYet, TODO, Wrong, run_part

DIAGNOSES = ("healthy", "init_std too large", "init_std too small", "lr too high",
             "lr too low")

# run -> (its diagnosis, the knob changed from the tiny preset). The letters are shuffled:
# their order says nothing.
RUNS = {
    "A": ("lr too high", {"lr": 0.3}),
    "B": ("init_std too small", {"model": {"init_std": 0.001}}),
    "C": ("lr too low", {"lr": 1e-5}),
    "D": ("healthy", {}),
    "E": ("lr too high", {"lr": 0.1, "warmup_steps": 0}),
    "F": ("init_std too large", {"model": {"init_std": 1.0}}),
}
STEPS, EVAL_EVERY, EVAL_DOCS = 20, 10, 50

LOOK_AT = {
    "healthy": "compare each column of this row with chapter 10's healthy run: a first "
               "loss near ln 27 = 3.30, spreads between 0.07 and 1, nothing saturated, an "
               "update ratio of about −2",
    "init_std too large": "look at the first loss next to ln 27 = 3.30, and at the "
                          "residual stream's spread and the saturated GELUs at step 1, "
                          "before any step was taken",
    "init_std too small": "look at the residual stream's spread at step 1, before any step "
                          "was taken, and at the update ratio then",
    "lr too high": "look at the update ratio at steps 1 and 20 next to chapter 10's rule of "
                   "thumb (about −1), and at what the residual stream's spread does "
                   "between step 1 and step 20",
    "lr too low": "look at the update ratio: how many powers of ten from chapter 10's −2? "
                  "And at how far the loss gets in 20 steps",
}


def check(learner):
    """The parts of exercise 14: one per run."""
    return [run_part(f"run {run}", lambda run=run: _check_run(learner, run)) for run in RUNS]


def _check_run(learner, run):
    diagnosis = learner.answer("DIAGNOSIS")
    if not isinstance(diagnosis, dict):
        raise Wrong(f"DIAGNOSIS must be a dict, as in the stub; got {type(diagnosis).__name__}")
    guess = diagnosis.get(run, TODO)
    if guess is TODO:
        raise NotYet(f"DIAGNOSIS[{run!r}] is not filled in yet")
    guess = " ".join(str(guess).lower().split())
    if guess not in DIAGNOSES:
        raise Wrong(f"DIAGNOSIS[{run!r}] must be one of {', '.join(map(repr, DIAGNOSES))}; "
                    f"got {guess!r}")
    right, knob = RUNS[run]
    if guess != right:
        raise Wrong(f"not {guess!r}: {LOOK_AT[right]}", answer=f"{right} ({_knob(knob)})")
    return f"{right}: made with {_knob(knob)}"


def _knob(knob):
    """"lr = 0.3 instead of 0.01": what was changed, in words."""
    if not knob:
        return "the tiny preset as it is"
    preset = TrainConfig.from_preset("tiny")
    fields = {**knob.get("model", {}), **{k: v for k, v in knob.items() if k != "model"}}
    was = {**preset.model, **vars(preset)}
    return ", ".join(f"{name} = {value} instead of {was[name]}"
                     for name, value in fields.items())


# ---- the table ---------------------------------------------------------------------------
def record_run(knob, steps=STEPS):
    """The history of the tiny preset with `knob` changed, stopped after `steps` steps (the
    schedule still plans for the preset's 500)."""
    config = TrainConfig.from_preset("tiny", eval_interval=EVAL_EVERY, eval_docs=EVAL_DOCS,
                                     record_health=True, **knob)
    return train(config, quiet=True, stop_at_step=steps).history


def health_table(histories=None):
    """The table the stub shows: one row per run (`histories`: run -> history; default:
    record them, about a minute)."""
    histories = histories or {run: record_run(knob) for run, (_, knob) in RUNS.items()}
    lines = [f"{'':5}{'validation loss':^18}  {'residual std':^18}  {'GELU':^9}"
             f"{'update ratio':^16}  {'gradient':>8}",
             f"{'run':5}{'step 0':>6}{'10':>6}{'20':>6}  {'step 1':>9}{'step 20':>9}  "
             f"{'saturated':>9}{'step 1':>8}{'step 20':>8}  {'length':>8}"]
    for run, history in histories.items():
        first, last = history["health"][0], history["health"][-1]
        losses = "".join(f"{loss:6.2f}" for _, loss in history["val"])
        ratios = "".join(f"{h['parameters']['blocks.0.mlp.fc.weight']['update_ratio']:8.2f}"
                         for h in (first, last))
        spreads = "".join(f"{h['activations']['blocks.0']['std']:9.3f}" for h in (first, last))
        saturated = first["activations"]["blocks.0.mlp.gelu"]["saturated"]
        lines.append(f"{run:5}{losses}  {spreads}  {saturated:9.3f}{ratios}  "
                     f"{first['grad_norm']:8.3f}")
    return "\n".join(lines)
