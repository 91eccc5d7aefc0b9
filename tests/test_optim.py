"""BatchedOptimizer against torch.optim.Adam / AdamW / SGD(momentum=0.9), run by run; Muon against a literal
single-run port of the author's optimizer (tests/oracles_muon.py), step for step."""
from __future__ import annotations

import pytest
import torch

from li2core.optim import NS_COEFFS, OPTIMIZERS, BatchedOptimizer, newton_schulz5
from oracles_muon import script_muon, zeropower_ns5

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


@pytest.mark.parametrize("name", ["adam", "adamw", "sgd"])
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
        BatchedOptimizer("lion", [torch.zeros(1, 2)], torch.tensor([1e-3]), torch.tensor([0.0]))
    msg = str(ei.value)
    assert msg.startswith("optimizer")
    for o in OPTIMIZERS:
        assert o in msg


# ------------------------------------------------------------------ Muon (the author's setup, paper-li2 §4.6)
def _ns_polynomial(x: torch.Tensor) -> torch.Tensor:
    """The five Newton-Schulz steps as a map of one singular value (closed form of the iteration)."""
    for a, b, c in NS_COEFFS:
        x = a * x + b * x**3 + c * x**5
    return x


@pytest.mark.parametrize("shape", [(6, 9), (9, 6), (5, 5)])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_newton_schulz5_matches_the_port_run_by_run(shape, dtype):
    g = torch.Generator().manual_seed(3)
    G = torch.randn(4, *shape, generator=g, dtype=dtype) * torch.tensor([1e-3, 1.0, 7.0, 0.2], dtype=dtype)[:, None, None]
    X = newton_schulz5(G)
    assert X.shape == G.shape and X.dtype == dtype
    tol = dict(rtol=1e-12, atol=1e-12) if dtype == torch.float64 else dict(rtol=2e-5, atol=2e-6)
    for r in range(4):
        torch.testing.assert_close(X[r], zeropower_ns5(G[r].clone(), use_bf16=False), **tol)


def test_newton_schulz5_is_a_polynomial_of_the_singular_values():
    # NS5(G) = U phi(D / ||G||_F) V^T with phi the composed odd polynomial; independent of the matrix products
    g = torch.Generator().manual_seed(4)
    for shape in [(7, 4), (4, 7)]:
        G = torch.randn(3, *shape, generator=g, dtype=torch.float64)
        U, D, Vh = torch.linalg.svd(G, full_matrices=False)
        x = D / (G.norm(dim=(-2, -1))[:, None] + 1e-7)
        expected = U @ torch.diag_embed(_ns_polynomial(x)) @ Vh
        torch.testing.assert_close(newton_schulz5(G), expected, rtol=1e-10, atol=1e-12)
        # the singular values of the result are not 1: NS5 only approximates the polar factor U V^T
        s = torch.linalg.svdvals(newton_schulz5(G))
        assert float((s - 1).abs().max()) > 1e-3


def test_newton_schulz5_bad_input():
    with pytest.raises(ValueError, match="^G:"):
        newton_schulz5(torch.zeros(3, 4))


def _muon_vs_port(K: int, twoM: int, dtype: torch.dtype, steps: int, tol: dict) -> None:
    """Batched Muon on W (R, 2M, K) 'transposed' + Adam on V (R, K, M) against, per run, the port on the author's
    weight (K, 2M) and torch Adam on V, fed the same gradients."""
    lrs, wds = [1e-2, 5e-2, 2e-1], [0.0, 1e-2, 0.3]
    R, M = len(lrs), 3
    g = torch.Generator().manual_seed(K)
    W0 = torch.randn(R, twoM, K, generator=g, dtype=dtype)
    V0 = torch.randn(R, K, M, generator=g, dtype=dtype)
    W, V = W0.clone(), V0.clone()
    opt = BatchedOptimizer("muon", [W, V], torch.tensor(lrs, dtype=torch.float64), torch.tensor(wds, dtype=torch.float64),
                           muon_layout=("transposed", None))
    refs = []
    for r in range(R):
        Wa = W0[r].T.clone().requires_grad_(True)  # the author's nn.Linear(2M, K).weight
        Vr = V0[r].clone().requires_grad_(True)
        refs.append((Wa, Vr, script_muon(Wa, lrs[r], wds[r]), torch.optim.Adam([Vr], lr=lrs[r], weight_decay=wds[r])))
    for step in range(steps):
        gW = torch.randn(R, twoM, K, generator=g, dtype=dtype) * (1 + step % 3)
        gV = torch.randn(R, K, M, generator=g, dtype=dtype)
        opt.step([gW.clone(), gV.clone()])
        for r, (Wa, Vr, muon, adam) in enumerate(refs):
            Wa.grad, Vr.grad = gW[r].T.clone(), gV[r].clone()
            muon.step()
            adam.step()
            torch.testing.assert_close(W[r], Wa.detach().T, **tol, msg=f"W: run {r}, step {step + 1}")
            torch.testing.assert_close(V[r], Vr.detach(), **tol, msg=f"V: run {r}, step {step + 1}")
    assert float((W - W0).abs().max()) > 1e-2 and float((V - V0).abs().max()) > 1e-2


@pytest.mark.parametrize("K,twoM", [(5, 8), (8, 5)])  # K < 2M: no transpose in the author's NS; K > 2M: transpose
def test_muon_matches_the_authors_optimizer_step_for_step(K, twoM):
    _muon_vs_port(K, twoM, torch.float64, steps=15, tol=dict(rtol=1e-11, atol=1e-12))


def test_muon_float32_matches_the_port_closely():
    _muon_vs_port(6, 10, torch.float32, steps=10, tol=dict(rtol=1e-5, atol=1e-6))


def test_muon_first_step_closed_form():
    # step 1: m = 0.01 g, so W <- (1 - lr wd) W - lr NS5(0.01 g^T)^T (NS5 is scale-free up to its 1e-7)
    g = torch.Generator().manual_seed(9)
    W0 = torch.randn(2, 6, 4, generator=g, dtype=torch.float64)
    grad = torch.randn(2, 6, 4, generator=g, dtype=torch.float64)
    lr, wd = torch.tensor([0.1, 0.02], dtype=torch.float64), torch.tensor([0.5, 0.0], dtype=torch.float64)
    W = W0.clone()
    BatchedOptimizer("muon", [W], lr, wd, muon_layout=("transposed",)).step([grad.clone()])
    for r in range(2):
        U, D, Vh = torch.linalg.svd(grad[r].T, full_matrices=False)
        x = D / (D.norm() + 1e-7 / 0.01)
        orth = (U @ torch.diag(_ns_polynomial(x)) @ Vh).T
        expected = (1 - lr[r] * wd[r]) * W0[r] - lr[r] * orth
        torch.testing.assert_close(W[r], expected, rtol=1e-10, atol=1e-12)


def test_muon_layouts_as_is_and_transposed_differ_only_by_orientation():
    g = torch.Generator().manual_seed(5)
    P0 = torch.randn(2, 5, 7, generator=g, dtype=torch.float64)
    grads = [torch.randn(2, 5, 7, generator=g, dtype=torch.float64) for _ in range(4)]
    a, b = P0.clone(), P0.mT.clone()
    lr, wd = torch.tensor([0.05, 0.1], dtype=torch.float64), torch.tensor([0.1, 0.0], dtype=torch.float64)
    oa = BatchedOptimizer("muon", [a], lr, wd, muon_layout=("as_is",))
    ob = BatchedOptimizer("muon", [b], lr, wd, muon_layout=("transposed",))
    for gr in grads:
        oa.step([gr.clone()])
        ob.step([gr.mT.clone()])
    torch.testing.assert_close(a, b.mT, rtol=1e-12, atol=1e-13)


def test_muon_layout_errors():
    lr, wd = torch.tensor([1e-3]), torch.tensor([0.0])
    W, V = torch.zeros(1, 4, 3), torch.zeros(1, 3, 2)
    for bad, match in [(None, "muon_layout"), (("transposed",), "muon_layout"), (("sideways", None), "muon_layout")]:
        with pytest.raises(ValueError, match=match):
            BatchedOptimizer("muon", [W, V], lr, wd, muon_layout=bad)
    with pytest.raises(ValueError, match="muon_layout: a Muon parameter"):
        BatchedOptimizer("muon", [torch.zeros(1, 4)], lr, wd, muon_layout=("as_is",))
    with pytest.raises(ValueError, match="muon_layout: only for"):
        BatchedOptimizer("adam", [W, V], lr, wd, muon_layout=("transposed", None))


@pytest.mark.parametrize("name", ["adam", "adamw"])
def test_warmup_and_betas_match_torch_with_the_med_authors_lambda_lr(name):
    """The MED authors' setup: torch AdamW(betas=(0.9, 0.98)) with LambdaLR(min(step / 10, 1)) stepped after every
    optimizer step (step 1 has lr 0); per run its own lr and weight decay."""
    lrs, wds = [1e-2, 3e-3], [1.0, 0.1]
    g = torch.Generator().manual_seed(0)
    p0 = torch.randn(2, 5, 3, generator=g, dtype=torch.float64)
    grads = [torch.randn(2, 5, 3, generator=g, dtype=torch.float64) for _ in range(25)]
    p = p0.clone()
    opt = BatchedOptimizer(name, [p], torch.tensor(lrs, dtype=torch.float64), torch.tensor(wds, dtype=torch.float64),
                           betas=(0.9, 0.98), warmup_steps=10)
    cls = torch.optim.AdamW if name == "adamw" else torch.optim.Adam
    refs = [p0[r].clone().requires_grad_(True) for r in range(2)]
    topts = [cls([refs[r]], lr=lrs[r], weight_decay=wds[r], betas=(0.9, 0.98)) for r in range(2)]
    scheds = [torch.optim.lr_scheduler.LambdaLR(o, lambda step: min(step / 10, 1)) for o in topts]
    for t, gr in enumerate(grads):
        opt.step([gr.clone()])
        for r in range(2):
            refs[r].grad = gr[r].clone()
            topts[r].step()
            scheds[r].step()
        for r in range(2):
            torch.testing.assert_close(p[r], refs[r].detach(), rtol=1e-12, atol=1e-14, msg=f"step {t + 1} run {r}")
        if t == 0 and name == "adamw":
            assert torch.equal(p, p0)  # lr 0 at the first step: no update, no decay
    with pytest.raises(ValueError, match=r"^warmup_steps: must be an integer >= 0"):
        BatchedOptimizer("adamw", [p], torch.ones(2), torch.ones(2), warmup_steps=-1)


@pytest.mark.parametrize("name", ["adam", "adamw"])
@pytest.mark.parametrize("warmup", [0, 3])
def test_adam_with_scratch_buffers_equals_the_replaced_code_bit_for_bit(name, warmup):
    # issue 13: Adam writes its temporaries into two kept buffers; the old code (tests/oracles_fast.py) made new
    # tensors. Same elementwise kernels on the same operands, so the same bits: float32, 50 steps, per-run lr / wd.
    from oracles_fast import _Old

    g = torch.Generator().manual_seed(5)
    lr, wd = torch.tensor([1e-2, 3e-3, 1e-1]), torch.tensor([2e-4, 0.0, 0.3])
    init = [torch.randn(3, *s, generator=g) for s in [(7, 5), (33,), (2, 9, 4)]]
    new, old = [p.clone() for p in init], [p.clone() for p in init]
    o_new = BatchedOptimizer(name, new, lr, wd, warmup_steps=warmup)
    o_old = BatchedOptimizer(name, old, lr, wd, warmup_steps=warmup)
    for step in range(50):
        grads = [torch.randn(p.shape, generator=g) * (1 + step % 5) for p in init]
        keep = [gr.clone() for gr in grads]
        o_new.step([gr.clone() for gr in grads])
        _Old.opt_step(o_old, [gr.clone() for gr in grads])
        for a, b in zip(new, old):
            assert torch.equal(a, b), f"{name}: step {step + 1}"
        assert all(torch.equal(a, b) for a, b in zip(grads, keep))  # the caller's grads were clones: untouched
    assert all((a - b).abs().max() > 1e-3 for a, b in zip(new, init))
    assert all(torch.equal(a, b) for a, b in zip(o_new._m + o_new._v, o_old._m + o_old._v))
    # the scratch buffers are the optimizer's own, never a parameter, gradient or moment
    bufs = [t for pair in o_new._buf for t in pair]
    assert len(bufs) == 6
    owned = new + o_new._m + o_new._v
    assert not any(b.data_ptr() == t.data_ptr() for b in bufs for t in owned)
