"""How fast is a training step, and where does the time go? Every number measured in one run.

    python benchmarks/speed.py            # the full table (a few minutes on 2 cores)
    python benchmarks/speed.py --quick    # fewer repeats, same table
    python benchmarks/speed.py --json out.json   # also write the results as JSON
    python docs/record.py speed          # run it, keep the results, write chapter 12's tables

What it measures, on the embedded `names` data, one name per step:
  1. the `microgpt` preset (d 16, 4 heads, 1 layer, context 16): ms per training step
     (forward, loss, backward, Adam), fused nodes vs plain binary ops, and the plain-float
     floor (micrograd_gpt/teaching/by_hand.py: the same step hand-written on floats), measured in
     alternation so machine noise hits all three alike; nodes and edges per step;
  2. a larger network (d 64, 4 heads, 4 layers, context 64): the same, a few steps;
  3. generation: tokens per second under no_grad with the KV cache vs building the graph;
  4. a learner's own loop (`model.zero_grad(); model.loss(doc).backward(); opt.step()`)
     vs the trainer's step, taking turns (and the same loop with a backward that searches
     the graph); the looking-inside hooks (inspection, health) switched off vs not there;
  5. peak memory of one step (tracemalloc);
  6. the engine alone (measured first, on a fresh heap): ns per node to build and
     back-propagate a 200,000-node chain, the Value engine against the simplest Value
     that works (benchmarks/engine.py).
Numbers are medians; ratios are of medians from the same run. Times are this process's
CPU time (`time.process_time`), so that other programs on a shared machine do not count.
"""
from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout
import engine as engine_benchmark  # noqa: E402  (benchmarks/engine.py: the baseline Value)

from micrograd_gpt.teaching import by_hand as float_floor  # noqa: E402  (the hand-written step)
from micrograd_gpt.autograd.modes import enable_grad, no_grad  # noqa: E402
from micrograd_gpt.autograd.tape import Tape  # noqa: E402
from micrograd_gpt.autograd.value import Value, topological_order  # noqa: E402
from micrograd_gpt.common.files import atomic_write_text  # noqa: E402
from micrograd_gpt.models.gpt import GPT, GPTConfig  # noqa: E402
from micrograd_gpt.models.generation import sample_token  # noqa: E402
from micrograd_gpt.training.optim import Adam  # noqa: E402
from micrograd_gpt.training.presets import PRESETS  # noqa: E402
from micrograd_gpt.training.data import prepare_data  # noqa: E402
from micrograd_gpt.training.engines import batch_loss, train_step  # noqa: E402
from micrograd_gpt.training.settings import TrainConfig  # noqa: E402

MICROGPT = dict(PRESETS["microgpt"]["model"])  # microgpt.py's architecture
LARGER = dict(MICROGPT, d_model=64, num_layers=4, max_seq_len=64)


def median_ms(times):
    return statistics.median(times) * 1e3


def load_names(max_seq_len):
    data = prepare_data(TrainConfig.from_preset("microgpt", data="names",
                                                model={"max_seq_len": max_seq_len}))
    return data.tokenizer.vocab_size, data.train


def graph_size(model, doc):
    """(nodes, edges) of one step's graph: every node the loss depends on."""
    nodes = topological_order(batch_loss(model, [doc]))
    return len(nodes), sum(len(n._prev) for n in nodes)


class ValueStep:
    """One training step of the Value engine: forward, loss, backward, Adam."""

    def __init__(self, config, seed=0):
        self.model = GPT(config, rng=random.Random(seed))
        self.optimizer = Adam(self.model.parameters(), lr=0.01, betas=(0.85, 0.99), eps=1e-8)

    def __call__(self, doc):
        train_step(self.model, self.optimizer, [doc], lr=0.01)


class FloatStep:
    """The same step on plain floats with a hand-written backward (the floor)."""

    def __init__(self, config, seed=0):
        self.params = GPT(config, rng=random.Random(seed)).state_dict()
        self.config = config
        self.optimizer = float_floor.FloatAdam(self.params, lr=0.01)

    def __call__(self, doc):
        _, grads = float_floor.loss_and_grads(self.params, doc, self.config.num_heads,
                                              config=self.config)
        self.optimizer.step(grads)


def time_alternately(steppers, docs, repeats):
    """Run each stepper on the same docs, taking turns, so noise is shared fairly."""
    times = {name: [] for name in steppers}
    for i in range(repeats):
        doc = docs[i % len(docs)]
        for name, step in steppers.items():
            start = time.process_time()
            step(doc)
            times[name].append(time.process_time() - start)
    return {name: median_ms(t) for name, t in times.items()}


def training_step_table(label, model_kwargs, docs, repeats, with_plain=True, with_floor=True):
    """The step three ways. Fused and the floor take turns for `repeats` steps; then, in a
    pass of its own (a plain step leaves tens of thousands of freed nodes behind, which
    would slow the next step down), plain and fused take turns for a quarter of them.
    Each ratio compares two medians of the same pass."""
    vocab = model_kwargs["vocab_size"]
    fused_cfg = GPTConfig(**model_kwargs)
    plain_cfg = GPTConfig(**dict(model_kwargs, fused=False))
    steppers = {"fused": ValueStep(fused_cfg)}
    if with_floor:
        steppers["float floor"] = FloatStep(fused_cfg)
    ms = time_alternately(steppers, docs, repeats)
    if with_plain:
        versus_plain = time_alternately({"fused": ValueStep(fused_cfg),
                                         "plain": ValueStep(plain_cfg)},
                                        docs, max(3, repeats // 4))
        ms["plain"] = versus_plain["plain"]
        ms["plain / fused"] = versus_plain["plain"] / versus_plain["fused"]
    doc = max(docs[:50], key=len)
    sizes = {"fused": graph_size(GPT(fused_cfg), doc)}
    if with_plain:
        sizes["plain"] = graph_size(GPT(plain_cfg), doc)
    print(f"\n## {label}: d={model_kwargs['d_model']}, heads={model_kwargs['num_heads']}, "
          f"layers={model_kwargs['num_layers']}, context={model_kwargs['max_seq_len']}, "
          f"V={vocab}; median of {repeats} steps, one name per step")
    rows = []
    for name, value in ms.items():
        if name == "plain / fused":
            continue
        nodes, edges = sizes.get(name, (None, None))
        size = f"{nodes:>8,} nodes {edges:>9,} edges" if nodes else " " * 32
        rows.append((name, value, nodes, edges))
        print(f"  {name:<12} {value:9.2f} ms/step   {size}   (graph of a {len(doc) - 1}-prediction name)")
    if with_plain:
        print(f"  fused is {ms['plain / fused']:.1f}x faster than plain, with "
              f"{sizes['plain'][0] / sizes['fused'][0]:.1f}x fewer nodes and "
              f"{sizes['plain'][1] / sizes['fused'][1]:.1f}x fewer edges")
    if with_floor:
        print(f"  fused step / float floor = {ms['fused'] / ms['float floor']:.2f}x")
    return ms, sizes


def generation_table(model_kwargs, tokens=200, repeats=3):
    """Tokens/s stepping through a KV cache three ways, sampling the same tokens:
    Value nodes with the graph recorded, Value nodes under no_grad, and the float path
    that `GPT.generate` uses (model.float_copy(): no nodes at all)."""
    model = GPT(GPTConfig(**model_kwargs), rng=random.Random(0))
    T = model.config.max_seq_len

    def run(way):
        stepper = model.float_copy() if way == "generate()" else model
        rng = random.Random(1)
        out, token = [], 0
        with (no_grad() if way == "no_grad" else enable_grad()):
            cache = stepper.new_state()
            for i in range(tokens):
                if i % T == 0:
                    cache = stepper.new_state()  # a fresh context (same work every way)
                logits = stepper.step(token, cache)
                if way != "generate()":
                    logits = [v.data for v in logits]
                token = sample_token(logits, 1.0, None, None, rng)
                out.append(token)
        return out

    ways = ("graph", "no_grad", "generate()")
    times = {way: [] for way in ways}
    outputs = {}
    for _ in range(repeats):
        for way in ways:
            start = time.process_time()
            outputs[way] = run(way)
            times[way].append(time.process_time() - start)
    assert outputs["graph"] == outputs["no_grad"] == outputs["generate()"], "same tokens"
    rate = {way: tokens / statistics.median(times[way]) for way in ways}
    print(f"\n## generation ({tokens} tokens, microgpt shape, KV cache)")
    labels = {"graph": "Value nodes, graph recorded",
              "no_grad": "Value nodes under no_grad",
              "generate()": "GPT.generate (float path)"}
    for way in ways:
        print(f"  {labels[way]:<28} {rate[way]:9.0f} tokens/s   "
              f"({rate[way] / rate['graph']:.1f}x the graph)")
    return rate


def learner_loop_table(model_kwargs, docs, repeats):
    """A learner's own loop, as the chapters write it, against the trainer's step, taking
    turns on the same names: the loop's loss is built on a tape by `model.loss` itself
    (with the cyclic collector paused), so nothing is left for the learner to switch on.
    For scale, what the two savings are worth: the same loop with a backward that must
    search the graph (its root, the loss times 1, was not built by `model.loss`), and
    the trainer's step with the cyclic collector left running while the graph is built."""
    def make():
        model = GPT(GPTConfig(**model_kwargs), rng=random.Random(0))
        return model, Adam(model.parameters(), lr=0.01)

    (learner, learner_opt), (searched, searched_opt), (trainer, trainer_opt), \
        (collected, collected_opt) = make(), make(), make(), make()

    def learner_loop(doc):
        learner.zero_grad()
        learner.loss(doc).backward()
        learner_opt.step()

    def searching_loop(doc):
        searched.zero_grad()
        (searched.loss(doc) * 1.0).backward()
        searched_opt.step()

    def trainer_step(doc):
        train_step(trainer, trainer_opt, [doc], 0.01)

    def trainer_step_collector_running(doc):  # train_step without its cyclic_gc_paused()
        with Tape() as tape:
            loss = batch_loss(collected, [doc])
        collected_opt.zero_grad()
        tape.backward(loss, leaves=collected_opt.params)
        del loss, tape
        collected_opt.step()

    gc.collect()
    ms = time_alternately({"learner loop": learner_loop, "trainer step": trainer_step,
                           "loop, searching": searching_loop,
                           "step, gc running": trainer_step_collector_running}, docs, repeats)
    print("\n## a learner's loop (zero_grad; loss(doc).backward(); step) vs the trainer's "
          "step (microgpt shape)")
    for name, value in ms.items():
        print(f"  {name:<16} {value:8.2f} ms/step")
    ms["learner / trainer"] = ms["learner loop"] / ms["trainer step"]
    print(f"  learner loop / trainer step = {ms['learner / trainer']:.2f}")
    return ms


def memory_table(model_kwargs, doc):
    """Peak memory of one step's graph, built and back-propagated. The model computes one
    loss first: a model's first loss checks, once, that its tape is the whole graph (a
    search), which is not part of a step."""
    model = GPT(GPTConfig(**model_kwargs), rng=random.Random(0))
    model.loss(doc[:2])
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    loss = batch_loss(model, [doc])
    loss.backward()
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    print(f"\n## memory: peak of one step's graph (microgpt shape, {len(doc) - 1} predictions): "
          f"{peak / 2**20:.2f} MiB")
    return peak


def engine_table(nodes, repeats):
    """ns per node to build and to back-propagate a chain of `nodes` nodes (each step an
    operation and its constant), the Value engine and benchmarks/engine.py's
    BaselineValue taking turns, the garbage collector on (as benchmarks/engine.py)."""
    rows = engine_benchmark.measure(
        {"Value": engine_benchmark.chain_builder(Value, nodes),
         "baseline": engine_benchmark.chain_builder(engine_benchmark.BaselineValue, nodes)},
        repeats, {"Value": engine_benchmark.chain_builder(Value, 1000),
                  "baseline": engine_benchmark.chain_builder(engine_benchmark.BaselineValue,
                                                             1000)})
    value, base = rows["Value"], rows["baseline"]
    print(f"\n## engine: a chain of {nodes:,} nodes, Value vs the simplest Value "
          f"(benchmarks/engine.py), median of {repeats}")
    for name, row in rows.items():
        print(f"  {name:<9} build {row['build_ns']:6.0f} ns/node   backward "
              f"{row['backward_ns']:6.0f} ns/node")
    ratios = (value["build_ns"] / base["build_ns"], value["backward_ns"] / base["backward_ns"])
    print(f"  Value / baseline: build {ratios[0]:.2f}x, backward {ratios[1]:.2f}x")
    return value["build_ns"], value["backward_ns"], ratios


def without_looking_checks():
    """The training step's code as it was before anyone could look inside: Module.__call__
    without its forward-hook check, attention without its kept-weights check. Returns
    (install, restore): swap that code in, and back."""
    import math
    from micrograd_gpt import functional as F
    from micrograd_gpt.autograd import modes
    from micrograd_gpt.models.attention import CausalSelfAttention
    from micrograd_gpt.models.nn import Module

    def call(self, *args, **kwargs):  # Module.__call__ without the forward hooks
        if self._scope_name is None or not modes.is_recording_scopes():
            return self.forward(*args, **kwargs)
        return modes.call_in_scope(self._scope_name, self.forward, *args, **kwargs)

    def forward(self, x, cache):
        hd = self.head_dim
        q, k, v = self.wq(x), self.wk(x), self.wv(x)
        q = F.scale(q, 1.0 / math.sqrt(hd))
        heads_out = []
        for h in range(self.num_heads):
            part = slice(h * hd, (h + 1) * hd)
            q_h = q[part]
            cache.keys[h].append(k[part])
            cache.values[h].append(v[part])
            keys_h, values_h = cache.keys[h], cache.values[h]
            scores = [F.dot(q_h, key) for key in keys_h]
            weights = F.softmax(scores)
            heads_out += [F.dot(weights, [value[j] for value in values_h]) for j in range(hd)]
        return self.wo(heads_out)

    current = (Module.__call__, CausalSelfAttention.forward)

    def install():
        Module.__call__, CausalSelfAttention.forward = call, forward

    def restore():
        Module.__call__, CausalSelfAttention.forward = current
    return install, restore


def looking_table(model_kwargs, docs, repeats):
    """What the looking-inside hooks (inspection.py, health.py) cost a training step when
    nobody looks: the step as the library runs it vs the same step with the old code,
    in alternation; and, for scale, a step that also measures its health."""
    from micrograd_gpt.training.health import measure_step
    install, restore = without_looking_checks()
    model = GPT(GPTConfig(**model_kwargs), rng=random.Random(0))
    opt = Adam(model.parameters(), lr=0.01)
    install()
    try:
        old_loss = batch_loss(model, [docs[0]]).data
    finally:
        restore()
    assert old_loss == batch_loss(model, [docs[0]]).data, "the same step, the same numbers"

    def before(doc):
        install()
        try:
            train_step(model, opt, [doc], 0.01)
        finally:
            restore()

    def health(doc):
        measure_step(model, [doc], lambda: train_step(model, opt, [doc], 0.01))

    def now(doc):
        train_step(model, opt, [doc], 0.01)
    # the pair compared is timed on its own (a health step leaves garbage that would slow
    # whichever step comes next), once in each order
    half = max(1, repeats // 2)
    first = time_alternately({"recording off": now, "before the hooks": before}, docs, half)
    second = time_alternately({"before the hooks": before, "recording off": now}, docs, half)
    ms = {name: (first[name] + second[name]) / 2 for name in first}
    ms["health measured"] = time_alternately({"health measured": health}, docs, half)[
        "health measured"]
    print("\n## looking inside: the training step with recording off (microgpt shape)")
    for name, value in ms.items():
        print(f"  {name:<17} {value:8.2f} ms/step")
    print(f"  recording off / before the hooks = "
          f"{ms['recording off'] / ms['before the hooks']:.3f}")
    return ms


def write_json(path, micro, larger, generation, loop_ms, peak, engine_ns):
    """The results as JSON, for docs/record.py (which keeps them in docs/recorded/speed.json
    and makes chapter 12's tables from them): per network the ms of each way and the graph
    sizes (nodes, edges), generation rates, the learner's loop, peak bytes, engine ns."""
    (m_ms, m_size), (l_ms, l_size) = micro, larger
    results = {"micro": {"ms": m_ms, "size": m_size}, "larger": {"ms": l_ms, "size": l_size},
               "generation": generation, "loop_ms": loop_ms, "peak_bytes": peak,
               "engine_ns": engine_ns}
    atomic_write_text(path, json.dumps(results, indent=1) + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--repeats", type=int, default=None, help="steps per measurement")
    parser.add_argument("--json", metavar="PATH", default=None,
                        help="also write the results as JSON (python docs/record.py speed "
                             "keeps them and writes chapter 12's tables)")
    args = parser.parse_args(argv)
    repeats = args.repeats or (20 if args.quick else 40)
    print(f"Python {sys.version.split()[0]} on {sys.platform}; medians of {repeats} steps")

    # the engine alone first, on a fresh heap (the big plain graphs below leave Python's
    # memory pools fragmented, which slows every allocation that follows)
    engine_ns = engine_table(200_000, 3 if args.quick else 7)
    vocab, docs = load_names(MICROGPT["max_seq_len"])
    rng = random.Random(0)
    docs = rng.sample(docs, min(len(docs), 200))
    micro = dict(MICROGPT, vocab_size=vocab)
    micro_result = training_step_table("microgpt preset", micro, docs, repeats)
    larger = dict(LARGER, vocab_size=vocab)
    larger_result = training_step_table("a larger network", larger, docs,
                                        3 if args.quick else 5)
    generation = generation_table(micro)
    loop_ms = learner_loop_table(micro, docs, repeats)
    looking_table(micro, docs, repeats)
    peak = memory_table(micro, max(docs, key=len))
    if args.json:
        write_json(args.json, micro_result, larger_result, generation, loop_ms, peak,
                   engine_ns)

if __name__ == "__main__":
    main()
