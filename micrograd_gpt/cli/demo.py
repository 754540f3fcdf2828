"""`micrograd-gpt demo [--seed N]`: the book's functions end to end (book.demo), each result
printed with what it is.

The book (the founding document of this project, its Appendix A) writes the GPT as plain
functions: make_gpt_params, count_parameters, gpt_forward, softmax, generate. The demo runs
them once on a GPT with random weights: it shows what each function gives back, not what a
trained model knows (`micrograd-gpt train` trains one)."""
from __future__ import annotations

from ..teaching.book import demo

INTRODUCTION = (
    "The book's functions (micrograd_gpt.teaching.book; chapter 6 explains the model), run\n"
    "once on a GPT whose weights are random: what each function gives back, not what a\n"
    "trained model knows. Under each result, the call that made it.\n")


def add_arguments(parser):
    parser.description = (
        "Run the book's functions (make_gpt_params, count_parameters, gpt_forward, softmax, "
        "generate) once on an untrained GPT (|V|=100, d=32, 4 heads, 2 layers, context 64) "
        "and say what each result is.")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")


def run(args):
    print(format_demo(demo(seed=args.seed)))
    return 0


def format_demo(result):
    """The demo dict as `key: value` lines, numbers rounded for reading, each group
    followed by the function that made it and what its numbers mean."""
    config, vocab = result["config"], result["config"].vocab_size
    lines = [INTRODUCTION]
    for key, value in result.items():
        lines.append(f"{key + ':':<17} {_shown(key, value)}")
        lines += [f"{'':<17} {line}" for line in _explained(key, result, config, vocab)]
    return "\n".join(lines)


def _shown(key, value):
    if key == "config":  # the book's five fields; the other options are at their defaults
        return (f"vocab_size={value.vocab_size}, d_model={value.d_model}, num_heads="
                f"{value.num_heads}, num_layers={value.num_layers}, "
                f"max_seq_len={value.max_seq_len}")
    if isinstance(value, float):
        return f"{value:.6f}"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, list) and value and isinstance(value[0], float):
        return "[" + ", ".join(f"{x:+.5f}" for x in value) + "]"
    return str(value)


def _explained(key, result, config, vocab):
    """What the line `key` means, in a line or three (nothing for a line the next explains)."""
    d, n, t = config.d_model, config.num_layers, config.max_seq_len
    text = {
        "config": ["make_gpt_params(config, rng): a GPT of this size, weights drawn at random"],
        "parameters": ["count_parameters(config): |V|·d + T·d + N·(12d² + 4d) + 2d",
                       f"= {vocab * d:,} + {t * d:,} + {n}·({12 * d * d:,} + {4 * d}) + "
                       f"{2 * d}; the output layer reuses the token table (tied)"],
        "logits_first_10": ["gpt_forward([1, 2, 3, 4, 5], params, config): the scores (logits)",
                            f"of the {vocab} tokens for what follows 5, the first 10 shown;",
                            "small and alike, as the weights are random"],
        "top_probability": ["softmax(logits): the likeliest next token has this probability,",
                            f"barely above 1/{vocab} = {1 / vocab:g}: an untrained model "
                            "guesses almost uniformly"],
        "full_sequence": ["generate(params, config, [1, 2, 3], 10, temperature=0.8, top_k=10):",
                          "ten tokens after the prompt, as random as the weights.",
                          "`micrograd-gpt train` trains a model whose samples mean something."],
    }
    return text.get(key, [])
