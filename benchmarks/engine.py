"""How much does a node cost? The Value engine against the simplest Value that works.

`BaselineValue` below is the smallest scalar autograd node one can write (micrograd's
shape: data, grad, children, local derivatives; `+` and `*`; an iterative backward). It
checks nothing, names nothing and tags nothing. The library's `Value` adds what users rely
on: every number and derivative finite (or a clear error), operation names and labels for
pictures and traces, module scopes for the GPT's one-box-per-module pictures, no_grad, and
PyTorch's gradient rules. This prints what those cost, in nanoseconds per node, to build a
graph and to back-propagate it, and the ratio Value / baseline:

  chain        y = ((x + 0.5) * 0.999999 + 0.5) * ...: one long path, each step an
               operation node plus its constant (a plain number becomes a node in both).
  wide plain   sum(W·x) from binary + and * (k inputs, m rows): a broad, shallow graph,
               built by the same loop for both classes.
  wide fused   the same sum with the library's fused nodes (F.linear: one `dot` node per
               row, one `sum`): far fewer nodes, so compare its whole time with "wide
               plain".

The two classes take turns on the same graph, run after run, and the medians are
printed, so a busy machine slows both alike. Times are this process's CPU time
(`time.process_time`), so other programs on a shared machine do not count. The garbage
collector stays on, as in ordinary use (--no-gc to compare). Bytes per node come from
tracemalloc on a smaller graph (tracemalloc slows Python down a lot).

    python benchmarks/engine.py                 # about 200,000 nodes per graph
    python benchmarks/engine.py --nodes 1000000 --repeats 3
"""
from __future__ import annotations

import argparse
import gc
import platform
import random
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

from micrograd_gpt import functional as F  # noqa: E402
from micrograd_gpt.autograd.value import Value, topological_order  # noqa: E402

WIDTH = 1000  # k: inputs per row of the wide graphs


class BaselineValue:
    """The simplest scalar autograd node: no checks, no names, no scopes, no counter."""

    __slots__ = ("data", "grad", "_prev", "_local_grads")

    def __init__(self, data, children=(), local_grads=()):
        self.data = data
        self.grad = 0.0
        self._prev = children
        self._local_grads = local_grads

    def __add__(self, other):
        other = other if isinstance(other, BaselineValue) else BaselineValue(other)
        return BaselineValue(self.data + other.data, (self, other), (1.0, 1.0))

    def __mul__(self, other):
        other = other if isinstance(other, BaselineValue) else BaselineValue(other)
        return BaselineValue(self.data * other.data, (self, other), (other.data, self.data))

    def backward(self):
        order, visited, stack = [], set(), [(self, False)]
        while stack:  # depth-first, without recursion; a node goes after its children
            node, children_done = stack.pop()
            if children_done:
                order.append(node)
            elif node not in visited:
                visited.add(node)
                stack.append((node, True))
                stack.extend((child, False) for child in node._prev)
        self.grad = 1.0
        for node in reversed(order):
            for child, local in zip(node._prev, node._local_grads):
                child.grad += local * node.grad


def chain_builder(cls, n_nodes):
    """A function that builds the chain graph of about n_nodes nodes and returns its root."""
    steps = max(1, (n_nodes - 1) // 2)  # each step: one constant + one operation node

    def build():
        y = cls(1.0)
        for k in range(steps):
            y = y + 0.5 if k % 2 == 0 else y * 0.999999
        return y
    return build


def wide_builder(cls, n_nodes, fused=False, seed=0):
    """A function that builds sum(W·x), k = WIDTH inputs and m rows, sized so that the
    plain graph has about n_nodes nodes (3 per weight: itself, its product, a running sum);
    the fused graph of the same sum has about a third of them."""
    rng = random.Random(seed)
    k = min(WIDTH, max(1, n_nodes // 4))
    m = max(1, n_nodes // (3 * k + 1))
    x_numbers = [rng.uniform(-1, 1) for _ in range(k)]  # made once, outside the timing
    w_numbers = [[rng.uniform(-1, 1) for _ in range(k)] for _ in range(m)]

    def build():
        x = [cls(v) for v in x_numbers]
        weight = [[cls(v) for v in row] for row in w_numbers]
        if fused:  # the library's fused nodes: one dot per row, one sum
            return F.sum_values(F.linear(x, weight))
        rows = []
        for row in weight:  # the same code for both classes: chains of * and +
            total = row[0] * x[0]
            for w, xi in zip(row[1:], x[1:]):
                total = total + w * xi
            rows.append(total)
        total = rows[0]
        for r in rows[1:]:
            total = total + r
        return total
    return build


def count_nodes(root):
    seen, stack = {root}, [root]
    while stack:
        for child in stack.pop()._prev:
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return len(seen)


def time_once(build):
    """(seconds to build, seconds for backward) for one fresh graph."""
    gc.collect()
    start = time.process_time()
    root = build()
    built = time.process_time()
    root.backward()
    done = time.process_time()
    del root
    return built - start, done - built


def bytes_per_node(build):
    """Python bytes allocated per node at the peak of building and back-propagating."""
    gc.collect()
    tracemalloc.start()
    root = build()
    root.backward()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    nodes = count_nodes(root)
    del root
    return peak / nodes


def measure(builders, repeats, traced_builders, gc_off=False):
    """{name: numbers} for builders of the same graph, timed in turns (name by name inside
    each round), so that the machine's load falls on all of them alike."""
    times = {name: [] for name in builders}
    if gc_off:
        gc.disable()
    try:
        for _ in range(repeats):
            for name, build in builders.items():
                times[name].append(time_once(build))
    finally:
        gc.enable()
    rows = {}
    for name, build in builders.items():
        nodes = count_nodes(build())
        build_s = statistics.median(t[0] for t in times[name])
        backward_s = statistics.median(t[1] for t in times[name])
        rows[name] = {"nodes": nodes, "build_s": build_s, "backward_s": backward_s,
                      "build_ns": build_s / nodes * 1e9, "backward_ns": backward_s / nodes * 1e9,
                      "bytes_per_node": bytes_per_node(traced_builders[name])}
    return rows


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, default=200_000,
                        help="about how many nodes each graph has (default 200,000)")
    parser.add_argument("--repeats", type=int, default=9,
                        help="timed runs per graph and class; the median is printed (default 9)")
    parser.add_argument("--no-gc", action="store_true",
                        help="switch the cyclic garbage collector off while timing")
    args = parser.parse_args(argv)
    if args.nodes < 3:
        parser.error(f"--nodes must be at least 3, got {args.nodes}")
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")
    return args


def print_row(graph, name, row):
    print(f"{graph:<11} {name:<9} {row['nodes']:>10,} {row['build_ns']:>9.0f} "
          f"{row['backward_ns']:>9.0f} {row['build_s'] + row['backward_s']:>8.3f} "
          f"{row['bytes_per_node']:>7.0f}", flush=True)


def main(argv=None):
    args = parse_args(argv)
    traced = min(args.nodes, 20_000)
    print(f"Value vs BaselineValue, ~{args.nodes:,} nodes per graph, median of {args.repeats} "
          f"runs taken in turns, gc {'off' if args.no_gc else 'on'}; Python "
          f"{platform.python_version()} on {platform.machine()}")
    print(f"{'graph':<11} {'class':<9} {'nodes':>10} {'build':>9} {'backward':>9} "
          f"{'total':>8} {'traced':>7}")
    print(f"{'':<11} {'':<9} {'':>10} {'ns/node':>9} {'ns/node':>9} {'s':>8} {'B/node':>7}")
    ratios = {}
    for graph, make in (("chain", chain_builder),
                        ("wide plain", lambda cls, n: wide_builder(cls, n, fused=False))):
        builders = {"Value": make(Value, args.nodes),
                    "baseline": make(BaselineValue, args.nodes)}
        traced_builders = {"Value": make(Value, traced), "baseline": make(BaselineValue, traced)}
        rows = measure(builders, args.repeats, traced_builders, args.no_gc)
        for name, row in rows.items():
            print_row(graph, name, row)
        ratios[graph] = (rows["Value"]["build_ns"] / rows["baseline"]["build_ns"],
                         rows["Value"]["backward_ns"] / rows["baseline"]["backward_ns"])
        plain = rows["Value"]
    fused = measure({"Value": wide_builder(Value, args.nodes, fused=True)}, args.repeats,
                    {"Value": wide_builder(Value, traced, fused=True)}, args.no_gc)["Value"]
    print_row("wide fused", "Value", fused)
    for graph, (build, backward) in ratios.items():
        print(f"Value / baseline, {graph}: build {build:.2f}x, backward {backward:.2f}x "
              f"(per node)")
    # the same computation both ways: compare whole times, not per-node times
    print(f"fused vs plain Value, same sum(W·x): {plain['nodes'] / fused['nodes']:.1f}x fewer "
          f"nodes, build {plain['build_s'] / fused['build_s']:.1f}x and backward "
          f"{plain['backward_s'] / fused['backward_s']:.1f}x faster")
    return ratios


if __name__ == "__main__":
    main()
    sys.exit(0)
