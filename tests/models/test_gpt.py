"""The GPT: equality with an independent float64 PyTorch GPT (logits, loss, every gradient),
fused and plain graphs, the KV cache, the parameter count, generation, bad input, scopes."""
import dataclasses
import math
import random

import pytest

from helpers import GPT_CONFIGS as CONFIGS, GPT_IDS as IDS, grads_by_name, make_gpt as make_model, \
    max_difference, random_tokens
from micrograd_gpt import GPT, GPTConfig, count_parameters, no_grad
from micrograd_gpt.autograd.modes import (is_grad_enabled, is_recording_scopes, record_scopes,
                                          scope_of)
from micrograd_gpt.autograd.value import topological_order
from micrograd_gpt.models.generation import sample_token

# ---- equality with PyTorch ------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_logits_loss_and_every_gradient_equal_the_torch_reference(config, torch):
    import torch_reference

    model = make_model(config)
    tokens = random_tokens(config, config.max_seq_len + 1)  # T+1 tokens: T predictions
    params = torch_reference.parameters_from(model)

    logits = model(tokens[:-1])
    expected_logits = torch_reference.forward(params, config, tokens[:-1]).tolist()
    assert max_difference([[v.data for v in row] for row in logits], expected_logits) < 1e-9

    loss = model.loss(tokens)
    expected_loss = torch_reference.loss(params, config, tokens)
    assert abs(loss.data - expected_loss.item()) < 1e-9

    loss.backward()
    expected_loss.backward()
    ours = grads_by_name(model)
    assert set(ours) == set(params)
    for name, tensor in params.items():
        assert max_difference(ours[name], tensor.grad.tolist()) < 1e-9, name
    # the check has teeth: the gradients are far from zero
    assert max(abs(p.grad) for p in model.parameters()) > 1e-3


# ---- fused and plain graphs ----------------------------------------------------------------

@pytest.mark.parametrize("config", [CONFIGS[0], CONFIGS[1]], ids=IDS[:2])
def test_fused_and_plain_graphs_give_the_same_logits_loss_and_gradients(config):
    fused = make_model(dataclasses.replace(config, fused=True))
    plain = make_model(dataclasses.replace(config, fused=False))
    tokens = random_tokens(config, config.max_seq_len)
    for a, b in zip(fused(tokens), plain(tokens)):
        assert max_difference([v.data for v in a], [v.data for v in b]) < 1e-12
    loss_fused, loss_plain = fused.loss(tokens), plain.loss(tokens)
    assert abs(loss_fused.data - loss_plain.data) < 1e-12
    loss_fused.backward()
    loss_plain.backward()
    for (name, p), (_, q) in zip(fused.named_parameters(), plain.named_parameters()):
        assert abs(p.grad - q.grad) < 1e-12, name
    # and the two really are different graphs
    fused_ops = {node._op for node in topological_order(loss_fused)}
    plain_ops = {node._op for node in topological_order(loss_plain)}
    assert {"dot", "cross_entropy"} <= fused_ops
    assert not {"dot", "sum", "cross_entropy"} & plain_ops
    assert len(topological_order(loss_plain)) > len(topological_order(loss_fused))


# ---- the KV cache -----------------------------------------------------------------------------

@pytest.mark.parametrize("config", [CONFIGS[0], CONFIGS[2]], ids=[IDS[0], IDS[2]])
def test_stepping_one_token_at_a_time_gives_the_full_forward_logits(config):
    model = make_model(config)
    tokens = random_tokens(config, config.max_seq_len, seed=3)
    full = [[v.data for v in row] for row in model(tokens)]
    cache = model.new_state()
    stepped = [[v.data for v in model.step(t, cache)] for t in tokens]
    assert max_difference(full, stepped) < 1e-12
    assert len(cache[0]) == len(tokens)
    with no_grad():
        cache = model.new_state()
        stepped = [[v.data for v in model.step(t, cache)] for t in tokens]
    assert max_difference(full, stepped) < 1e-12
    with pytest.raises(ValueError, match="max_seq_len"):
        model.step(tokens[0], cache)  # the cache is full


def test_forward_under_no_grad_builds_no_graph():
    model = make_model(CONFIGS[0])
    with no_grad():
        logits = model([1, 2, 3])
    assert all(not v._prev for row in logits for v in row)


# ---- the parameter count --------------------------------------------------------------------

@pytest.mark.parametrize("norm", ["layernorm", "rmsnorm"])
@pytest.mark.parametrize("elementwise_affine", [True, False])
@pytest.mark.parametrize("embedding_norm", [True, False])
@pytest.mark.parametrize("final_norm", [True, False])
@pytest.mark.parametrize("tie_weights", [True, False])
def test_count_parameters_equals_the_real_count_for_every_option(
        norm, elementwise_affine, embedding_norm, final_norm, tie_weights):
    config = GPTConfig(vocab_size=9, d_model=8, num_heads=2, num_layers=2, max_seq_len=5,
                       norm=norm, tie_weights=tie_weights, elementwise_affine=elementwise_affine,
                       embedding_norm=embedding_norm, final_norm=final_norm,
                       activation="relu" if tie_weights else "gelu")
    model = GPT(config)
    assert count_parameters(config) == len(model.parameters())
    assert len(model.parameters()) == len(set(map(id, model.parameters())))  # no duplicates
    assert count_parameters(config) == sum(
        len(row) if isinstance(row, list) else 1
        for _, tensor in model.named_tensors() for row in tensor)
    names = {name.split(".weight")[0].split(".bias")[0] for name, _ in model.named_tensors()}
    assert ("ln_emb" in names) == (embedding_norm and elementwise_affine)
    assert ("ln_f" in names) == (final_norm and elementwise_affine)
    assert ("blocks.0.ln_1" in names) == elementwise_affine


def test_microgpt_architecture_has_4192_parameters():
    """karpathy's microgpt.py on the names: |V|=27, d=16, 1 layer, context 16, untied,
    norms without gain, one after the embeddings, none at the end."""
    config = GPTConfig(vocab_size=27, d_model=16, num_heads=4, num_layers=1, max_seq_len=16,
                       norm="rmsnorm", activation="relu", tie_weights=False,
                       elementwise_affine=False, embedding_norm=True, final_norm=False)
    d, V, T = 16, 27, 16
    assert count_parameters(config) == 2 * V * d + T * d + 12 * d * d == 4192
    assert len(GPT(config).parameters()) == 4192
    # the norms are there, with nothing to learn
    model = GPT(config)
    assert not model.ln_emb.parameters() and not hasattr(model, "ln_f")
    assert "without gain" in repr(model) and "no final norm" in repr(model)


def test_count_parameters_follows_the_documented_formula():
    V, d, T, N = 100, 32, 64, 2
    demo = GPTConfig(vocab_size=V, d_model=d, num_heads=4, num_layers=N, max_seq_len=T)
    assert count_parameters(demo) == V * d + T * d + N * (12 * d * d + 4 * d) + 2 * d == 30_144
    assert len(GPT(demo).parameters()) == 30_144
    V, d, T, N = 50257, 768, 1024, 12  # GPT-2 small, without its linear-layer biases
    gpt2 = GPTConfig(vocab_size=V, d_model=d, num_heads=12, num_layers=N, max_seq_len=T)
    assert count_parameters(gpt2) == V * d + T * d + N * (12 * d * d + 4 * d) + 2 * d
    assert round(count_parameters(gpt2) / 1e6, 1) == 124.4
    # GPT-2's published 124,439,808 adds the 9d biases per block of its linear layers
    assert count_parameters(gpt2) + N * 9 * d == 124_439_808


# ---- names and module scopes ------------------------------------------------------------------

def test_parameter_and_module_names_follow_the_contract():
    model = make_model(CONFIGS[1])  # untied: has lm_head
    names = [name for name, _ in model.named_tensors()]
    assert names[:2] == ["wte.weight", "wpe.weight"]
    assert "blocks.0.attn.wq.weight" in names and "blocks.0.mlp.proj.weight" in names
    assert names[-1] == "lm_head.weight"
    assert all(name.endswith((".weight", ".bias")) for name in names)
    assert [p for _, p in model.named_parameters()] == model.parameters()
    modules = dict(model.named_modules())
    assert {"", "wte", "blocks.0", "blocks.0.ln_1", "blocks.0.attn", "blocks.0.attn.wo",
            "blocks.0.mlp.fc", "ln_f", "lm_head"} <= set(modules)
    tied_names = [name for name, _ in make_model(CONFIGS[0]).named_tensors()]
    assert "lm_head.weight" not in tied_names


def test_nodes_carry_the_scope_of_the_module_that_made_them():
    model = make_model(CONFIGS[0])
    with record_scopes():
        loss = model.loss([1, 2, 3, 4])
    nodes = topological_order(loss)
    scopes = {scope_of(node) for node in nodes}
    assert {"blocks.0.attn", "blocks.0.attn.wq", "blocks.1.mlp.fc", "blocks.0.ln_1",
            "ln_f"} <= scopes
    # the attention softmax's exp nodes are made by blocks.0.attn itself
    attn_ops = {node._op for node in nodes if scope_of(node) == "blocks.0.attn"}
    assert {"exp(x-max)", "dot", "/"} <= attn_ops
    # every dot node that reads a row of Wq was made inside wq
    wq_rows = {id(v) for row in model.blocks[0].attn.wq.weight for v in row}
    wq_dots = [n for n in nodes if n._op == "dot" and any(id(c) in wq_rows for c in n._prev)]
    assert wq_dots and all(scope_of(n) == "blocks.0.attn.wq" for n in wq_dots)
    assert scope_of(loss) == ""  # the loss is the top-level model's
    # the two residual additions of each block have scopes of their own
    for block in ("blocks.0", "blocks.1"):
        for name in ("residual_1", "residual_2"):
            ops = {n._op for n in nodes if scope_of(n) == f"{block}.{name}"}
            assert ops == {"+"}, (block, name, ops)
    assert not any(scope_of(n) == "blocks.0" for n in nodes)  # nothing else made in a block


def test_scopes_are_recorded_only_inside_record_scopes():
    """Outside record_scopes() no node is tagged (a tag costs on every node); the numbers
    are the same either way."""
    model = make_model(CONFIGS[0])
    plain = model.loss([1, 2, 3, 4])
    assert {scope_of(node) for node in topological_order(plain)} == {""}
    assert not is_recording_scopes()
    with record_scopes():
        assert is_recording_scopes()
        tagged = model.loss([1, 2, 3, 4])
    assert not is_recording_scopes()
    assert tagged.data == plain.data
    assert len({scope_of(node) for node in topological_order(tagged)}) > 5


# ---- generation -------------------------------------------------------------------------------

def test_generation_is_reproducible_and_leaves_the_global_random_state_alone():
    model = make_model(CONFIGS[0])
    state = random.getstate()
    a = model.generate([1, 2], 6, temperature=0.9, top_k=5, rng=random.Random(4))
    b = model.generate([1, 2], 6, temperature=0.9, top_k=5, rng=random.Random(4))
    assert a == b and len(a) == 6
    assert all(isinstance(t, int) and 0 <= t < 12 for t in a)
    assert model.generate([1, 2], 6) == model.generate([1, 2], 6, rng=random.Random(0))
    assert random.getstate() == state
    assert is_grad_enabled()
    assert model.generate([1, 2], 0) == []


def test_generation_past_max_seq_len_crops_the_context_like_nanogpt():
    config = CONFIGS[3]  # T = 5, plain graph
    model = make_model(config)
    prompt = [1, 2, 3, 4]
    got = model.generate(prompt, 9, temperature=0.8, top_k=6, top_p=0.95, rng=random.Random(2))
    # the same thing the slow way: a full forward over the last T tokens for every token
    rng, sequence = random.Random(2), list(prompt)
    with no_grad():
        for _ in range(9):
            logits = [v.data for v in model(sequence[-config.max_seq_len:])[-1]]
            sequence.append(sample_token(logits, 0.8, 6, 0.95, rng))
    assert got == sequence[len(prompt):]
    # a prompt longer than max_seq_len is cropped too
    long_prompt = random_tokens(config, 12, seed=5)
    assert len(model.generate(long_prompt, 3)) == 3


def test_greedy_generation_and_the_stop_token():
    model = make_model(CONFIGS[0])
    greedy = model.generate([3, 1], 5, top_k=1)
    sequence = [3, 1]
    with no_grad():
        for _ in range(5):
            row = [v.data for v in model(sequence)[-1]]
            sequence.append(max(range(len(row)), key=row.__getitem__))
    assert greedy == sequence[2:]
    assert model.generate([3, 1], 5, top_p=1e-9) == greedy
    assert model.generate([3, 1], 5, top_k=1, stop_token=greedy[1]) == greedy[:2]


def test_sample_token_respects_top_k_and_top_p():
    logits = [math.log(p) for p in (0.1, 0.6, 0.3)]
    rng = random.Random(0)
    assert {sample_token(logits, top_k=1, rng=rng) for _ in range(50)} == {1}
    assert {sample_token(logits, top_k=2, rng=rng) for _ in range(200)} == {1, 2}
    assert {sample_token(logits, top_p=0.5, rng=rng) for _ in range(50)} == {1}
    assert {sample_token(logits, top_p=0.8, rng=rng) for _ in range(200)} == {1, 2}
    draws = [sample_token(logits, rng=rng) for _ in range(3000)]
    assert abs(draws.count(1) / 3000 - 0.6) < 0.05  # seeded, so this never flickers
    # a low temperature concentrates on the best token
    assert {sample_token(logits, temperature=0.01, rng=rng) for _ in range(50)} == {1}


# ---- configuration and bad input -------------------------------------------------------------

def test_config_round_trips_through_asdict():
    config = CONFIGS[1]
    assert GPTConfig(**dataclasses.asdict(config)) == config


@pytest.mark.parametrize("changes, field", [
    ({"vocab_size": 0}, "vocab_size"), ({"d_model": -4}, "d_model"),
    ({"num_heads": 0}, "num_heads"), ({"num_layers": 0}, "num_layers"),
    ({"max_seq_len": 0}, "max_seq_len"), ({"vocab_size": 2.5}, "vocab_size"),
    ({"d_model": 10, "num_heads": 4}, "divisible by num_heads"),
    ({"norm": "batchnorm"}, "norm"), ({"activation": "tanh"}, "activation"),
    ({"tie_weights": "yes"}, "tie_weights"), ({"init_std": 0.0}, "init_std"),
    ({"fused": None}, "fused"), ({"elementwise_affine": 0}, "elementwise_affine"),
    ({"embedding_norm": "no"}, "embedding_norm"), ({"final_norm": None}, "final_norm"),
])
def test_bad_configs_name_the_field(changes, field):
    fields = dict(vocab_size=5, d_model=8, num_heads=2, num_layers=1, max_seq_len=4)
    fields.update(changes)
    with pytest.raises(ValueError, match=field):
        GPTConfig(**fields)


@pytest.mark.parametrize("call, message", [
    (lambda m: m([]), "tokens: must hold at least 1"),
    (lambda m: m([1, 12]), r"tokens: token ids must be ints in \[0, 11\]"),
    (lambda m: m([-1]), r"\[0, 11\]"),
    (lambda m: m([1.0]), r"\[0, 11\]"),
    (lambda m: m(list(range(9))), "at most 8 tokens"),
    (lambda m: m.loss([3]), "at least 2"),
    (lambda m: m.loss([3, 4], reduction="max"), "reduction"),
    (lambda m: m.generate([], 3), "prompt: must hold at least 1"),
    (lambda m: m.generate([1, 99], 3), r"prompt: token ids must be ints in \[0, 11\]"),
    (lambda m: m.generate([1], 3, temperature=0), "temperature: must be a finite number > 0"),
    (lambda m: m.generate([1], 3, temperature=-1.0), "temperature"),
    (lambda m: m.generate([1], 3, top_k=0), "top_k: must be an integer >= 1 or None"),
    (lambda m: m.generate([1], 3, top_p=0.0), r"top_p: must be a number in \(0, 1\] or None"),
    (lambda m: m.generate([1], 3, top_p=1.5), "top_p"),
    (lambda m: m.generate([1], -1), "max_new_tokens"),
    (lambda m: m.generate([1], 3, stop_token=12), "stop_token"),
])
def test_bad_input_raises_a_value_error_naming_the_argument(call, message):
    model = make_model(CONFIGS[0])
    with pytest.raises(ValueError, match=message):
        call(model)


def test_loss_reductions_agree():
    model = make_model(CONFIGS[0])
    tokens = random_tokens(CONFIGS[0], 6, seed=9)
    mean, total = model.loss(tokens), model.loss(tokens, reduction="sum")
    assert abs(total.data - mean.data * 5) < 1e-12


def test_the_docstring_examples_run():
    import doctest

    import micrograd_gpt.models.gpt

    result = doctest.testmod(micrograd_gpt.models.gpt)
    assert result.attempted >= 5 and result.failed == 0


def test_state_dict_round_trip_between_models():
    config = CONFIGS[1]
    source, target = make_model(config, seed=1), make_model(config, seed=2)
    tokens = random_tokens(config, 5)
    target.load_state_dict(source.state_dict())
    assert max_difference([[v.data for v in r] for r in source(tokens)],
                          [[v.data for v in r] for r in target(tokens)]) == 0.0
    tied = make_model(dataclasses.replace(config, tie_weights=True))
    with pytest.raises(ValueError, match="unexpected: lm_head.weight"):
        tied.load_state_dict(source.state_dict())
