"""BatchedOptimizer against torch.optim.Adam / AdamW / SGD(momentum=0.9), run by run."""
from __future__ import annotations

import pytest
import torch

from li2core.optim import OPTIMIZERS, BatchedOptimizer

LRS = [1e-2, 5e-2, 0.3]
WDS = [0.0, 1e-2, 0.5]
SHAPES = [(4, 5), (3,), (2, 3, 2)]


def _torch_opt(name: str, params: list[torch.Tensor], lr: float, wd: float) -> torch.optim.Optimizer:
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=wd, betas=(0.9, 0.999), eps=1e-8)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=wd, betas=(0.9, 0.999), eps=1e-8)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=wd, momentum=0.9, dampening=0.0)
    raise AssertionError(name)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_matches_torch_optimizer_per_run(name):
    R = len(LRS)
    g = torch.Generator().manual_seed(0)
    init = [torch.randn(R, *s, generator=g, dtype=torch.float64) for s in SHAPES]
    batched = [p.clone() for p in init]
    opt = BatchedOptimizer(name, batched, torch.tensor(LRS, dtype=torch.float64), torch.tensor(WDS, dtype=torch.float64))
    runs = []
    for r in range(R):
        ps = [p[r].clone().requires_grad_(True) for p in init]
        runs.append((ps, _torch_opt(name, ps, LRS[r], WDS[r])))
    for step in range(20):
        # gradients of varying scale, so Adam's second moment matters
        grads = [torch.randn(R, *s, generator=g, dtype=torch.float64) * (1 + step % 4) for s in SHAPES]
        opt.step([gr.clone() for gr in grads])
        for r, (ps, topt) in enumerate(runs):
            for p, gr in zip(ps, grads):
                p.grad = gr[r].clone()
            topt.step()
            for i, p in enumerate(ps):
                torch.testing.assert_close(batched[i][r], p.detach(), rtol=1e-12, atol=1e-14,
                                           msg=f"{name}: run {r}, param {i}, step {step + 1}")
    assert opt.step_count == 20
    # the parameters really moved (the comparison is not vacuous)
    for i in range(len(SHAPES)):
        assert (batched[i] - init[i]).abs().max().item() > 1e-2


def test_float32_params_match_torch_closely():
    g = torch.Generator().manual_seed(1)
    p0 = torch.randn(2, 6, generator=g)
    batched = [p0.clone()]
    opt = BatchedOptimizer("adam", batched, torch.tensor([1e-3, 1e-2]), torch.tensor([2e-4, 0.0]))
    refs = [(p0[r].clone().requires_grad_(True)) for r in range(2)]
    topts = [torch.optim.Adam([refs[r]], lr=lr, weight_decay=wd) for r, (lr, wd) in enumerate([(1e-3, 2e-4), (1e-2, 0.0)])]
    for _ in range(10):
        gr = torch.randn(2, 6, generator=g)
        opt.step([gr.clone()])
        for r in range(2):
            refs[r].grad = gr[r].clone()
            topts[r].step()
    for r in range(2):
        torch.testing.assert_close(batched[0][r], refs[r].detach(), rtol=1e-5, atol=1e-6)


def test_sgd_first_step_closed_form():
    # step 1 of SGD with momentum: buffer = g + wd p, p <- p - lr (g + wd p)
    p = torch.tensor([[1.0, -2.0], [0.5, 4.0]], dtype=torch.float64)
    grad = torch.tensor([[0.1, 0.2], [-0.3, 0.0]], dtype=torch.float64)
    lr, wd = torch.tensor([0.1, 0.01], dtype=torch.float64), torch.tensor([0.5, 0.0], dtype=torch.float64)
    params = [p.clone()]
    BatchedOptimizer("sgd", params, lr, wd).step([grad.clone()])
    expected = torch.stack([p[r] - lr[r].item() * (grad[r] + wd[r].item() * p[r]) for r in range(2)])
    torch.testing.assert_close(params[0], expected, rtol=1e-15, atol=0)


def test_adam_first_step_is_sign_step():
    # with bias correction, Adam's first step is lr * g / (|g| + eps') ~ lr * sign(g)
    p = torch.zeros(1, 4, dtype=torch.float64)
    grad = torch.tensor([[3.0, -0.5, 2e-3, -7.0]], dtype=torch.float64)
    params = [p.clone()]
    BatchedOptimizer("adam", params, torch.tensor([0.1], dtype=torch.float64), torch.tensor([0.0], dtype=torch.float64)).step([grad.clone()])
    expected = -0.1 * grad / (grad.abs() + 1e-8)
    torch.testing.assert_close(params[0], expected, rtol=1e-12, atol=0)


def test_unknown_optimizer_raises():
    with pytest.raises(ValueError) as ei:
        BatchedOptimizer("muon", [torch.zeros(1, 2)], torch.tensor([1e-3]), torch.tensor([0.0]))
    msg = str(ei.value)
    assert msg.startswith("optimizer")
    for o in OPTIMIZERS:
        assert o in msg
