"""Neural-network modules built from Values: Module, Linear, Embedding, LayerNorm, RMSNorm, MLP.

A `Module` is a box of parameters (Values that training changes) plus a `forward` that
computes with them. It works like PyTorch's `nn.Module`, on plain Python lists:

* a vector is a list of Values, `[d]`;
* a matrix (a weight) is a list of rows, `[rows][cols]`, like torch's `[out, in]`.

Assigning a Module to an attribute of another Module registers it (as in PyTorch), so a
model can list every parameter with its dotted name (`blocks.0.attn.wq.weight`) and save
or load them. Inside `modes.record_scopes()`, every Value a module's `forward` creates
carries the module's dotted name (`modes.scope_of(value)`), so graph drawings can group
nodes by module.
"""
from __future__ import annotations

import copy
from itertools import chain

from ..autograd import modes
from ..autograd import functional as F
from ..common.checks import check_bool, check_choice, check_int, check_number, check_rng, finite_float
from ..autograd.value import Value

__all__ = ["Module", "ModuleList", "Linear", "Embedding", "LayerNorm", "RMSNorm", "MLP",
           "ACTIVATIONS"]

ACTIVATIONS = ("gelu", "relu")  # the MLP's nonlinearity choices


class Module:
    """Base class of every model part: parameters, sub-modules, and `forward`.

    Parameters are found automatically: any public attribute that is a Value, a list of
    Values (a vector) or a list of lists of Values (a matrix). Sub-modules are attributes
    that are Modules (use `ModuleList` for a numbered list of them). The order in which
    attributes are assigned in `__init__` is the order of `parameters()`.

    Call a module (`layer(x)`), not its `forward`: inside `modes.record_scopes()`,
    `__call__` runs `forward` in the module's scope, which tags the new Values with the
    module's name (for pictures drawn one box per module).
    """

    # dotted name from the top-level module, set when this module is attached to a parent;
    # None for a module that belongs to nobody (then it keeps the caller's scope)
    _scope_name = None
    training = True
    # functions called with (module, args, output) after every forward (see
    # `register_forward_hook`); empty for every module until someone asks, so a call
    # pays one check
    _forward_hooks = ()

    def __setattr__(self, name, value):
        if isinstance(value, Module) and not name.startswith("_"):
            # PyTorch-style registration: the child (and everything below it) learns its
            # full dotted name, used as the scope of the Values it creates
            value._rename(_join(self._scope_name, name))
        object.__setattr__(self, name, value)

    def _rename(self, scope_name):
        object.__setattr__(self, "_scope_name", scope_name)
        for child_name, child in self.named_children():
            child._rename(_join(scope_name, child_name))

    def __call__(self, *args, **kwargs):
        if self._scope_name is None or not modes.is_recording_scopes():
            output = self.forward(*args, **kwargs)
        else:  # tag the nodes made inside with this module's name (for pictures)
            output = modes.call_in_scope(self._scope_name, self.forward, *args, **kwargs)
        if self._forward_hooks:  # someone is looking (health statistics, inspection)
            for hook in self._forward_hooks:
                hook(self, args, output)
        return output

    def register_forward_hook(self, hook):
        """Call `hook(module, args, output)` after every forward of this module, as in
        PyTorch; returns a handle whose `remove()` takes the hook away again.

        A hook looks, it does not change: it sees the output the forward returned. This is
        how the training-health statistics read every module's activations (health.py).

        >>> seen = []
        >>> layer = Linear(2, 1)
        >>> handle = layer.register_forward_hook(lambda m, args, out: seen.append(out))
        >>> y = layer([1.0, 2.0]); handle.remove(); z = layer([3.0, 4.0])
        >>> len(seen)
        1
        """
        if not callable(hook):
            raise ValueError(f"hook: must be callable as hook(module, args, output), "
                             f"got {type(hook).__name__}")
        object.__setattr__(self, "_forward_hooks", (*self._forward_hooks, hook))
        return _HookHandle(self, hook)

    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    # ---- walking the tree -----------------------------------------------------------------

    def named_children(self):
        """(attribute name, Module) for the direct sub-modules, in assignment order."""
        return [(name, value) for name, value in vars(self).items()
                if isinstance(value, Module) and not name.startswith("_")]

    def children(self):
        """The direct sub-modules."""
        return [module for _, module in self.named_children()]

    def named_modules(self, prefix=""):
        """(dotted name, Module) for this module ("" at the top) and all below it, depth first."""
        found = [(prefix, self)]
        for name, child in self.named_children():
            found += child.named_modules(_join(prefix, name))
        return found

    def modules(self):
        """This module and all modules below it."""
        return [module for _, module in self.named_modules()]

    def named_tensors(self, prefix=""):
        """(dotted name, tensor) for every parameter tensor, where a tensor is a Value, a list
        of Values `[n]` or a list of rows `[rows][cols]`. Example: ("blocks.0.attn.wq.weight",
        the d rows of d Values)."""
        if getattr(self, "_holds_floats", False):
            raise ValueError("this is a float_copy(): its parameters are plain numbers, "
                             "not Values; use the model it was copied from")
        found = []
        for name, value in vars(self).items():
            if name.startswith("_"):
                continue
            full_name = _join(prefix, name)
            if isinstance(value, Module):
                found += value.named_tensors(full_name)
            elif _shape_of(value) is not None:
                found.append((full_name, value))
        return found

    # ---- parameters -----------------------------------------------------------------------

    def named_parameters(self):
        """(name, Value) for every parameter scalar, in the order of `parameters()`.

        Each name is unique: the weight's dotted name and the element's index, e.g.
        `blocks.0.attn.wq.weight[2][5]` (row 2, column 5) or `ln_f.bias[3]`, so
        `dict(model.named_parameters())` keeps every entry and
        `[p for _, p in model.named_parameters()] == model.parameters()`.
        For one entry per weight matrix (nested lists of Values), use `named_tensors()`.
        """
        return [(name + index, p) for name, tensor in self.named_tensors()
                for index, p in _indexed(tensor)]

    def parameters(self):
        """Every parameter Value (the leaves that training updates), in a fixed order."""
        return [p for _, tensor in self.named_tensors() for p in _flatten(tensor)]

    def zero_grad(self):
        """Set every parameter's gradient to 0 (leaves accumulate across `backward()` calls)."""
        for p in self.parameters():
            p.grad = 0.0

    def float_copy(self):
        """A copy of this module whose parameters are plain floats instead of Values.

        The copy runs this module's own forward code, unchanged: the layers and the
        functions of `functional` accept plain floats and then compute the very same
        numbers (same operations, same order: equal bit for bit) without making a single
        node. That is the fast path for generation and evaluation, and since it *is* the
        model's code, it cannot drift from it. Later training of this module does not
        change the copy. A forward that makes a Value of its own (a constant written as
        `Value(2.0)`) would leak Values into the copy's results; `check_plain` catches it.
        """
        if getattr(self, "_holds_floats", False):
            return self
        # deepcopy copies everything, except what its memo already maps: there, each
        # parameter tensor (by id) to its numbers, so a tensor shared by two modules (tied
        # weights) stays shared in the copy
        memo = {id(tensor): _to_floats(tensor) for _, tensor in self.named_tensors()}
        twin = copy.deepcopy(self, memo=memo)
        for module in twin.modules():
            object.__setattr__(module, "_holds_floats", True)
            object.__setattr__(module, "_scope_name", None)  # no nodes, so nothing to tag
        return twin

    def train(self, mode=True):
        """Set training mode on this module and all below it; returns self. (No layer here
        behaves differently in training, as there is no dropout: the flag is for users.)"""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self):
        """Same as `train(False)`."""
        return self.train(False)

    # ---- saving and loading ---------------------------------------------------------------

    def state_dict(self):
        """{dotted name: plain floats}: a float, a list of floats, or a list of rows.

        Plain Python numbers only, so it can go straight into JSON.
        """
        return {name: _to_floats(tensor) for name, tensor in self.named_tensors()}

    def load_state_dict(self, state_dict):
        """Copy the numbers of `state_dict` into the parameters (the Values stay the same
        objects, so an optimizer holding them keeps working).

        Every entry is checked before anything changes: a missing, extra or mis-shaped entry,
        or a non-number, raises a ValueError and leaves the module as it was.
        """
        if not isinstance(state_dict, dict):
            raise ValueError(f"state_dict: must be a dict of name -> numbers (what "
                             f"state_dict() returns), got {type(state_dict).__name__}")
        tensors = dict(self.named_tensors())
        missing = [name for name in tensors if name not in state_dict]
        extra = [name for name in state_dict if name not in tensors]
        if missing or extra:
            raise ValueError(
                "state_dict: the names do not match the module's parameters"
                + (f"; missing: {', '.join(missing)}" if missing else "")
                + (f"; unexpected: {', '.join(map(str, extra))}" if extra else ""))
        for name, tensor in tensors.items():
            expected = _shape_of(tensor)
            got = _shape_of_numbers(state_dict[name])
            if got != expected:
                raise ValueError(
                    f"state_dict[{name!r}]: expected shape {_shape_text(expected)} of finite "
                    f"numbers, got {_shape_text(got) if got is not None else 'something else'}")
        for name, tensor in tensors.items():
            for p, x in zip(_flatten(tensor), _flatten(state_dict[name])):
                p.data = float(x)

    def extra_repr(self):
        """The text inside the parentheses of this module's repr."""
        return ""

    def __repr__(self):
        children = self.named_children()
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        # as PyTorch prints it: the module's own settings, then one line per child
        lines = [f"{type(self).__name__}("]
        if self.extra_repr():
            lines.append(f"  {self.extra_repr()}")
        for name, child in children:
            child_text = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child_text}")
        return "\n".join(lines) + "\n)"


class ModuleList(Module):
    """A numbered list of modules; child i is named "i" (so `blocks.0`, `blocks.1`, ...)."""

    def __init__(self, modules=()):
        object.__setattr__(self, "_items", [])
        for i, module in enumerate(modules):
            if not isinstance(module, Module):
                raise ValueError(f"ModuleList: item {i} is a {type(module).__name__}, not a Module")
            self._items.append(module)
            module._rename(_join(self._scope_name, str(i)))

    def named_children(self):
        return [(str(i), module) for i, module in enumerate(self._items)]

    def named_tensors(self, prefix=""):
        found = []
        for i, module in enumerate(self._items):
            found += module.named_tensors(_join(prefix, str(i)))
        return found

    def __getitem__(self, i):
        return self._items[i]

    def __len__(self):
        return len(self._items)

    def __iter__(self):
        return iter(self._items)

    def __repr__(self):
        if not self._items:
            return "ModuleList()"
        # the blocks of a GPT are alike: show the first one and say how many there are
        first = repr(self._items[0]).replace("\n", "\n  ")
        rest = len(self._items) - 1
        more = f"\n  ... and {rest} more like (0)" if rest else ""
        return f"ModuleList(\n  (0): {first}{more}\n)"


class Linear(Module):
    """y = W·x + b, with W of shape [out_features][in_features] (torch's layout).

    x: [in_features] Values -> y: [out_features] Values. Each output is one fused `dot`
    node (see `functional.linear`). Weights start as N(0, std²), the bias at 0.
    """

    def __init__(self, in_features, out_features, bias=True, rng=None, std=0.02):
        self.in_features = check_int("in_features", in_features, 1)
        self.out_features = check_int("out_features", out_features, 1)
        self.weight = _gaussian_matrix(out_features, in_features, std, rng)
        self.bias = ([Value(0.0) for _ in range(out_features)]
                     if check_choice("bias", bias, (True, False)) else None)

    def forward(self, x):
        # x: [in] -> [out]
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return f"{self.in_features} -> {self.out_features}" + ("" if self.bias else ", no bias")


class Embedding(Module):
    """A lookup table: row `index` of a [num_embeddings][dim] weight matrix.

    forward(index) returns that row itself (the parameter Values, no new nodes), so the
    gradient of a row is the sum of the gradients of every position that used it.
    """

    def __init__(self, num_embeddings, dim, rng=None, std=0.02):
        self.num_embeddings = check_int("num_embeddings", num_embeddings, 1)
        self.dim = check_int("dim", dim, 1)
        self.weight = _gaussian_matrix(num_embeddings, dim, std, rng)

    def forward(self, index):
        # index: int -> [dim]
        check_int("index", index, 0, self.num_embeddings - 1)
        return self.weight[index]

    def extra_repr(self):
        return f"{self.num_embeddings} x {self.dim}"


class LayerNorm(Module):
    """Layer normalization: y_i = (x_i - μ) / sqrt(σ² + eps) · g_i + b_i.

    μ = mean(x), σ² = mean((x - μ)²) (the biased variance, as torch.nn.LayerNorm), with a
    gain g (starts at 1) and a bias b (starts at 0). x: [dim] -> [dim].
    With `elementwise_affine=False` (PyTorch's name) there is no g and no b, so no
    parameters at all: y_i = (x_i - μ) / sqrt(σ² + eps).
    """

    def __init__(self, dim, eps=1e-5, elementwise_affine=True):
        self.dim = check_int("dim", dim, 1)
        self.eps = check_number("eps", eps, 0, low_open=True)
        self.elementwise_affine = check_bool("elementwise_affine", elementwise_affine)
        if elementwise_affine:
            self.weight = [Value(1.0) for _ in range(dim)]
            self.bias = [Value(0.0) for _ in range(dim)]

    def forward(self, x):
        _check_width(self, x)
        mu = F.mean(x)
        centered = [xi - mu for xi in x]
        # 1/sqrt(σ² + eps) with σ² = mean(c²): one fused node (see F.inverse_rms)
        inv_std = F.inverse_rms(centered, self.eps)
        if not self.elementwise_affine:
            return [c * inv_std for c in centered]
        return [c * inv_std * g + b for c, g, b in zip(centered, self.weight, self.bias)]

    def extra_repr(self):
        return f"{self.dim}" + ("" if self.elementwise_affine else ", elementwise_affine=False")


class RMSNorm(Module):
    """Root-mean-square normalization: y_i = x_i / sqrt(mean(x²) + eps) · g_i.

    Like LayerNorm without subtracting the mean and without a bias (torch.nn.RMSNorm with
    eps=1e-5). The gain g starts at 1. x: [dim] -> [dim]. With `elementwise_affine=False`
    there is no gain (and no parameters): y_i = x_i / sqrt(mean(x²) + eps), which is
    microgpt.py's rmsnorm.
    """

    def __init__(self, dim, eps=1e-5, elementwise_affine=True):
        self.dim = check_int("dim", dim, 1)
        self.eps = check_number("eps", eps, 0, low_open=True)
        self.elementwise_affine = check_bool("elementwise_affine", elementwise_affine)
        if elementwise_affine:
            self.weight = [Value(1.0) for _ in range(dim)]

    def forward(self, x):
        _check_width(self, x)
        inv_rms = F.inverse_rms(x, self.eps)  # 1/sqrt(mean(x²) + eps): one fused node
        if not self.elementwise_affine:
            return [xi * inv_rms for xi in x]
        return [xi * inv_rms * g for xi, g in zip(x, self.weight)]

    def extra_repr(self):
        return f"{self.dim}" + ("" if self.elementwise_affine else ", elementwise_affine=False")


class MLP(Module):
    """The transformer's feed-forward network: d -> 4d -> activation -> d, no biases.

    x: [d] -> fc -> [4d] -> gelu (or relu) -> proj -> [d]. Parameters: 8d².
    """

    def __init__(self, dim, activation="gelu", rng=None, std=0.02):
        self.activation = check_choice("activation", activation, ACTIVATIONS)
        self.fc = Linear(dim, 4 * dim, bias=False, rng=rng, std=std)
        self.proj = Linear(4 * dim, dim, bias=False, rng=rng, std=std)

    def forward(self, x):
        hidden = self.fc(x)  # [d] -> [4d]
        nonlinearity = F.gelu if self.activation == "gelu" else F.relu
        hidden = [nonlinearity(h) for h in hidden]
        return self.proj(hidden)  # [4d] -> [d]

    def extra_repr(self):
        return self.activation


class _HookHandle:
    """What `register_forward_hook` returns: `remove()` unregisters the hook."""

    def __init__(self, module, hook):
        self.module, self.hook = module, hook

    def remove(self):
        hooks = self.module._forward_hooks
        kept = tuple(h for h in hooks if h is not self.hook)
        object.__setattr__(self.module, "_forward_hooks", kept)


# ---------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------
def _join(prefix, name):
    return f"{prefix}.{name}" if prefix else name


def _check_width(norm, x):
    if len(x) != norm.dim:
        raise ValueError(f"{type(norm).__name__}({norm.dim}): x has {len(x)} entries, "
                         f"expected {norm.dim}")


def _gaussian_matrix(rows, cols, std, rng):
    """[rows][cols] Values drawn from N(0, std²) with `rng` (a random.Random)."""
    check_number("std", std, 0)
    rng = check_rng("rng", rng)
    return [[Value(rng.gauss(0.0, std)) for _ in range(cols)] for _ in range(rows)]


def _shape_of(value):
    """() for a Value, (n,) for a list of Values, (rows, cols) for a matrix; else None."""
    if isinstance(value, Value):
        return ()
    if isinstance(value, list) and value:
        # map() over the C-level isinstance test: this runs over every parameter each time
        # parameters() or named_tensors() is called, so it is kept cheap
        if all(map(_is_value, value)):
            return (len(value),)
        if (all(isinstance(row, list) and row for row in value)
                and len(set(map(len, value))) == 1
                and all(map(_is_value, chain.from_iterable(value)))):
            return (len(value), len(value[0]))
    return None


_is_value = Value.__instancecheck__  # isinstance(x, Value), callable by map() in C


def _is_number(x):
    return finite_float(x) is not None


def _shape_of_numbers(value):
    """The same shapes as `_shape_of`, for plain finite numbers; None if it is not one."""
    if _is_number(value):
        return ()
    if isinstance(value, (list, tuple)) and value:
        if all(_is_number(x) for x in value):
            return (len(value),)
        if all(isinstance(row, (list, tuple)) and row and all(_is_number(x) for x in row)
               for row in value) and len({len(row) for row in value}) == 1:
            return (len(value), len(value[0]))
    return None


def _shape_text(shape):
    return "scalar" if shape == () else "[" + "][".join(map(str, shape)) + "]"


def _flatten(tensor):
    if isinstance(tensor, (list, tuple)):
        if tensor and isinstance(tensor[0], (list, tuple)):
            return [x for row in tensor for x in row]
        return list(tensor)
    return [tensor]


def _indexed(tensor):
    """("[i][j]", Value) for each element of a matrix, ("[i]", Value) of a vector, ("", v)."""
    if isinstance(tensor, (list, tuple)):
        if tensor and isinstance(tensor[0], (list, tuple)):
            return [(f"[{i}][{j}]", x) for i, row in enumerate(tensor) for j, x in enumerate(row)]
        return [(f"[{i}]", x) for i, x in enumerate(tensor)]
    return [("", tensor)]


def _to_floats(tensor):
    if isinstance(tensor, Value):
        return tensor.data
    if isinstance(tensor[0], list):
        return [[v.data for v in row] for row in tensor]
    return [v.data for v in tensor]

