"""Optimizers, schedules and gradient clipping, checked against torch.optim in float64."""
import math
import random

import pytest

from micrograd_gpt.autograd.value import Value
from micrograd_gpt.training.clip_grad import clip_grad_norm
from micrograd_gpt.training.lr_schedules import (constant_lr, cosine_lr, linear_decay_lr,
                                                 make_schedule)
from micrograd_gpt.training.optim import SGD, Adam, AdamW


def _quadratic_loss(params, targets):
    """A loss with a different gradient for every parameter: sum_i c_i (p_i - t_i)^2 + p_0 p_1."""
    loss = params[0] * params[1]
    for i, (p, t) in enumerate(zip(params, targets)):
        loss = loss + (i + 1) * 0.3 * (p - t) ** 2
    return loss


def _run_ours(make_opt, start, targets, steps):
    params = [Value(x) for x in start]
    opt = make_opt(params)
    for _ in range(steps):
        opt.zero_grad()
        _quadratic_loss(params, targets).backward()
        opt.step()
    return [p.data for p in params], opt


def _run_torch(torch, make_opt, start, targets, steps):
    params = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in start]
    opt = make_opt(params)
    for _ in range(steps):
        opt.zero_grad()
        loss = params[0] * params[1]
        for i, (p, t) in enumerate(zip(params, targets)):
            loss = loss + (i + 1) * 0.3 * (p - t) ** 2
        loss.backward()
        opt.step()
    return [p.item() for p in params]


START = [0.5, -1.2, 2.0, 0.01, -0.3]
TARGETS = [1.0, 0.5, -1.0, 0.2, 0.0]

CASES = {
    "sgd": (lambda ps: SGD(ps, lr=0.05), "SGD", dict(lr=0.05)),
    "sgd-momentum-wd": (lambda ps: SGD(ps, lr=0.05, momentum=0.9, weight_decay=0.1),
                        "SGD", dict(lr=0.05, momentum=0.9, weight_decay=0.1)),
    "sgd-nesterov": (lambda ps: SGD(ps, lr=0.03, momentum=0.8, nesterov=True, weight_decay=0.01),
                     "SGD", dict(lr=0.03, momentum=0.8, nesterov=True, weight_decay=0.01)),
    "adam": (lambda ps: Adam(ps, lr=0.1), "Adam", dict(lr=0.1)),
    "adam-microgpt": (lambda ps: Adam(ps, lr=0.01, betas=(0.85, 0.99), eps=1e-8),
                      "Adam", dict(lr=0.01, betas=(0.85, 0.99), eps=1e-8)),
    "adam-l2": (lambda ps: Adam(ps, lr=0.05, weight_decay=0.2), "Adam",
                dict(lr=0.05, weight_decay=0.2)),
    "adamw": (lambda ps: AdamW(ps, lr=0.05, betas=(0.8, 0.95), weight_decay=0.3), "AdamW",
              dict(lr=0.05, betas=(0.8, 0.95), weight_decay=0.3)),
}


@pytest.mark.parametrize("case", list(CASES))
def test_matches_torch_optim(torch, case):
    ours_factory, torch_name, kwargs = CASES[case]
    steps = 12
    ours, _ = _run_ours(ours_factory, START, TARGETS, steps)
    torch_factory = lambda ps: getattr(torch.optim, torch_name)(ps, foreach=False, **kwargs)
    theirs = _run_torch(torch, torch_factory, START, TARGETS, steps)
    assert ours != START
    for a, b in zip(ours, theirs):
        assert math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-14), (case, ours, theirs)


def test_adam_first_step_is_lr_times_sign():
    # after bias correction the first Adam step is lr * g / (|g| + eps): about lr * sign(g)
    # (eps must be > 0; one this small vanishes next to |g|)
    p = Value(1.0)
    opt = Adam([p], lr=0.1, eps=1e-300)
    p.grad = -3.7
    opt.step()
    assert p.data == pytest.approx(1.1, abs=1e-15)
    assert opt.m == [pytest.approx(-0.37)] and opt.steps == 1


def test_state_dict_round_trip_continues_exactly():
    full, _ = _run_ours(lambda ps: AdamW(ps, lr=0.05, weight_decay=0.1), START, TARGETS, 8)
    half, opt = _run_ours(lambda ps: AdamW(ps, lr=0.05, weight_decay=0.1), START, TARGETS, 4)
    params = [Value(x) for x in half]
    resumed = AdamW(params, lr=0.05, weight_decay=0.1)
    resumed.load_state_dict(opt.state_dict())
    for _ in range(4):
        resumed.zero_grad()
        _quadratic_loss(params, TARGETS).backward()
        resumed.step()
    assert [p.data for p in params] == full   # bit for bit


def test_state_dict_mismatch_errors():
    ps = [Value(1.0), Value(2.0)]
    with pytest.raises(ValueError, match="not Adam"):
        Adam(ps).load_state_dict(SGD(ps).state_dict())
    with pytest.raises(ValueError, match="one per parameter"):
        Adam(ps[:1]).load_state_dict(Adam(ps).state_dict())


def test_bad_hyperparameters():
    ps = [Value(1.0)]
    for make, match in [(lambda: SGD(ps, lr=-1), "lr"), (lambda: SGD(ps, momentum=1.0), "momentum"),
                        (lambda: SGD(ps, nesterov=True), "nesterov"),
                        (lambda: Adam(ps, betas=(0.9,)), "betas"),
                        (lambda: Adam(ps, betas=(0.9, 1.0)), r"betas\[1\]"),
                        (lambda: Adam([]), "empty")]:
        with pytest.raises(ValueError, match=match):
            make()


def test_zero_grad():
    ps = [Value(1.0), Value(2.0)]
    (ps[0] * ps[1]).backward()
    SGD(ps).zero_grad()
    assert [p.grad for p in ps] == [0.0, 0.0]


# ---- clipping -----------------------------------------------------------------------------
def test_clip_grad_norm_matches_torch(torch):
    rng = random.Random(0)
    grads = [rng.uniform(-2, 2) for _ in range(7)]
    for max_norm in (0.5, 100.0):
        ours = [Value(0.0) for _ in grads]
        for p, g in zip(ours, grads):
            p.grad = g
        theirs = [torch.zeros((), dtype=torch.float64, requires_grad=True) for _ in grads]
        for p, g in zip(theirs, grads):
            p.grad = torch.tensor(g, dtype=torch.float64)
        total = clip_grad_norm(ours, max_norm)
        total_t = torch.nn.utils.clip_grad_norm_(theirs, max_norm)
        assert total == pytest.approx(total_t.item(), rel=1e-14)
        for a, b in zip(ours, theirs):
            assert a.grad == pytest.approx(b.grad.item(), rel=1e-14)
        if max_norm < total:
            assert math.sqrt(sum(p.grad ** 2 for p in ours)) == pytest.approx(max_norm, rel=1e-5)


# ---- schedules ----------------------------------------------------------------------------
def _torch_lrs(torch, make_scheduler, lr, steps):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    sched = make_scheduler(opt)
    lrs = []
    for _ in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return lrs


def test_linear_decay_matches_torch_linear_lr(torch):
    steps, lr = 20, 0.01
    theirs = _torch_lrs(torch, lambda o: torch.optim.lr_scheduler.LinearLR(
        o, start_factor=1.0, end_factor=0.0, total_iters=steps), lr, steps)
    ours = [linear_decay_lr(lr, steps)(t) for t in range(steps)]
    assert ours == pytest.approx(theirs, rel=1e-12)
    assert ours[0] == lr and ours[-1] == pytest.approx(lr / steps)   # microgpt's schedule


def test_cosine_matches_torch_cosine_annealing(torch):
    steps, lr = 25, 0.3
    theirs = _torch_lrs(torch, lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(
        o, T_max=steps, eta_min=0.01), lr, steps)
    ours = [cosine_lr(lr, steps, min_lr=0.01)(t) for t in range(steps)]
    assert ours == pytest.approx(theirs, rel=1e-10)


def test_warmup_rises_then_decays():
    for schedule in (cosine_lr(1.0, 100, warmup_steps=10), linear_decay_lr(1.0, 100, 10)):
        lrs = [schedule(t) for t in range(100)]
        assert lrs[0] == pytest.approx(0.1) and lrs[9] == lrs[10] == 1.0
        assert all(a < b for a, b in zip(lrs[:10], lrs[1:10]))
        assert all(a > b for a, b in zip(lrs[10:], lrs[11:]))
    assert constant_lr(0.5)(123) == 0.5
    assert make_schedule("linear", 1.0, 10)(5) == 0.5
    with pytest.raises(ValueError, match="warmup_steps"):
        cosine_lr(1.0, 10, warmup_steps=10)
    with pytest.raises(ValueError, match="lr_schedule"):
        make_schedule("step", 1.0, 10)
