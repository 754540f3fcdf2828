"""How fast is the Value engine, per node? Builds and back-propagates graphs of about
10^6 nodes and prints nanoseconds per node and memory. Numbers only, no pass/fail.

Three graphs:
  chain        y = ((x + 0.5) * 0.999999 + 0.5) * ...: one long path, each step an
               operation node plus its constant (a plain number becomes a Value too).
  wide fused   sum(W·x) for a k-wide input and m rows: linear() makes one fused "dot"
               node per row and sum_values() one "sum" node, so almost every node is a leaf.
  wide plain   the same numbers with fused_ops(False): the binary + and * chains a
               learner would draw by hand. The ratio to "wide fused" is the fusion's gain.

Times are the median of --repeats runs (the graph is built, back-propagated and freed
each time); the garbage collector stays on, as in ordinary use (--no-gc to compare). Each graph runs in its
own forked process, so its peak resident memory (resource.getrusage) is its own; bytes
per node come from tracemalloc on a smaller graph (tracemalloc slows Python down a lot).

    python benchmarks/engine.py                 # about 10^6 nodes per graph
    python benchmarks/engine.py --nodes 100000  # quicker
    python benchmarks/engine.py --no-gc         # without the cyclic garbage collector
"""
from __future__ import annotations

import argparse
import gc
import multiprocessing
import platform
import random
import resource
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

from micrograd_gpt import functional as F  # noqa: E402
from micrograd_gpt.engine import Value, topological_order  # noqa: E402

WIDTH = 1000  # k: inputs per row of the wide graphs


def chain_builder(n_nodes):
    """A function that builds the chain graph of about n_nodes nodes and returns its root."""
    steps = max(1, (n_nodes - 1) // 2)  # each step: one constant + one operation node

    def build():
        y = Value(1.0)
        for k in range(steps):
            y = y + 0.5 if k % 2 == 0 else y * 0.999999
        return y
    return build


def wide_builder(n_nodes, fused, seed=0):
    """A function that builds sum(W·x): k = WIDTH inputs, m rows, about n_nodes leaves."""
    k = min(WIDTH, max(1, n_nodes // 2))
    m = max(1, n_nodes // (k + 1))
    rng = random.Random(seed)
    x_numbers = [rng.uniform(-1, 1) for _ in range(k)]  # made once, outside the timing
    w_numbers = [[rng.uniform(-1, 1) for _ in range(k)] for _ in range(m)]

    def build():
        x = [Value(v) for v in x_numbers]
        weight = [[Value(v) for v in row] for row in w_numbers]
        with F.fused_ops(fused):
            return F.sum_values(F.linear(x, weight))
    return build


def time_once(build, count_nodes=False):
    """(seconds to build, seconds for backward, node count or None) for one fresh graph."""
    gc.collect()
    start = time.perf_counter()
    root = build()
    built = time.perf_counter()
    root.backward()
    done = time.perf_counter()
    nodes = len(topological_order(root)) if count_nodes else None  # after the clock stops
    del root
    return built - start, done - built, nodes


def bytes_per_node(build):
    """Python bytes allocated per node at the peak of building and back-propagating (from
    tracemalloc, which slows everything down, so it runs on a smaller graph)."""
    gc.collect()
    tracemalloc.start()
    root = build()
    root.backward()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    nodes = len(topological_order(root))
    del root
    return peak / nodes


def peak_rss_mb():
    """This process's peak resident memory so far (ru_maxrss is in kB on Linux, B on macOS)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == "darwin" else rss / 2**10


def measure(make, n_nodes, repeats, traced_nodes, gc_off=False):
    """All the numbers for one kind of graph, measured in the current process."""
    build = make(n_nodes)
    rss_before = peak_rss_mb()
    if gc_off:
        gc.disable()
    runs = [time_once(build, count_nodes=(i == 0)) for i in range(repeats)]
    gc.enable()
    rss_growth = peak_rss_mb() - rss_before
    nodes = runs[0][2]
    build_s = statistics.median(r[0] for r in runs)
    backward_s = statistics.median(r[1] for r in runs)
    return {
        "nodes": nodes, "build_s": build_s, "backward_s": backward_s,
        "build_ns": build_s / nodes * 1e9, "backward_ns": backward_s / nodes * 1e9,
        "rss_mb": rss_growth, "bytes_per_node": bytes_per_node(make(traced_nodes)),
    }


def _measure_in_child(queue, *args):
    queue.put(measure(*args))


def measure_isolated(*args):
    """measure() in a fresh forked process, so each graph's peak memory is its own.
    Where fork is unavailable it runs here, and the memory column is the process's."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return measure(*args)
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_measure_in_child, args=(queue, *args))
    child.start()
    row = queue.get()
    child.join()
    return row


GRAPHS = {
    "chain": chain_builder,
    "wide fused": lambda n: wide_builder(n, fused=True),
    "wide plain": lambda n: wide_builder(n, fused=False),
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, default=1_000_000,
                        help="about how many nodes each graph has (default 1,000,000)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="timed runs per graph; the median is printed (default 3)")
    parser.add_argument("--no-gc", action="store_true",
                        help="switch the cyclic garbage collector off while timing (its passes "
                             "over millions of live nodes are a large part of the build time)")
    args = parser.parse_args(argv)
    if args.nodes < 3:
        parser.error(f"--nodes must be at least 3, got {args.nodes}")
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")
    return args


def main(argv=None):
    args = parse_args(argv)
    traced_nodes = min(args.nodes, 50_000)
    gc_state = "off" if args.no_gc else "on"
    print(f"Value engine, ~{args.nodes:,} nodes per graph, median of {args.repeats} runs, "
          f"gc {gc_state}; Python {platform.python_version()} on {platform.machine()}")
    print(f"{'graph':<12} {'nodes':>11} {'build':>9} {'backward':>9} {'total':>7} "
          f"{'peak RSS':>9} {'traced':>7}")
    print(f"{'':<12} {'':>11} {'ns/node':>9} {'ns/node':>9} {'s':>7} {'+MB':>9} "
          f"{'B/node':>7}")
    rows = {}
    for name, make in GRAPHS.items():
        row = rows[name] = measure_isolated(make, args.nodes, args.repeats, traced_nodes,
                                            args.no_gc)
        print(f"{name:<12} {row['nodes']:>11,} {row['build_ns']:>9.0f} {row['backward_ns']:>9.0f} "
              f"{row['build_s'] + row['backward_s']:>7.2f} {row['rss_mb']:>9.0f} "
              f"{row['bytes_per_node']:>7.0f}", flush=True)
    fused, plain = rows["wide fused"], rows["wide plain"]
    # the same computation both ways: compare whole times, not per-node times
    print(f"fused vs plain, same sum(W·x): {plain['nodes'] / fused['nodes']:.2f}x fewer nodes, "
          f"build {plain['build_s'] / fused['build_s']:.2f}x and backward "
          f"{plain['backward_s'] / fused['backward_s']:.2f}x faster")
    print("peak RSS +MB: growth of the resident memory while that graph was built and "
          "back-propagated;\ntraced B/node: Python allocations per node (tracemalloc, on a "
          f"{traced_nodes:,}-node graph)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
