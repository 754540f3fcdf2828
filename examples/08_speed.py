"""Why nodes cost: a training step's graph fused vs plain, and generation without a graph.

    python examples/08_speed.py

Times are rough (one run, this machine); `python benchmarks/speed.py` measures properly.
"""
import os
import random
import time

from micrograd_gpt import GPT, GPTConfig, no_grad
from micrograd_gpt.autograd.value import topological_order
from micrograd_gpt.training.presets import PRESETS

QUICK = os.environ.get("MICROGRAD_GPT_QUICK") == "1"
# the microgpt preset's network (karpathy's microgpt.py), on the names' 27 tokens
SHAPE = dict(PRESETS["microgpt"]["model"], vocab_size=27)
TOKENS = [26, 8, 18, 0, 1, 4, 11, 11, 0, 26]  # [BOS] i s a b e l l a [BOS]


def median_seconds(work, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def main():
    repeats = 3 if QUICK else 15
    print("one training step (forward + backward) on one name:")
    for fused in (True, False):
        model = GPT(GPTConfig(**SHAPE, fused=fused), rng=random.Random(0))
        loss = model.loss(TOKENS)
        nodes = topological_order(loss)
        edges = sum(len(n._prev) for n in nodes)
        seconds = median_seconds(lambda: model.loss(TOKENS).backward(), repeats)
        print(f"  {'fused' if fused else 'plain'}: {len(nodes):>6,} nodes {edges:>7,} edges "
              f"{seconds * 1e3:7.1f} ms")

    model = GPT(GPTConfig(**SHAPE), rng=random.Random(0))
    fast = model.float_copy()

    def on_values():
        cache = model.new_state()
        for t in TOKENS:
            model.step(t, cache)

    def without_graph():
        with no_grad():
            on_values()

    def on_floats():
        cache = fast.new_state()
        for t in TOKENS:
            fast.step(t, cache)

    print(f"running {len(TOKENS)} positions forward (generation's work):")
    base = None
    for label, work in (("Values, graph kept", on_values), ("Values, no_grad", without_graph),
                        ("floats (GPT.generate)", on_floats)):
        rate = len(TOKENS) / median_seconds(work, repeats * 2)
        base = base or rate
        print(f"  {label:22} {rate:8,.0f} positions/s ({rate / base:.1f}x)")


if __name__ == "__main__":
    main()
