"""Modules: Linear, Embedding, LayerNorm, RMSNorm, MLP against PyTorch and finite differences;
names, reprs, state_dict round trips and their errors, zero_grad, train/eval, scopes."""
import json
import random

import pytest

from helpers import values
from micrograd_gpt import Value, gradcheck
from micrograd_gpt.autograd.modes import record_scopes, scope_of
from micrograd_gpt.autograd.value import topological_order
from micrograd_gpt.models.nn import MLP, Embedding, LayerNorm, Linear, Module, ModuleList, RMSNorm




def randomize(module, seed=0):
    rng = random.Random(seed)
    for p in module.parameters():
        p.data = rng.gauss(0.0, 1.0)
    return module


class TwoLayers(Module):
    """A small user-defined module, the way a learner would write one."""

    def __init__(self):
        self.first = Linear(3, 4, rng=random.Random(1))
        self.norm = LayerNorm(4)
        self.layers = ModuleList([Linear(4, 4, bias=False), Linear(4, 2)])
        self.scale = Value(2.0)

    def forward(self, x):
        x = self.norm(self.first(x))
        for layer in self.layers:
            x = layer(x)
        return [xi * self.scale for xi in x]


# ---- the layers compute what PyTorch computes ---------------------------------------------

X = [0.3, -1.2, 0.7, 2.0]


def _compare_with_torch(torch, ours, theirs, x):
    """Same outputs, same gradients of Σ output·weights for the input and every parameter."""
    inputs = values(x)
    out = ours(inputs)
    weights = [0.5 + 0.25 * i for i in range(len(out))]
    sum(o * w for o, w in zip(out, weights)).backward()

    tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    tout = theirs(tx)
    (tout * torch.tensor(weights, dtype=torch.float64)).sum().backward()

    assert max(abs(a.data - b) for a, b in zip(out, tout.tolist())) < 1e-12
    assert max(abs(a.grad - b) for a, b in zip(inputs, tx.grad.tolist())) < 1e-12
    theirs_params = dict(theirs.named_parameters())
    for name, tensor in ours.named_tensors():
        flat_ours = [v.grad for row in tensor for v in (row if isinstance(row, list) else [row])]
        flat_theirs = theirs_params[name].grad.flatten().tolist()
        assert max(abs(a - b) for a, b in zip(flat_ours, flat_theirs)) < 1e-12, name


def _torch_copy(torch, ours, theirs):
    theirs.load_state_dict({k: torch.tensor(v, dtype=torch.float64)
                            for k, v in ours.state_dict().items()})
    return theirs


def test_linear_matches_torch(torch):
    ours = randomize(Linear(4, 3))
    theirs = _torch_copy(torch, ours, torch.nn.Linear(4, 3, dtype=torch.float64))
    _compare_with_torch(torch, ours, theirs, X)


def test_layernorm_matches_torch(torch):
    ours = randomize(LayerNorm(4))
    theirs = _torch_copy(torch, ours, torch.nn.LayerNorm(4, eps=1e-5, dtype=torch.float64))
    _compare_with_torch(torch, ours, theirs, X)


def test_rmsnorm_matches_torch(torch):
    ours = randomize(RMSNorm(4))
    theirs = _torch_copy(torch, ours, torch.nn.RMSNorm(4, eps=1e-5, dtype=torch.float64))
    _compare_with_torch(torch, ours, theirs, X)


@pytest.mark.parametrize("kind", ["LayerNorm", "RMSNorm"])
def test_norms_without_elementwise_affine_match_torch(torch, kind):
    """elementwise_affine=False, PyTorch's switch: no gain (and no bias), no parameters."""
    ours = {"LayerNorm": LayerNorm, "RMSNorm": RMSNorm}[kind](4, elementwise_affine=False)
    theirs = getattr(torch.nn, kind)(4, eps=1e-5, elementwise_affine=False,
                                     dtype=torch.float64)
    assert ours.parameters() == [] and list(theirs.parameters()) == []
    assert ours.state_dict() == {} and "elementwise_affine=False" in repr(ours)
    _compare_with_torch(torch, ours, theirs, X)
    _compare_with_torch(torch, ours, theirs, [5.0, -0.25, 1e-3, 3.5])


@pytest.mark.parametrize("activation", ["gelu", "relu"])
def test_mlp_matches_torch(torch, activation):
    ours = randomize(MLP(4, activation, rng=random.Random(0)), seed=3)
    act = (torch.nn.GELU(approximate="tanh") if activation == "gelu" else torch.nn.ReLU())
    theirs = torch.nn.Sequential()
    theirs.add_module("fc", torch.nn.Linear(4, 16, bias=False, dtype=torch.float64))
    theirs.add_module("act", act)
    theirs.add_module("proj", torch.nn.Linear(16, 4, bias=False, dtype=torch.float64))
    _compare_with_torch(torch, ours, _torch_copy(torch, ours, theirs), X)
    assert len(ours.parameters()) == 8 * 4 * 4


@pytest.mark.parametrize("make", [
    lambda: LayerNorm(4), lambda: RMSNorm(4), lambda: LayerNorm(4, elementwise_affine=False),
    lambda: RMSNorm(4, elementwise_affine=False)],
    ids=["layernorm", "rmsnorm", "layernorm-no-affine", "rmsnorm-no-affine"])
def test_norms_pass_gradcheck(make):
    norm = randomize(make(), seed=5)
    weights = [0.3, -0.7, 1.1, 0.2]
    result = gradcheck(lambda *xs: sum(o * w for o, w in zip(norm(list(xs)), weights)), X)
    assert result.passed, str(result)


def test_embedding_returns_the_row_and_checks_the_index():
    emb = Embedding(5, 3, rng=random.Random(0))
    assert emb(2) is emb.weight[2]
    with pytest.raises(ValueError, match=r"index: must be an integer in \[0, 4\]"):
        emb(5)


# ---- names, reprs, walking the tree --------------------------------------------------------

def test_names_follow_assignment_order_and_parameters_match():
    model = TwoLayers()
    assert [name for name, _ in model.named_tensors()] == [
        "first.weight", "first.bias", "norm.weight", "norm.bias", "layers.0.weight",
        "layers.1.weight", "layers.1.bias", "scale"]
    assert [p for _, p in model.named_parameters()] == model.parameters()
    assert len(model.parameters()) == 12 + 4 + 8 + 16 + 10 + 1


def test_named_parameters_have_unique_indexed_names():
    model = TwoLayers()
    named = model.named_parameters()
    assert len(dict(named)) == len(named) == len(model.parameters())
    assert named[0][0] == "first.weight[0][0]"
    assert named[1][0] == "first.weight[0][1]"
    assert "norm.bias[3]" in dict(named)
    assert named[-1][0] == "scale"
    assert [name for name, _ in model.named_modules()] == [
        "", "first", "norm", "layers", "layers.0", "layers.1"]
    assert model.modules()[0] is model and model.children()[0] is model.first


def test_reprs_are_short():
    assert repr(Linear(16, 64)) == "Linear(16 -> 64)"
    assert repr(Linear(16, 64, bias=False)) == "Linear(16 -> 64, no bias)"
    assert repr(LayerNorm(8)) == "LayerNorm(8)"
    assert repr(Embedding(10, 4)) == "Embedding(10 x 4)"
    assert "(layers): ModuleList(" in repr(TwoLayers())


def test_nodes_are_tagged_with_the_module_that_made_them():
    model = TwoLayers()
    with record_scopes():
        out = model(values([1.0, 2.0, -1.0]))
    scopes = {scope_of(node) for node in topological_order(out[0])}
    assert {"first", "norm", "layers.0", "layers.1"} <= scopes
    # a module registered under a parent after it was built gets its full name too
    outer = Module()
    outer.inner = model
    with record_scopes():
        out = model(values([1.0, 2.0, -1.0]))
    assert "inner.layers.1" in {scope_of(node) for node in topological_order(out[0])}
    # and outside record_scopes() nothing is tagged
    out = model(values([1.0, 2.0, -1.0]))
    assert {scope_of(node) for node in topological_order(out[0])} == {""}


def test_zero_grad_and_train_eval():
    model = TwoLayers()
    sum(model(values([1.0, 2.0, -1.0]))).backward()
    assert any(p.grad for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


# ---- state_dict -----------------------------------------------------------------------------

def test_state_dict_round_trips_through_json():
    a, b = randomize(TwoLayers(), seed=1), randomize(TwoLayers(), seed=2)
    state = json.loads(json.dumps(a.state_dict()))
    assert isinstance(state["first.weight"][0][0], float) and isinstance(state["scale"], float)
    assert len(state["first.weight"]) == 4 and len(state["first.weight"][0]) == 3
    held = b.parameters()
    b.load_state_dict(state)
    assert b.parameters() == held  # the same Value objects, new numbers
    assert b.state_dict() == a.state_dict()
    x = [0.5, -0.5, 1.5]
    assert [v.data for v in a(values(x))] == [v.data for v in b(values(x))]


@pytest.mark.parametrize("change, message", [
    (lambda s: s.pop("norm.bias"), "missing: norm.bias"),
    (lambda s: s.update({"norm.gain": [1.0] * 4}), "unexpected: norm.gain"),
    (lambda s: s.update({"first.weight": [[0.0] * 3] * 3}), r"'first.weight'.*\[4\]\[3\]"),
    (lambda s: s.update({"first.weight": [[0.0] * 4] * 4}), r"\[4\]\[3\]"),
    (lambda s: s.update({"norm.bias": [[0.0] * 4]}), r"'norm.bias'.*\[4\]"),
    (lambda s: s.update({"scale": [2.0]}), r"'scale'.*scalar"),
    (lambda s: s.update({"norm.bias": [0.0, 0.0, "x", 0.0]}), "norm.bias"),
    (lambda s: s.update({"norm.bias": [0.0, 0.0, float("nan"), 0.0]}), "finite"),
    (lambda s: s.update({"norm.bias": [0.0, 10**400, 0.0, 0.0]}), "finite"),  # no float holds it
    (lambda s: s.update({"scale": True}), "finite"),
])
def test_load_state_dict_errors_change_nothing(change, message):
    model = randomize(TwoLayers())
    before = model.state_dict()
    state = randomize(TwoLayers(), seed=9).state_dict()
    change(state)
    with pytest.raises(ValueError, match=message):
        model.load_state_dict(state)
    assert model.state_dict() == before


@pytest.mark.parametrize("make, name", [
    (lambda: Linear(0, 3), "in_features"), (lambda: Linear(3, -1), "out_features"),
    (lambda: Embedding(0, 3), "num_embeddings"), (lambda: LayerNorm(0), "dim"),
    (lambda: RMSNorm(2.0), "dim"), (lambda: MLP(4, "tanh"), "activation"),
    (lambda: RMSNorm(4, elementwise_affine=1), "elementwise_affine"),
    (lambda: LayerNorm(4, elementwise_affine="no"), "elementwise_affine"),
    (lambda: ModuleList([Linear(2, 2), 3]), "ModuleList"),
])
def test_bad_sizes_are_refused(make, name):
    with pytest.raises(ValueError, match=name):
        make()
